"""`a2a-bridges scenarios list|run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

import a2a_bridges.scenarios.console
from a2a_bridges.cli import main
from a2a_bridges.scenarios import Contains, Participant, Report, Scenario, Step, bundled
from a2a_bridges.scenarios.console import matrix_table
from a2a_bridges.scenarios.frameworks import installed, participant
from a2a_bridges.scenarios.model import messages


def test_list_names_every_bundled_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "list"]) == 0
    out = capsys.readouterr().out
    for name in bundled():
        assert name in out


@pytest.mark.parametrize("argv", [["scenarios", "run", "nope"], ["scenarios", "run"]])
def test_bad_choice_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("a2a-bridges: error: ") and err.count("\n") == 1


def test_unknown_name_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    main(["scenarios", "run", "clarify", "nope"])
    assert "unknown scenario 'nope': choose from code-review" in capsys.readouterr().err


def test_run_shows_the_matrix_and_writes_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # each cell on its lines
    assert main(["scenarios", "run", "clarify", "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Interoperability matrix" in out and "clarify" in out
    assert "every expectation held" in out
    if any(not participant(f).asks for f in installed()):
        assert "n/a: clarify" in out  # servers that cannot ask
    assert json.loads((tmp_path / "clarify.json").read_text())["status"] == "passed"
    assert (tmp_path / "report.html").exists() and (tmp_path / "report.md").exists()


def test_a_failed_expectation_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    doomed = Scenario(
        name="doomed",
        title="An expectation that cannot hold",
        description="The echo never says this.",
        participants=(
            Participant("echo", "functions", "server"),
            Participant("asker", "functions", "caller"),
        ),
        steps=(Step("asker", ("echo",), messages("echo hi"), expect=(Contains("bye"),)),),
    )
    monkeypatch.setattr(a2a_bridges.scenarios.console, "bundled", lambda: {"doomed": doomed})
    monkeypatch.setattr(a2a_bridges.scenarios.runner, "resolve", lambda name: doomed)
    assert main(["scenarios", "run", "doomed"]) == 1
    out = capsys.readouterr().out
    assert "1 step(s) failed" in out and "answer contains 'bye'" in out


def _grid(table: str) -> dict[str, list[str]]:
    """A printed matrix as row → each cell's lines joined."""
    grid: dict[str, list[str]] = {}
    row = ""
    for line in table.splitlines():
        columns = [c.strip() for c in line.split("│")[1:-1]]
        if not columns:
            continue
        row = columns[0] or row  # a cell's second line has no row name
        before = grid.get(row, [""] * (len(columns) - 1))
        grid[row] = [f"{a} {b}".strip() for a, b in zip(before, columns[1:], strict=True)]
    return grid


def test_the_matrix_tells_skipped_from_not_applying(recorded: Report) -> None:
    console = Console(record=True, width=160)
    console.print(matrix_table(recorded))
    grid = _grid(console.export_text())
    # alpha's clarifier lacked a package; beta cannot ask; nothing calls from beta; no gamma.
    assert grid["alpha"] == ["✓ 1/1 skipped: clarify", "n/a: single, clarify", "unavailable"]
    assert grid["beta"] == ["✓ 1/1 n/a: clarify", "n/a: single, clarify", "unavailable"]
    assert grid["gamma"] == ["unavailable"] * 3


def test_a_scenario_outside_the_matrix_prints_no_matrix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["scenarios", "run", "code-review"])
    out = capsys.readouterr().out
    assert "code-review" in out and "Interoperability matrix" not in out

"""`a2a-bridges scenarios list|run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import scenarios.console
from bridges.cli import main
from scenarios import Contains, Participant, Scenario, Step, bundled
from scenarios.model import messages


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
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["scenarios", "run", "clarify", "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Interoperability matrix" in out and "clarify" in out
    assert "every expectation held" in out
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
    monkeypatch.setattr(scenarios.console, "bundled", lambda: {"doomed": doomed})
    monkeypatch.setattr(scenarios.runner, "resolve", lambda name: doomed)
    assert main(["scenarios", "run", "doomed"]) == 1
    out = capsys.readouterr().out
    assert "1 step(s) failed" in out and "answer contains 'bye'" in out

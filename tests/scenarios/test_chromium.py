"""The HTML report opened in headless Chromium, as a reader sees it: the verdict, the matrix
and the failures in the first screen; every detail folded; diagrams that fit the page; labels
without Markdown; the page's script runs without an error (`data-status="ready"`). The same
for `check`'s report, whose matrix has a column per caller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from a2a_bridges.scenarios import (
    Contains,
    Participant,
    Report,
    Scenario,
    Step,
    check,
    run,
    write_report,
)
from a2a_bridges.scenarios.browser import SIZE, chromium, measure, screenshot
from a2a_bridges.scenarios.model import messages
from a2a_bridges.testing import running
from a2a_bridges.testing.quirky import quirky_app

pytestmark = pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed")

DOOMED = Scenario(
    name="doomed",
    title="An expectation that cannot hold",
    description="The echo never says this; its code comes in a Markdown fence.",
    participants=(
        Participant("echo", "functions", "server"),
        Participant("asker", "functions", "caller"),
    ),
    steps=(
        Step(
            "asker",
            ("echo",),
            messages("echo ```python\nprint('hi')\n```"),
            expect=(Contains("bye"),),
            label="single",
        ),
    ),
)

FIRST_SCREEN = """
const box = (el) => el.getBoundingClientRect();
const matrix = document.querySelector("table.matrix");
const failures = [...document.querySelectorAll("#failures li")];
return {
  status: document.body.dataset.status,
  diagrams: Number(document.body.dataset.diagrams),
  height: innerHeight,
  pageHeight: document.documentElement.scrollHeight,
  overflowX: document.documentElement.scrollWidth - innerWidth,
  verdict: document.querySelector(".verdict").innerText,
  verdictBottom: box(document.querySelector(".verdict")).bottom,
  matrixBottom: box(matrix).bottom,
  matrixRight: box(matrix).right,
  failures: failures.map((li) => [li.innerText, box(li).bottom]),
  open: document.querySelectorAll("details[open]").length,
  folded: document.querySelectorAll("details.scenario").length,
  diagramsShown: [...document.querySelectorAll("svg.sequence")].filter(
    (s) => s.checkVisibility()).length,
};
"""

OPENED = """
document.querySelectorAll("details").forEach((d) => { d.open = true; });
const svgs = [...document.querySelectorAll("svg.sequence")];
return {
  overflowX: document.documentElement.scrollWidth - innerWidth,
  diagrams: svgs.map((s) => [s.getBoundingClientRect().width, s.parentElement.clientWidth,
                             s.parentElement.scrollWidth - s.parentElement.clientWidth]),
  labels: [...document.querySelectorAll("svg.sequence text")].map((t) => t.textContent),
  answers: [...document.querySelectorAll("tr.step details summary")].map((s) => s.innerText),
};
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    """A matrix scenario that holds and one that fails, written as a report."""
    report = run(["clarify", DOOMED])
    folder = tmp_path_factory.mktemp("report")
    write_report(report, folder)
    return report, folder / "report.html"


def test_the_first_screen_shows_the_verdict_the_matrix_and_the_failures(
    written: tuple[Report, Path],
) -> None:
    report, page = written
    seen: dict[str, Any] = measure(page, FIRST_SCREEN)
    assert seen["status"] == "ready", seen["status"]
    assert seen["diagrams"] == len(report.scenarios)
    assert seen["verdict"].startswith("failed 2 scenarios, ")
    assert "1 failed" in seen["verdict"]
    # Above the fold, without scrolling either way: the verdict, the matrix, the failure.
    assert seen["overflowX"] <= 0
    assert seen["matrixBottom"] < seen["height"] and seen["matrixRight"] <= SIZE[0]
    ((line, bottom),) = seen["failures"]
    assert line.startswith("doomed #0 single (asker → echo): ") and "answer contains 'bye'" in line
    assert bottom < seen["height"]
    # Details are folded: no diagram shows, and the page is a few screens, not dozens.
    assert seen["open"] == 0 and seen["folded"] == len(report.scenarios)
    assert seen["diagramsShown"] == 0
    assert seen["pageHeight"] < 2 * seen["height"]


def test_opened_details_fit_the_page_and_read_as_text(written: tuple[Report, Path]) -> None:
    _, page = written
    seen: dict[str, Any] = measure(page, OPENED)
    assert seen["overflowX"] <= 0
    for width, room, overflow in seen["diagrams"]:
        assert width <= room and overflow <= 0  # the diagram fits: no scrolling sideways
    assert seen["labels"] and not [label for label in seen["labels"] if "```" in label]
    assert any("print('hi')" in label for label in seen["labels"])
    assert not [a for a in seen["answers"] if a.startswith("answer 0")]
    assert any(a.startswith("answer to “echo print('hi')”") for a in seen["answers"])


def test_a_screenshot_of_the_first_screen(written: tuple[Report, Path], tmp_path: Path) -> None:
    _, page = written
    shot = screenshot(page, tmp_path / "shot.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_a_check_report_shows_its_matrix_and_diagnosis_in_the_first_screen(
    tmp_path: Path,
) -> None:
    with running(quirky_app("status-repeat")) as url:
        report = check(url, oversized_bytes=64 * 1024)
    write_report(report, tmp_path)
    seen: dict[str, Any] = measure(tmp_path / "report.html", FIRST_SCREEN)
    assert seen["status"] == "ready", seen["status"]
    assert seen["verdict"].startswith(f"failed {len(report.scenarios)} callers, ")
    assert seen["overflowX"] <= 0 and seen["matrixRight"] <= SIZE[0]
    assert seen["matrixBottom"] < seen["height"]
    assert seen["failures"] and seen["failures"][0][1] < seen["height"]
    first = seen["failures"][0][0]
    assert "known quirk status-repeat: the answer is repeated in the status message" in first
    assert seen["open"] == 0 and seen["diagramsShown"] == 0

"""The benchmarks' page: each ratio judged against its target, the right way round."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import report

RESULT = {
    "title": "Throughput",
    "generated": "2026-12-02",
    "command": "python -m benchmarks.throughput",
    "seconds": 1.0,
    "environment": {"python": "3.11"},
    "tables": [{"caption": "cells", "columns": ["server", "req/s"], "rows": [["ours", 9]]}],
    "ratios": [
        {"label": "ours / floor", "ratio": 0.97, "target": 0.95, "note": ""},
        {"label": "ours / peer", "ratio": 0.9, "target": 1.0, "note": ""},
        {"label": "wrapper / bare", "ratio": 1.2, "target": 1.1, "note": "lower is better"},
        {"label": "start-up", "ratio": 1.5, "target": None, "note": "lower is better"},
    ],
    "notes": ["a | note"],
}


def test_ratios_are_judged_the_way_round_their_note_says() -> None:
    held = [r.held for r in report.ratios(RESULT)]
    assert held == [True, False, False, None]


def test_the_page_and_the_chart(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "throughput.json").write_text(json.dumps(RESULT))
    report.main(["--results", str(results), "--out", str(tmp_path)])
    page = (tmp_path / "benchmarks.md").read_text()
    assert "1 targets hold, 2 miss; 1 ratios have no target." in page
    assert "| ours / floor | 0.97 | holds (≥ 0.95) |" in page
    assert "| wrapper / bare | 1.2 | misses (≤ 1.1) |" in page
    assert "- a \\| note" in page
    svg = (tmp_path / "benchmarks.svg").read_text()
    assert svg.count('fill="#2e9d4f"') == 1 and svg.count('fill="#d0453a"') == 2

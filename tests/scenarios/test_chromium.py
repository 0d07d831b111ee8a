"""The HTML report opened in headless Chromium: the diagrams draw and the page's script runs
without an error (it sets `data-status="ready"` only then)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from scenarios import Report

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


@pytest.mark.scenario("clarify")
def test_report_renders_in_chromium(scenario_report: Report, tmp_path: Path) -> None:
    scenario_report.write(tmp_path / "report")
    page = (tmp_path / "report" / "report.html").as_uri()
    dom = _chromium(tmp_path, "--dump-dom", page).stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert 'data-status="ready"' in body.group(0), body.group(0)
    assert f'data-diagrams="{len(scenario_report.scenarios)}"' in body.group(0)
    assert dom.count('<svg class="sequence"') == len(scenario_report.scenarios)
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, "--window-size=1200,1600", f"--screenshot={shot}", page)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

"""A report as a reader sees it: Debian's headless Chromium takes its screenshot, or measures
what a page shows (the report's tests, and the picture in docs/)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from html import unescape
from pathlib import Path
from typing import Any

__all__ = [
    "SIZE",
    "chromium",
    "measure",
    "screenshot",
]

SIZE = (1280, 800)
"""The window a reader's laptop shows: width, height in px."""


def chromium() -> Path | None:
    """Chromium's executable, when it is installed (`apt-get install chromium`)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(found) if found else None


def _run(*args: str, size: tuple[int, int] = SIZE) -> str:
    executable = chromium()
    if executable is None:
        raise RuntimeError("chromium is not installed: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="a2a-chromium-") as profile:
        done = subprocess.run(
            [
                str(executable),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={size[0]},{size[1]}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
    return done.stdout


def screenshot(page: Path, png: Path, *, size: tuple[int, int] = SIZE) -> Path:
    """A PNG of what a window of `size` shows of `page` when it opens."""
    _run(f"--screenshot={png.resolve()}", page.resolve().as_uri(), size=size)
    return png


def measure(page: Path, script: str, *, size: tuple[int, int] = SIZE) -> Any:
    """What `script` (JavaScript whose last value is JSON-ready) finds in `page` once its own
    scripts ran, in a window of `size`; run on a copy of the page, the page left as it was."""
    html = page.read_text()
    probe = (
        "<script>document.body.setAttribute('data-measured', "
        f"JSON.stringify((function () {{ {script} }})()));</script>"
    )
    copy = page.with_name(f".measured-{page.name}")
    copy.write_text(html.replace("</body>", probe + "</body>"))
    try:
        dom = _run("--dump-dom", copy.resolve().as_uri(), size=size)
    finally:
        copy.unlink()
    found = re.search(r'data-measured="([^"]*)"', dom)
    if found is None:
        raise RuntimeError("the page's measurement did not run")
    return json.loads(unescape(found.group(1)))

"""Writes docs/check-report.png: the first screen of `a2a-bridges check`'s HTML report, as
headless Chromium shows it (`apt-get install chromium`).

    python docs/check_report.py [--quirk NAME] [--out docs/check-report.png]

The server checked is a bare a2a-sdk server with one known quirk (by default the one
fasta2a 2.1.1 and ag2 1.2.1 have: the whole answer again at the end of a stream), served on
loopback, so the picture shows what a failing cell and its diagnosis look like.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from a2a_bridges.scenarios import check, write_report
from a2a_bridges.scenarios.browser import screenshot
from a2a_bridges.testing import running
from a2a_bridges.testing.quirky import QUIRKS, quirky_app

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Check a quirky server, write its report, and take the picture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quirk", default="replace-artifact", choices=sorted(QUIRKS))
    parser.add_argument("--out", type=Path, default=HERE / "check-report.png")
    args = parser.parse_args()
    with running(quirky_app(args.quirk)) as url:
        report = check(url, oversized_bytes=64 * 1024)
    with tempfile.TemporaryDirectory(prefix="a2a-check-report-") as folder:
        write_report(report, folder)
        screenshot(Path(folder) / "report.html", args.out, size=(1280, 900))
    print(f"{args.out} ({len(report.failures())} failing checks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

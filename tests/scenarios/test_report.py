"""The report folder: JSON transcripts, Markdown with Mermaid, one self-contained HTML page."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from a2a_bridges.scenarios import Report, write_report
from a2a_bridges.scenarios.frameworks import frameworks
from a2a_bridges.scenarios.report import markdown, page

VOID = {"meta", "br", "input", "img", "hr", "link"}


class _Balance(HTMLParser):
    """Checks that every HTML element is closed in order, and collects external references."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


@pytest.fixture
def written(scenario_report: Report, tmp_path: Path) -> Path:
    write_report(scenario_report, tmp_path)
    return tmp_path


@pytest.mark.scenario("mesh")
def test_json_transcripts(scenario_report: Report, written: Path) -> None:
    data = json.loads((written / "mesh.json").read_text())
    assert data["name"] == "mesh" and data["status"] == scenario_report["mesh"].status
    methods = {e["method"] for e in data["exchanges"]}
    assert "SendStreamingMessage" in methods and "card" in methods
    streamed = [e for e in data["exchanges"] if e["method"] == "SendStreamingMessage"]
    assert all(e["caller_framework"] and e["server_framework"] for e in streamed)
    assert all(e["events"] and e["first_byte"] >= e["started"] for e in streamed)
    summary = json.loads((written / "summary.json").read_text())
    assert summary["ok"] == scenario_report.ok
    assert len(summary["matrix"]) == len(frameworks()) ** 2
    assert summary["frameworks"] == list(frameworks())
    assert summary["environment"]["python"] and summary["environment"]["a2a-sdk"]


@pytest.mark.scenario("mesh")
def test_markdown_has_the_matrix_and_a_mermaid_diagram(written: Path) -> None:
    text = (written / "report.md").read_text()
    assert "| server \\ caller | " + " | ".join(frameworks()) + " |" in text
    blocks = re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    diagram = blocks[0]
    assert diagram.startswith("sequenceDiagram\n")
    assert "participant p0 as fn-agent (functions)" in diagram
    assert re.search(r"p\d+->>p\d+: stream: ", diagram)
    assert re.search(r"p\d+-->>p\d+: completed", diagram)


@pytest.mark.scenario("mesh")
def test_html_page_is_self_contained_and_well_formed(
    scenario_report: Report, written: Path
) -> None:
    html = (written / "report.html").read_text()
    checker = _Balance()
    checker.feed(html)
    assert checker.problems == [] and checker.stack == []
    assert checker.external == [], "the page must not load anything"
    svgs = re.findall(r'<svg class="sequence".*?</svg>', html, flags=re.S)
    assert len(svgs) == len(scenario_report.scenarios)
    root = ET.fromstring(svgs[0])  # the diagram is valid XML
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f".//{ns}line")) > 10
    labels = [t.text or "" for t in root.iter(f"{ns}text")]
    assert any(label.startswith("stream: ") for label in labels)
    assert "Interoperability matrix" in html and 'data-status="loading"' in html


def test_markdown_tells_skipped_from_not_applying_from_unavailable(recorded: Report) -> None:
    text = markdown(recorded)
    assert "| **alpha** | ✓single ·clarify | -single -clarify | unavailable |" in text
    assert "| **beta** | ✓single -clarify | -single -clarify | unavailable |" in text
    assert "| **gamma** | unavailable | unavailable | unavailable |" in text
    assert "Unavailable here: gamma: no gamma." in text


def test_the_page_renders_what_was_recorded(recorded: Report) -> None:
    html = page(recorded)
    assert '<span class="cap skipped" title="skipped">· clarify</span>' in html
    assert '<span class="cap na" title="n/a">- clarify</span>' in html
    assert '<td class="skipped" title="no gamma">unavailable</td>' in html
    assert "needs x" in html  # the cast's problems, as recorded


def test_a_run_outside_the_matrix_has_no_matrix(recorded: Report) -> None:
    for step in recorded.scenarios[0].steps:
        step.label = "story"
    assert recorded.capabilities() == []
    assert "No scenario of this run is part of the interoperability matrix." in markdown(recorded)
    assert '<table class="matrix">' not in page(recorded)

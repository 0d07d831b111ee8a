"""Writes a report folder: JSON transcripts, `report.md` (Mermaid diagrams) and one
self-contained `report.html` (the matrix, and each conversation drawn and readable)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict
from html import escape
from pathlib import Path
from typing import Any

from a2a_bridges.scenarios.diagram import colours, mermaid, one_line, svg
from a2a_bridges.scenarios.results import Cell, Report, ScenarioResult, StepResult
from a2a_bridges.scenarios.transcript import Exchange
from a2a_bridges.testing.participant import Answer

__all__ = [
    "LEGEND",
    "MARK",
    "NO_MATRIX",
    "SCRIPT",
    "STYLE",
    "markdown",
    "page",
    "write_report",
]

MARK = {"passed": "✓", "failed": "✗", "skipped": "·", "n/a": "-"}
LEGEND = (
    "Rows serve, columns call. ✓ passed, ✗ failed, · skipped (something it needs is not "
    "installed), - does not apply to the pair."
)
NO_MATRIX = "No scenario of this run is part of the interoperability matrix."


def write_report(report: Report, directory: str | Path) -> list[Path]:
    """Write the JSON transcripts, `summary.json`, `report.md` and `report.html` into
    `directory`; return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for result in report.scenarios:
        path = directory / f"{result.name}.json"
        path.write_text(json.dumps(result.to_dict(), indent=2, default=str, ensure_ascii=False))
        written.append(path)
    for name, text in (
        ("summary.json", json.dumps(report.to_dict(), indent=2, ensure_ascii=False)),
        ("report.md", markdown(report)),
        ("report.html", page(report)),
    ):
        (directory / name).write_text(text)
        written.append(directory / name)
    return written


def _marks(cell: Cell, capabilities: list[str]) -> list[tuple[str, str]]:
    """(capability, how it went) for each capability of the matrix: `n/a` where none applied."""
    return [(c, cell.results.get(c, "n/a")) for c in capabilities]


def _unavailable(report: Report) -> str:
    return "; ".join(f"{f}: {why}" for f, why in report.missing.items())


# --- Markdown ---


def _cell_text(cell: Cell, capabilities: list[str]) -> str:
    if cell.missing is not None:
        return "unavailable"
    return " ".join(f"{MARK[how]}{c}" for c, how in _marks(cell, capabilities))


def _markdown_matrix(report: Report) -> list[str]:
    capabilities = report.capabilities()
    if not capabilities:
        return [NO_MATRIX]
    columns = report.columns
    lines = [
        report.legend or LEGEND,
        "",
        "| server \\ caller | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    cells = report.matrix()
    for server in report.rows:
        row = [_cell_text(cells[(server, caller)], capabilities) for caller in columns]
        lines.append(f"| **{server}** | " + " | ".join(row) + " |")
    if report.missing:
        lines += ["", f"Unavailable here: {_unavailable(report)}."]
    return lines


def _markdown_scenario(result: ScenarioResult) -> list[str]:
    counts = result.counts()
    lines = [
        f"## {result.title}",
        "",
        f"`{result.name}`: **{result.status}** ({counts['passed']} passed, {counts['failed']} "
        f"failed, {counts['skipped']} skipped, {result.duration_ms / 1000:.1f} s)"
        + (f": {result.reason}" if result.reason else ""),
        "",
        result.description,
        "",
    ]
    lines += [f"> {remark}" for remark in result.remarks]
    lines += ["| # | step | caller → server | status | detail |", "|---|---|---|---|---|"]
    for step in result.steps:
        who = f"{step.caller} → {', '.join(step.servers)}"
        detail = step.reason.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {step.index} | {step.label} | {who} | {step.status} | {detail} |")
    lines += ["", "```mermaid", mermaid(result).rstrip(), "```", ""]
    return lines


def markdown(report: Report) -> str:
    """The report as Markdown: summary, matrix, and each scenario with its Mermaid diagram."""
    env = ", ".join(f"{k} {v}" for k, v in report.environment.items())
    lines = [
        f"# {report.title}",
        "",
        f"{'All expectations held' if report.ok else 'Some expectations failed'} "
        f"({report.duration_ms / 1000:.1f} s)." + (f" {env}." if env else ""),
        "",
        "## Interoperability matrix",
        "",
        *_markdown_matrix(report),
        "",
    ]
    if report.findings:
        lines += ["## Known quirks seen", ""]
        lines += [f"- **{f.quirk}**: {f.text} ({', '.join(f.seen)})" for f in report.findings]
        lines.append("")
    for result in report.scenarios:
        lines += _markdown_scenario(result)
    return "\n".join(lines)


# --- HTML ---

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2937;background:#f8fafc}
header,main{max-width:1200px;margin:0 auto;padding:12px 24px}
header{padding-bottom:0}h1{margin:6px 0 2px;font-size:24px}h2{margin:22px 0 6px;font-size:18px}
h3{margin:14px 0 6px;font-size:15px}h4{margin:8px 0 2px}
.verdict{font-size:15px;margin:4px 0}.env{font-size:12px;margin:2px 0}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px;color:#fff}
.badge.passed{background:#15803d}.badge.failed{background:#b91c1c}.badge.skipped{background:#9ca3af}
table{border-collapse:collapse;margin:6px 0;background:#fff}
td,th{border:1px solid #e5e7eb;padding:4px 8px;vertical-align:top;text-align:left}
table.matrix td{min-width:84px}table.matrix th{overflow-wrap:anywhere}
table.matrix td.passed{background:#dcfce7}
table.matrix td.failed{background:#fee2e2}table.matrix td.skipped{background:#f3f4f6;color:#6b7280}
.held{font-weight:600;margin-right:4px}td.passed .held{color:#15803d}td.failed .held{color:#b91c1c}
.cap{display:inline-block;margin:0 3px;font-size:12px}.cap.failed{color:#b91c1c;font-weight:600}
.cap.passed{color:#15803d}.cap.skipped{color:#6b7280}.cap.na{color:#9ca3af}
.fw{font-weight:600}
ol.failures{margin:4px 0;padding-left:22px}ol.failures li{margin:3px 0}
.failures .why{color:#7f1d1d}.quirk{color:#92400e}
p.all-held{color:#15803d;font-weight:600}
tr.step.failed td{background:#fef2f2}
details.scenario{background:#fff;border:1px solid #e5e7eb;border-radius:6px;margin:6px 0;
padding:4px 10px}
details.scenario>summary{font-weight:600;padding:2px 0}
.diagram{background:#fff;border:1px solid #e5e7eb;padding:4px}
svg.sequence{display:block;max-width:100%;height:auto}
svg.sequence text{font:12px system-ui,sans-serif;text-anchor:middle;fill:#111827}
svg.sequence text.name{fill:#fff;font-weight:600}svg.sequence text.fw{fill:#f3f4f6;font-size:11px}
svg.sequence line.life{stroke:#cbd5e1;stroke-dasharray:4 4}
svg.sequence .arrow line{stroke:#334155;stroke-width:1.4}
svg.sequence .response line{stroke-dasharray:5 3}
svg.sequence .failed line{stroke:#b91c1c}svg.sequence .failed text{fill:#b91c1c}
svg.sequence marker path{fill:#334155}
svg.sequence .note rect{fill:#fef9c3;stroke:#eab308}
pre{background:#f1f5f9;padding:6px;overflow:auto;max-height:320px;margin:4px 0;
white-space:pre-wrap;word-break:break-word}
details{margin:2px 0}summary{cursor:pointer}
.muted{color:#6b7280}.checks{margin:0;padding-left:18px}
body.only-failures tr.step:not(.failed){display:none}
"""

SCRIPT = """
(function () {
  var body = document.body;
  window.addEventListener("error", function (e) { body.dataset.status = "error: " + e.message; });
  function reveal(id) {
    var target = id && document.getElementById(id);
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    if (target) target.scrollIntoView();
  }
  try {
    var svgs = document.querySelectorAll("svg.sequence");
    var drawn = 0;
    svgs.forEach(function (s) {
      var box = s.getBBox();
      if (box.width > 0 && box.height > 0 && s.querySelectorAll("rect").length > 0) drawn++;
    });
    if (drawn !== svgs.length) throw new Error(drawn + " of " + svgs.length + " diagrams drew");
    document.getElementById("only-failures").addEventListener("change", function (e) {
      body.classList.toggle("only-failures", e.target.checked);
    });
    document.getElementById("expand").addEventListener("click", function () {
      document.querySelectorAll("details").forEach(function (d) { d.open = true; });
    });
    window.addEventListener("hashchange", function () { reveal(location.hash.slice(1)); });
    reveal(location.hash.slice(1));
    body.dataset.diagrams = String(drawn);
    body.dataset.status = "ready";
  } catch (e) {
    body.dataset.status = "error: " + e.message;
  }
})();
"""


def _badge(status: str) -> str:
    return f'<span class="badge {status}">{escape(status)}</span>'


def _css(how: str) -> str:
    return "na" if how == "n/a" else how


def _cell_title(cell: Cell, capabilities: list[str]) -> str:
    """Every capability of the cell and how it went, one a line, for the cell's tooltip."""
    return "\n".join(
        f"{MARK[how]} {c}"
        + (f": {cell.details[c]}" if how == "failed" and c in cell.details else "")
        for c, how in _marks(cell, capabilities)
    )


def _html_cell(cell: Cell, capabilities: list[str]) -> str:
    """How many capabilities held, then only those that did not: failed, skipped, n/a."""
    if cell.missing is not None:
        return f'<td class="skipped" title="{escape(cell.missing)}">unavailable</td>'
    ran = cell.ran(capabilities)
    failed = [c for c in ran if cell.results[c] == "failed"]
    held = f"{MARK['failed' if failed else 'passed']} {len(ran) - len(failed)}/{len(ran)}"
    caps = "".join(
        f'<span class="cap {_css(how)}" title="{escape(cell.details.get(c, how))}">'
        f"{MARK[how]} {c}</span>"
        for c, how in _marks(cell, capabilities)
        if how != "passed"
    )
    return (
        f'<td class="{cell.status}" title="{escape(_cell_title(cell, capabilities))}">'
        f'<span class="held">{held if ran else ""}</span>{caps}</td>'
    )


def _framework(name: str, colour: Mapping[str, str]) -> str:
    return f'<span class="fw" style="color:{colour.get(name, "#444")}">{escape(name)}</span>'


def _html_matrix(report: Report, colour: Mapping[str, str]) -> str:
    capabilities = report.capabilities()
    if not capabilities:
        return f'<p class="muted">{NO_MATRIX}</p>'
    cells = report.matrix()
    head = "".join(f"<th>{_framework(f, colour)}</th>" for f in report.columns)
    rows = "".join(
        f"<tr><th>{_framework(s, colour)}</th>"
        + "".join(_html_cell(cells[(s, c)], capabilities) for c in report.columns)
        + "</tr>"
        for s in report.rows
    )
    unavailable = (
        f'<p class="muted">Unavailable here: {escape(_unavailable(report))}.</p>'
        if report.missing
        else ""
    )
    return (
        '<table class="matrix"><tr><th>server \\ caller</th>'
        f"{head}</tr>{rows}</table>"
        f'<p class="muted">{escape(report.legend or LEGEND)} Capabilities: '
        f"{escape(', '.join(capabilities))}; hover a cell for each.</p>{unavailable}"
    )


def _step_id(result: ScenarioResult, step: StepResult) -> str:
    return f"{result.name}-step-{step.index}"


def _html_failures(report: Report) -> str:
    """Each failed step in one line, linked to its row in the details."""
    failed = report.failed_steps()
    if not failed:
        return '<p class="all-held" id="failures">No failures: every expectation held.</p>'
    items = "".join(
        f'<li><a href="#{escape(_step_id(s, step))}">{escape(s.name)} #{step.index} '
        f"{escape(step.label)}</a> ({escape(step.caller)} → {escape(', '.join(step.servers))}): "
        f'<span class="why">{escape(step.reason)}</span></li>'
        for s, step in failed
    )
    return f'<ol class="failures" id="failures">{items}</ol>'


def _html_findings(report: Report) -> str:
    if not report.findings:
        return ""
    items = "".join(
        f'<li><b class="quirk">{escape(f.quirk)}</b>: {escape(f.text)} '
        f'<span class="muted">({escape(", ".join(f.seen))})</span></li>'
        for f in report.findings
    )
    return f'<h2>Known quirks seen</h2><ul class="findings">{items}</ul>'


def _html_scenarios(report: Report) -> str:
    noun = report.nouns[0]
    rows = "".join(
        f'<tr><td><a href="#{escape(s.name)}">{escape(s.name)}</a></td><td>{_badge(s.status)}</td>'
        f"<td>{s.counts()['passed']}</td><td>{s.counts()['failed']}</td>"
        f"<td>{s.counts()['skipped']}</td><td>{s.duration_ms / 1000:.1f} s</td>"
        f"<td class='muted'>{escape(s.reason)}</td></tr>"
        for s in report.scenarios
    )
    return (
        f'<table class="scenarios"><tr><th>{escape(noun)}</th><th>status</th><th>passed</th>'
        f"<th>failed</th><th>skipped</th><th>time</th><th>note</th></tr>{rows}</table>"
    )


def _json_block(value: Any) -> str:
    return f"<pre>{escape(json.dumps(value, indent=2, ensure_ascii=False, default=str))}</pre>"


def _answer_label(index: int, step: StepResult, answer: Answer) -> str:
    """What an answer is at a glance: to which message, how it ended, how it begins."""
    said = step.messages[index] if index < len(step.messages) else ""
    to = f" to “{one_line(said, 40)}”" if said else ""
    how = answer.state or ("error" if answer.error is not None else "")
    text = answer.error if answer.error is not None else answer.text
    begins = f": “{one_line(text, 60)}”" if text else ""
    return f"answer{to}" + (f" · {how}" if how else "") + begins


def _html_step(result: ScenarioResult, step: StepResult) -> str:
    checks = "".join(
        f"<li>{MARK[c.status]} {escape(c.description)}"
        + (f' <span class="muted">— {escape(c.detail)}</span>' if c.detail else "")
        + "</li>"
        for c in step.checks
    )
    answers = "".join(
        f"<details><summary>{escape(_answer_label(i, step, a))}</summary>"
        f"{_json_block(asdict(a))}</details>"
        for i, a in enumerate(step.answers)
    )
    said = "<br>".join(escape(one_line(m, 200)) for m in step.messages)
    reason = f'<div class="muted">{escape(step.reason)}</div>' if step.reason else ""
    count = f"{len(step.checks)} check" + ("" if len(step.checks) == 1 else "s")
    folded = f"<details><summary>{count}</summary><ul class='checks'>{checks}</ul></details>"
    return (
        f'<tr class="step {step.status}" id="{escape(_step_id(result, step))}">'
        f"<td>{step.index}</td><td>{escape(step.label)}</td>"
        f"<td>{escape(step.caller)} → {escape(', '.join(step.servers))}</td><td>{said}</td>"
        f"<td>{_badge(step.status)} {step.duration_ms:.0f} ms{reason}"
        f"{folded if checks else ''}{answers}</td></tr>"
    )


def _html_exchange(e: Exchange, t0: float) -> str:
    took = ((e.ended or e.started) - e.started) * 1000
    caller = f"{escape(e.caller)} ({escape(e.caller_framework or '?')})"
    line = (
        f"+{(e.started - t0) * 1000:.0f} ms · {caller} "
        f"→ {escape(e.server)} ({escape(e.server_framework)}) · <b>{escape(e.method)}</b> · "
        f"{escape(' → '.join(e.states) or str(e.status))} · {took:.0f} ms"
    )
    events = [
        {
            "t_ms": round((ev.t - e.started) * 1000, 1),
            "kind": ev.kind,
            "state": ev.state,
            "parts": ev.parts,
            **({"append": True} if ev.append else {}),
            **({"last_chunk": True} if ev.last_chunk else {}),
        }
        for ev in e.events
    ]
    request = {"context_id": e.context_id, "task_id": e.task_id, "parts": e.request_parts}
    error = f"<p><b>error:</b> {escape(e.error)}</p>" if e.error else ""
    return (
        f'<details class="exchange"><summary>{line}</summary>{error}'
        f"<h4>request</h4>{_json_block(request)}<h4>events</h4>{_json_block(events)}</details>"
    )


def _html_scenario(result: ScenarioResult, colour: Mapping[str, str], step: str) -> str:
    """One scenario, folded: its summary line, and inside it the cast, steps, diagram and
    every exchange."""
    cast = "".join(
        f"<tr><td>{escape(p.name)}</td><td>{_framework(p.framework, colour)}</td>"
        f"<td>{escape(p.role)}</td><td>{escape(p.behaviour)}</td>"
        f"<td>{escape(p.model or 'scripted')}</td>"
        f"<td>{escape(p.problem.reason if p.problem else '')}</td></tr>"
        for p in result.participants
    )
    steps = "".join(_html_step(result, s) for s in result.steps)
    t0 = result.started
    exchanges = "".join(_html_exchange(e, t0) for e in result.exchanges)
    notes = "".join(
        f"<li>+{(n.t - t0) * 1000:.0f} ms {escape(n.participant)}: {escape(n.text)}</li>"
        for n in result.notes
    )
    remarks = "".join(f"<p class='muted'>{escape(r)}</p>" for r in result.remarks)
    counts = result.counts()
    tally = f"{counts['passed']}/{len(result.steps)} {step}s passed"
    reason = f" — {escape(result.reason)}" if result.reason else ""
    return (
        f'<details class="scenario" id="{escape(result.name)}"><summary>'
        f"{escape(result.title)} {_badge(result.status)} "
        f'<span class="muted">{tally} · {result.duration_ms / 1000:.1f} s{reason}</span>'
        f"</summary><p><code>{escape(result.name)}</code> · {escape(result.description)}</p>"
        f"{remarks}<h3>Cast</h3><table><tr><th>participant</th><th>framework</th><th>role</th>"
        f"<th>behaviour</th><th>model</th><th>problem</th></tr>{cast}</table>"
        f"<h3>{escape(step.capitalize())}s</h3><table><tr><th>#</th><th>label</th><th>who</th>"
        "<th>messages</th>"
        f"<th>result</th></tr>{steps}</table>"
        f'<h3>Sequence</h3><div class="diagram">{svg(result, colour)}</div>'
        f"<details><summary>Mermaid source</summary><pre>{escape(mermaid(result))}</pre></details>"
        f"<details><summary>Exchanges ({len(result.exchanges)})</summary>{exchanges}</details>"
        + (f"<h3>Agents' notes</h3><ul>{notes}</ul>" if notes else "")
        + "</details>"
    )


def _verdict(report: Report) -> str:
    steps = [step for s in report.scenarios for step in s.steps]
    counts = {k: sum(1 for step in steps if step.status == k) for k in MARK if k != "n/a"}
    noun, step = report.nouns
    plural = "" if len(report.scenarios) == 1 else "s"
    return (
        f"{_badge('passed' if report.ok else 'failed')} {len(report.scenarios)} {noun}{plural}, "
        f"{len(steps)} {step}s: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped · {report.duration_ms / 1000:.1f} s"
    )


def page(report: Report) -> str:
    """The report as one self-contained HTML page: no external files, no library.

    The summary comes first (the verdict, the matrix, each failure in one line, the
    scenarios); each scenario's details follow, folded.
    """
    env = " · ".join(f"{escape(k)} {escape(v)}" for k, v in report.environment.items())
    colour = colours(list(dict.fromkeys((*report.rows, *report.columns))))
    generated = time.strftime("%Y-%m-%d %H:%M:%S")
    failed = len(report.failed_steps())
    noun, step = report.nouns
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head>"
        f'<body data-status="loading"><header><h1>{escape(report.title)}</h1>'
        f'<p class="verdict">{_verdict(report)}</p>'
        f'<p class="env muted">generated {generated} · {env}</p></header><main>'
        f'<section id="summary"><h2>Interoperability matrix</h2>{_html_matrix(report, colour)}'
        f"<h2>Failures ({failed})</h2>{_html_failures(report)}{_html_findings(report)}"
        f"<h2>{escape(noun.capitalize())}s</h2>{_html_scenarios(report)}</section>"
        f'<section id="details"><h2>Details</h2><p class="muted">Each {escape(noun)} folds its '
        f"cast, {escape(step)}s, sequence diagram and exchanges. "
        '<label><input type="checkbox" id="only-failures"> only failed steps</label> '
        '<button id="expand" type="button">open everything</button></p>'
        + "".join(_html_scenario(s, colour, step) for s in report.scenarios)
        + f"</section></main><script>{SCRIPT}</script></body></html>"
    )

"""Writes a report folder: JSON transcripts, `report.md` (Mermaid diagrams) and one
self-contained `report.html` (the matrix, and each conversation drawn and readable)."""

from __future__ import annotations

import json
import platform
import time
from html import escape
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from scenarios.diagram import COLOURS, mermaid, svg
from scenarios.model import FRAMEWORKS
from scenarios.participants import missing
from scenarios.results import Cell, Report, ScenarioResult, StepResult
from scenarios.transcript import Exchange

__all__ = ["environment", "markdown", "page", "write_report"]

MARK = {"passed": "✓", "failed": "✗", "skipped": "·"}
PACKAGES = ("a2a-sdk", "pydantic-ai-slim", "langchain-core", "autogen")


def environment() -> dict[str, str]:
    """Python and the protocol and framework packages, with their versions."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_report(report: Report, directory: Path) -> list[Path]:
    """Write every file of the report into `directory`; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for result in report.scenarios:
        path = directory / f"{result.name}.json"
        path.write_text(json.dumps(result.to_dict(), indent=2, default=str, ensure_ascii=False))
        written.append(path)
    summary = {**report.to_dict(), "environment": environment()}
    for name, text in (
        ("summary.json", json.dumps(summary, indent=2, ensure_ascii=False)),
        ("report.md", markdown(report)),
        ("report.html", page(report)),
    ):
        (directory / name).write_text(text)
        written.append(directory / name)
    return written


# --- Markdown ---


def _cell_text(cell: Cell, capabilities: list[str]) -> str:
    if cell.status == "skipped":
        return "not installed" if _absent(cell) else "skipped"
    return " ".join(f"{MARK[cell.results[c]]}{c}" for c in capabilities if c in cell.results)


def _absent(cell: Cell) -> bool:
    return missing(cell.server) is not None or missing(cell.caller) is not None


def _markdown_matrix(report: Report) -> list[str]:
    capabilities = report.capabilities()
    lines = [
        "| server \\ caller | " + " | ".join(FRAMEWORKS) + " |",
        "|---" * (len(FRAMEWORKS) + 1) + "|",
    ]
    cells = report.matrix()
    for server in FRAMEWORKS:
        row = [_cell_text(cells[(server, caller)], capabilities) for caller in FRAMEWORKS]
        lines.append(f"| **{server}** | " + " | ".join(row) + " |")
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
    env = ", ".join(f"{k} {v}" for k, v in environment().items())
    lines = [
        "# a2a-bridges scenarios",
        "",
        f"{'All expectations held' if report.ok else 'Some expectations failed'} "
        f"({report.duration_ms / 1000:.1f} s). {env}.",
        "",
        "## Interoperability matrix",
        "",
        "Rows serve, columns call. ✓ passed, ✗ failed, · skipped.",
        "",
        *_markdown_matrix(report),
        "",
    ]
    for result in report.scenarios:
        lines += _markdown_scenario(result)
    return "\n".join(lines)


# --- HTML ---

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2937;background:#f8fafc}
header,main{max-width:1200px;margin:0 auto;padding:16px 24px}
h1{margin:8px 0}h2{margin:28px 0 4px}h3{margin:16px 0 6px}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px;color:#fff}
.badge.passed{background:#15803d}.badge.failed{background:#b91c1c}.badge.skipped{background:#9ca3af}
tr.step.failed td{background:#fef2f2}
table{border-collapse:collapse;margin:8px 0;background:#fff}
td,th{border:1px solid #e5e7eb;padding:4px 8px;vertical-align:top;text-align:left}
table.matrix td{min-width:150px}table.matrix td.passed{background:#dcfce7}
table.matrix td.failed{background:#fee2e2}table.matrix td.skipped{background:#f3f4f6;color:#6b7280}
.cap{display:inline-block;margin:1px 3px;font-size:12px}.cap.failed{color:#b91c1c;font-weight:600}
.cap.passed{color:#15803d}.cap.skipped{color:#6b7280}
.fw{font-weight:600}
.diagram{overflow:auto;background:#fff;border:1px solid #e5e7eb;max-height:720px}
svg.sequence text{font:12px system-ui,sans-serif;text-anchor:middle;fill:#111827}
svg.sequence text.name{fill:#fff;font-weight:600}svg.sequence text.fw{fill:#f3f4f6;font-size:11px}
svg.sequence line.life{stroke:#cbd5e1;stroke-dasharray:4 4}
svg.sequence .arrow line{stroke:#334155;stroke-width:1.4}
svg.sequence .response line{stroke-dasharray:5 3}
svg.sequence .failed line{stroke:#b91c1c}svg.sequence .failed text{fill:#b91c1c}
svg.sequence marker path{fill:#334155}
svg.sequence .note rect{fill:#fef9c3;stroke:#eab308}
pre{background:#f1f5f9;padding:6px;overflow:auto;max-height:320px;margin:4px 0}
details{margin:2px 0}summary{cursor:pointer}
.muted{color:#6b7280}.checks{margin:0;padding-left:18px}
body.only-failures tr.step:not(.failed){display:none}
"""

SCRIPT = """
(function () {
  var body = document.body;
  window.addEventListener("error", function (e) { body.dataset.status = "error: " + e.message; });
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
      document.querySelectorAll("details.exchange").forEach(function (d) { d.open = true; });
    });
    body.dataset.diagrams = String(drawn);
    body.dataset.status = "ready";
  } catch (e) {
    body.dataset.status = "error: " + e.message;
  }
})();
"""


def _badge(status: str) -> str:
    return f'<span class="badge {status}">{escape(status)}</span>'


def _html_cell(cell: Cell, capabilities: list[str]) -> str:
    if cell.status == "skipped":
        text = "not installed" if _absent(cell) else "skipped"
        return f'<td class="skipped">{text}</td>'
    caps = "".join(
        f'<span class="cap {cell.results[c]}" title="{escape(cell.details.get(c, c))}">'
        f"{MARK[cell.results[c]]} {c}</span>"
        for c in capabilities
        if c in cell.results
    )
    return f'<td class="{cell.status}">{caps}</td>'


def _html_matrix(report: Report) -> str:
    capabilities = report.capabilities()
    cells = report.matrix()
    head = "".join(
        f'<th><span class="fw" style="color:{COLOURS[f]}">{f}</span></th>' for f in FRAMEWORKS
    )
    rows = "".join(
        f'<tr><th><span class="fw" style="color:{COLOURS[s]}">{s}</span></th>'
        + "".join(_html_cell(cells[(s, c)], capabilities) for c in FRAMEWORKS)
        + "</tr>"
        for s in FRAMEWORKS
    )
    return (
        '<table class="matrix"><tr><th>server \\ caller</th>'
        f"{head}</tr>{rows}</table>"
        '<p class="muted">Rows serve, columns call. Hover a capability for what went wrong.</p>'
    )


def _json_block(value: Any) -> str:
    return f"<pre>{escape(json.dumps(value, indent=2, ensure_ascii=False, default=str))}</pre>"


def _html_step(step: StepResult) -> str:
    checks = "".join(
        f"<li>{MARK[c.status]} {escape(c.description)}"
        + (f' <span class="muted">— {escape(c.detail)}</span>' if c.detail else "")
        + "</li>"
        for c in step.checks
    )
    answers = "".join(
        f"<details><summary>answer {i}</summary>{_json_block(a)}</details>"
        for i, a in enumerate(step.answers)
    )
    said = "<br>".join(escape(m) for m in step.messages)
    reason = f'<div class="muted">{escape(step.reason)}</div>' if step.reason else ""
    # Failed steps show their checks; passed ones keep them folded, the table stays short.
    fold = "<details open>" if step.status == "failed" else "<details>"
    count = f"{len(step.checks)} check" + ("" if len(step.checks) == 1 else "s")
    return (
        f'<tr class="step {step.status}"><td>{step.index}</td><td>{escape(step.label)}</td>'
        f"<td>{escape(step.caller)} → {escape(', '.join(step.servers))}</td><td>{said}</td>"
        f"<td>{_badge(step.status)} {step.duration_ms:.0f} ms{reason}"
        f'{fold}<summary>{count}</summary><ul class="checks">{checks}</ul>'
        f"</details>{answers}</td></tr>"
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


def _html_scenario(result: ScenarioResult) -> str:
    cast = "".join(
        f'<tr><td>{escape(p["name"])}</td><td><span class="fw" style="color:'
        f'{COLOURS.get(p["framework"], "#444")}">{escape(p["framework"])}</span></td>'
        f"<td>{escape(p['role'])}</td><td>{escape(p['behaviour'])}</td>"
        f"<td>{escape(p['model'] or 'scripted')}</td><td>{escape(p['problem'] or '')}</td></tr>"
        for p in result.participants
    )
    steps = "".join(_html_step(s) for s in result.steps)
    t0 = result.started
    exchanges = "".join(_html_exchange(e, t0) for e in result.exchanges)
    notes = "".join(
        f"<li>+{(n.t - t0) * 1000:.0f} ms {escape(n.participant)}: {escape(n.text)}</li>"
        for n in result.notes
    )
    remarks = "".join(f"<p class='muted'>{escape(r)}</p>" for r in result.remarks)
    reason = f" — {escape(result.reason)}" if result.reason else ""
    return (
        f'<section id="{escape(result.name)}"><h2>{escape(result.title)}</h2>'
        f"<p>{_badge(result.status)} <code>{escape(result.name)}</code> · "
        f"{result.duration_ms / 1000:.1f} s{reason}</p><p>{escape(result.description)}</p>{remarks}"
        f"<h3>Cast</h3><table><tr><th>participant</th><th>framework</th><th>role</th>"
        f"<th>behaviour</th><th>model</th><th>problem</th></tr>{cast}</table>"
        f"<h3>Steps</h3><table><tr><th>#</th><th>label</th><th>who</th><th>messages</th>"
        f"<th>result</th></tr>{steps}</table>"
        f'<h3>Sequence</h3><div class="diagram">{svg(result)}</div>'
        f"<details><summary>Mermaid source</summary><pre>{escape(mermaid(result))}</pre></details>"
        f"<h3>Exchanges ({len(result.exchanges)})</h3>{exchanges}"
        + (f"<h3>Agents' notes</h3><ul>{notes}</ul>" if notes else "")
        + "</section>"
    )


def page(report: Report) -> str:
    """The report as one self-contained HTML page: no external files, no library."""
    env = " · ".join(f"{escape(k)} {escape(v)}" for k, v in environment().items())
    summary = "".join(
        f'<li><a href="#{escape(s.name)}">{escape(s.name)}</a> {_badge(s.status)} '
        f"{s.counts()['passed']}/{len(s.steps)} steps passed"
        + (f' <span class="muted">{escape(s.reason)}</span>' if s.reason else "")
        + "</li>"
        for s in report.scenarios
    )
    generated = time.strftime("%Y-%m-%d %H:%M:%S")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>a2a-bridges scenarios</title><style>{STYLE}</style></head>"
        '<body data-status="loading"><header><h1>a2a-bridges scenarios</h1>'
        f"<p>{_badge('passed' if report.ok else 'failed')} {report.duration_ms / 1000:.1f} s · "
        f'generated {generated} · <span class="muted">{env}</span></p>'
        '<p><label><input type="checkbox" id="only-failures"> only failed steps</label> '
        '<button id="expand" type="button">open every exchange</button></p></header><main>'
        f"<h2>Interoperability matrix</h2>{_html_matrix(report)}"
        f"<h2>Scenarios</h2><ul>{summary}</ul>"
        + "".join(_html_scenario(s) for s in report.scenarios)
        + f"</main><script>{SCRIPT}</script></body></html>"
    )

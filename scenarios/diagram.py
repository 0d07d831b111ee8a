"""Sequence diagrams of a scenario's exchanges: Mermaid source, and the same drawn as SVG.

The SVG is drawn here, in Python, because the report must open offline and ships no
JavaScript library: no Mermaid renderer is available to the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from a2a_bridges.scenarios.results import CastMember, ScenarioResult
from a2a_bridges.scenarios.transcript import Exchange

__all__ = [
    "CHAR",
    "COLUMN",
    "MIN_COLUMN",
    "PALETTE",
    "ROW",
    "TOP",
    "VERBS",
    "WIDTH",
    "Row",
    "colours",
    "mermaid",
    "one_line",
    "rows",
    "svg",
]

PALETTE = ("#6b7280", "#2563eb", "#15803d", "#c026d3", "#ea580c", "#0891b2", "#a16207", "#be123c")
"""Each framework's colour, given in the order the report lists the frameworks."""


def colours(frameworks: Sequence[str]) -> dict[str, str]:
    """A colour for each framework, by its place in the report."""
    return {f: PALETTE[i % len(PALETTE)] for i, f in enumerate(frameworks)}


COLUMN = 230  # px between lifelines, at most
MIN_COLUMN = 150  # px between lifelines, at least
WIDTH = 1120  # px a diagram may take before its lifelines close up to MIN_COLUMN
ROW = 26  # px per arrow or note
TOP = 64  # px of participant boxes
CHAR = 6.6  # px per character of 12px sans-serif text, near enough for layout
VERBS = {"SendMessage": "send", "SendStreamingMessage": "stream", "CancelTask": "cancel"}


@dataclass(frozen=True)
class Row:
    """One line of a sequence diagram: an arrow between participants, or a note."""

    kind: str  # "request", "response" or "note"
    source: str
    target: str
    text: str
    detail: str = ""
    failed: bool = False


def _first_text(parts: list[dict[str, Any]]) -> str:
    for part in parts:
        if part.get("text"):
            return str(part["text"])
        if "data" in part:
            return json.dumps(part["data"], ensure_ascii=False)
        if "file" in part:
            f = part["file"]
            return f"[file {f.get('name') or ''} {f.get('media_type') or ''}]"
    return ""


# A Markdown code fence (```python), which models put around code, is no label's business.
_FENCE = re.compile(r"```[\w+.-]*")


def one_line(text: str, limit: int) -> str:
    """`text` as a label: code fences dropped, whitespace collapsed, cut to `limit` chars."""
    text = re.sub(r"\s+", " ", _FENCE.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _exchange_rows(e: Exchange) -> list[Row]:
    said = _first_text(e.request_parts)
    verb = VERBS.get(e.method, e.method)
    request = f"{verb}: {one_line(said, 60)}" if said else verb
    states = " → ".join(e.states)
    if e.error:
        response, failed = f"error: {one_line(e.error, 60)}", True
    else:
        answer = one_line(_first_text(e.answer_parts), 60)
        chunks = f", {e.chunks} chunks" if e.chunks > 1 else ""
        response = f"{e.final_state or e.status}{chunks}" + (f": {answer}" if answer else "")
        if e.method == "SendStreamingMessage" and e.final_state == "working":
            response = f"stream closed while working{chunks}"  # the caller went away
        failed = e.final_state in ("failed", "rejected")
    took = f"{((e.ended or e.started) - e.started) * 1000:.0f} ms"
    return [
        Row("request", e.caller, e.server, request, f"{e.method} {e.path}"),
        Row("response", e.server, e.caller, response, f"{states} in {took}", failed),
    ]


def rows(result: ScenarioResult) -> list[Row]:
    """The diagram's lines: each step's exchanges (card reads left out) and the agents' notes."""
    events: list[tuple[float, list[Row]]] = []
    many = len(result.steps) > 1
    by_id = {e.id: e for e in result.exchanges}
    for step in result.steps:
        if step.status == "skipped":
            continue
        if many:
            ends = [step.caller, *step.servers]
            label = f"#{step.index} {step.label} · {step.status}"
            events.append((step.started, [Row("note", ends[0], ends[-1], label)]))
        for eid in step.exchange_ids:
            e = by_id.get(eid)
            if e is not None and e.method != "card":
                events.append((e.started, _exchange_rows(e)))
    for note in result.notes:
        events.append((note.t, [Row("note", note.participant, note.participant, note.text)]))
    events.sort(key=lambda item: item[0])
    return [row for _, group in events for row in group]


# Mermaid reads `;` and `#` as syntax, brackets as markup and backticks as Markdown strings.
_MERMAID_SAFE = str.maketrans(
    {";": ",", "#": "\uff03", "<": "\u2039", ">": "\u203a", "{": "(", "}": ")", "`": "'"}
)


def _mermaid_text(text: str) -> str:
    return one_line(text, 80).translate(_MERMAID_SAFE)


def mermaid(result: ScenarioResult) -> str:
    """The scenario's exchanges as a Mermaid `sequenceDiagram`."""
    ids = {p.name: f"p{i}" for i, p in enumerate(result.participants)}
    lines = ["sequenceDiagram"]
    for p in result.participants:
        lines.append(f"    participant {ids[p.name]} as {p.name} ({p.framework})")
    arrows = {"request": "->>", "response": "-->>"}
    for row in rows(result):
        a, b = ids.get(row.source, "unknown"), ids.get(row.target, "unknown")
        if row.kind == "note":
            over = a if a == b else f"{a},{b}"
            lines.append(f"    Note over {over}: {_mermaid_text(row.text)}")
        else:
            lines.append(f"    {a}{arrows[row.kind]}{b}: {_mermaid_text(row.text)}")
    return "\n".join(lines) + "\n"


def _box(x: float, p: CastMember, colour: str, column: float) -> str:
    room = int((column - 28) / CHAR)
    return (
        f'<rect x="{x - column / 2 + 10}" y="8" width="{column - 20}" height="44" rx="6" '
        f'fill="{colour}" />'
        f'<text x="{x}" y="27" class="name">{escape(one_line(p.name, room))}</text>'
        f'<text x="{x}" y="44" class="fw">'
        f"{escape(one_line(f'{p.framework} · {p.role}', room))}</text>"
    )


def _arrow(row: Row, xs: dict[str, float], y: float, head: str) -> str:
    x1, x2 = xs.get(row.source, 0.0), xs.get(row.target, 0.0)
    room = max(abs(x2 - x1) / CHAR - 2, 12)
    label = escape(one_line(row.text, int(room)))
    cls = f"arrow {row.kind}" + (" failed" if row.failed else "")
    return (
        f'<g class="{cls}"><title>{escape(row.text)}&#10;{escape(row.detail)}</title>'
        f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" marker-end="url(#{head})" />'
        f'<text x="{(x1 + x2) / 2}" y="{y - 5}">{label}</text></g>'
    )


def _note(row: Row, xs: dict[str, float], y: float, column: float) -> str:
    x1, x2 = sorted((xs.get(row.source, 0.0), xs.get(row.target, 0.0)))
    left, width = x1 - column / 2 + 16, x2 - x1 + column - 32
    label = escape(one_line(row.text, int(width / CHAR)))
    return (
        f'<g class="note"><rect x="{left}" y="{y - 15}" width="{width}" height="20" rx="3" />'
        f'<text x="{(x1 + x2) / 2}" y="{y - 1}">{label}</text></g>'
    )


def svg(result: ScenarioResult, colour: Mapping[str, str]) -> str:
    """The scenario's sequence diagram as one inline `<svg class="sequence">` element, each
    participant in its framework's `colour`."""
    count = max(len(result.participants), 1)
    # Lifelines close up for a large cast, so that the page shows the diagram whole.
    column = max(MIN_COLUMN, min(COLUMN, WIDTH / count))
    xs = {p.name: column / 2 + i * column for i, p in enumerate(result.participants)}
    head = f"head-{re.sub(r'[^a-z0-9-]', '-', result.name.lower())}"  # ids are page-wide
    lines = rows(result)
    width = column * count
    height = TOP + ROW * (len(lines) + 1)
    out = [
        f'<svg class="sequence" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="sequence diagram of {escape(result.name)}">',
        f'<defs><marker id="{head}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" />'
        "</marker></defs>",
    ]
    for p in result.participants:
        x = xs[p.name]
        out.append(f'<line class="life" x1="{x}" y1="52" x2="{x}" y2="{height - 4}" />')
        out.append(_box(x, p, colour.get(p.framework, "#444"), column))
    for i, row in enumerate(lines):
        y = TOP + ROW * (i + 1)
        out.append(_note(row, xs, y, column) if row.kind == "note" else _arrow(row, xs, y, head))
    out.append("</svg>")
    return "".join(out)

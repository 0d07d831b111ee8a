"""What a run produced: each step's checks, each scenario's transcript, the interop matrix."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

from scenarios.model import FRAMEWORKS
from scenarios.transcript import Exchange, Note

__all__ = [
    "CAPABILITIES",
    "Cell",
    "Check",
    "Report",
    "ScenarioResult",
    "Status",
    "StepResult",
]

Status: TypeAlias = Literal["passed", "failed", "skipped"]

CAPABILITIES = ("single", "memory", "stream", "data", "file", "clarify", "cancel", "failure")
"""The step labels the interop matrix shows, in order."""


@dataclass
class Check:
    """One expectation, checked."""

    description: str
    status: Status
    detail: str = ""


@dataclass
class StepResult:
    """One step, run and checked."""

    index: int
    label: str
    caller: str
    servers: list[str]
    mode: str
    messages: list[str]
    status: Status
    reason: str = ""
    checks: list[Check] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0
    duration_ms: float = 0.0
    exchange_ids: list[str] = field(default_factory=list)


@dataclass
class ScenarioResult:
    """One scenario, run: its cast, its steps, and every exchange recorded."""

    name: str
    title: str
    description: str
    participants: list[dict[str, Any]]
    status: Status
    reason: str = ""
    steps: list[StepResult] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    started: float = 0.0
    duration_ms: float = 0.0

    def framework_of(self, participant: str) -> str:
        """The framework a participant is written in."""
        return next((p["framework"] for p in self.participants if p["name"] == participant), "?")

    def counts(self) -> dict[str, int]:
        """How many steps passed, failed and were skipped."""
        out = {"passed": 0, "failed": 0, "skipped": 0}
        for step in self.steps:
            out[step.status] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """The whole transcript as JSON-ready data."""
        return asdict(self)


@dataclass
class Cell:
    """One (server framework, caller framework) pair: how each capability went."""

    server: str
    caller: str
    results: dict[str, Status] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, status: Status, detail: str) -> None:
        """Fold in one step; a failure wins over a pass, a pass over a skip."""
        rank = {"skipped": 0, "passed": 1, "failed": 2}
        if rank[status] >= rank[self.results.get(label, "skipped")]:
            self.results[label] = status
            if detail:
                self.details[label] = detail

    @property
    def status(self) -> Status:
        """Failed if anything failed; skipped if nothing ran; else passed."""
        values = set(self.results.values())
        if "failed" in values:
            return "failed"
        return "passed" if "passed" in values else "skipped"


@dataclass
class Report:
    """The outcome of `scenarios.run`: every scenario's result, and the matrix across them."""

    scenarios: list[ScenarioResult]
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every expectation held (skipped frameworks do not count against it)."""
        return all(s.status != "failed" for s in self.scenarios)

    def __getitem__(self, name: str) -> ScenarioResult:
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(name)

    def failures(self) -> list[str]:
        """Each failed step, in one line."""
        return [
            f"{s.name} #{step.index} {step.label} ({step.caller} → {', '.join(step.servers)}): "
            f"{step.reason}"
            for s in self.scenarios
            for step in s.steps
            if step.status == "failed"
        ]

    def matrix(self) -> dict[tuple[str, str], Cell]:
        """(server framework, caller framework) → cell, from every single-server step whose
        label is a capability; every pair of frameworks has a cell."""
        cells = {(s, c): Cell(s, c) for s in FRAMEWORKS for c in FRAMEWORKS}
        for scenario in self.scenarios:
            for step in scenario.steps:
                if step.label not in CAPABILITIES or len(step.servers) != 1:
                    continue
                key = (scenario.framework_of(step.servers[0]), scenario.framework_of(step.caller))
                cells[key].add(step.label, step.status, step.reason)
        return cells

    def capabilities(self) -> list[str]:
        """The capabilities some step checked, in matrix order."""
        seen = {label for cell in self.matrix().values() for label in cell.results}
        return [c for c in CAPABILITIES if c in seen]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: the summary and the matrix (transcripts are written per scenario)."""
        return {
            "ok": self.ok,
            "duration_ms": round(self.duration_ms, 1),
            "scenarios": [
                {"name": s.name, "status": s.status, "reason": s.reason, **s.counts()}
                for s in self.scenarios
            ],
            "matrix": [asdict(cell) for cell in self.matrix().values()],
        }

    def write(self, directory: str | Path) -> list[Path]:
        """Write the JSON transcripts, `report.md` and `report.html` into `directory`."""
        from scenarios.report import write_report

        return write_report(self, Path(directory))

"""What a run produced: each step's checks, each scenario's transcript, the interop matrix."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeAlias

from a2a_bridges.scenarios.model import Role
from a2a_bridges.scenarios.transcript import Exchange, Note
from a2a_bridges.testing.participant import Answer

__all__ = [
    "CAPABILITIES",
    "CastMember",
    "Cell",
    "Check",
    "Finding",
    "Problem",
    "Report",
    "ScenarioResult",
    "Status",
    "StepResult",
]

Status: TypeAlias = Literal["passed", "failed", "skipped"]

CAPABILITIES = ("single", "memory", "stream", "data", "file", "clarify", "cancel", "failure")
"""The step labels the interop matrix shows, in order."""


@dataclass(frozen=True)
class Problem:
    """Why a participant cannot play. When something it needs is `missing` (not installed),
    its steps are skipped; otherwise they fail."""

    reason: str
    missing: bool = False


@dataclass
class CastMember:
    """A participant as it played: the real model it ran on, or why it could not play."""

    name: str
    framework: str
    role: Role
    behaviour: str
    model: str | None = None
    problem: Problem | None = None


@dataclass
class Finding:
    """Something a server does that is known to trip callers up (a quirk), seen on the wire:
    the quirk's name, what it does and who it trips, and where it was seen."""

    quirk: str
    text: str
    seen: list[str] = field(default_factory=list)


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
    quirk: str | None = None
    checks: list[Check] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    started: float = 0.0
    duration_ms: float = 0.0
    exchange_ids: list[str] = field(default_factory=list)


@dataclass
class ScenarioResult:
    """One scenario, run: its cast, its steps, and every exchange recorded."""

    name: str
    title: str
    description: str
    participants: list[CastMember]
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
        return next((p.framework for p in self.participants if p.name == participant), "?")

    def counts(self) -> dict[Status, int]:
        """How many steps passed, failed and were skipped."""
        out: dict[Status, int] = {"passed": 0, "failed": 0, "skipped": 0}
        for step in self.steps:
            out[step.status] += 1
        return out

    def not_installed(self) -> list[str]:
        """What the cast lacked to play in full: each thing not installed, with its hint."""
        return sorted(
            {p.problem.reason for p in self.participants if p.problem and p.problem.missing}
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole transcript as JSON-ready data."""
        return asdict(self)


@dataclass
class Cell:
    """One (server framework, caller framework) pair: how each capability went.

    A capability of the matrix with no result here does not apply to the pair (no step
    checked it); `missing` says why the pair could not run at all.
    """

    server: str
    caller: str
    results: dict[str, Status] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    missing: str | None = None

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

    def ran(self, capabilities: list[str]) -> list[str]:
        """The capabilities that ran for this pair, passed or failed."""
        return [c for c in capabilities if self.results.get(c) in ("passed", "failed")]

    def skipped(self, capabilities: list[str]) -> list[str]:
        """The capabilities that apply to the pair but could not run (a package is missing)."""
        return [c for c in capabilities if self.results.get(c) == "skipped"]

    def not_applying(self, capabilities: list[str]) -> list[str]:
        """The capabilities no step checked for this pair."""
        return [c for c in capabilities if c not in self.results]


@dataclass
class Report:
    """The outcome of `a2a_bridges.scenarios.run` (or `check`): every scenario's result, and
    the matrix across them.

    `frameworks` are the frameworks registered when it ran, in report order; `missing` those
    that could not take part, with why; `environment` the versions it ran with. The matrix's
    rows are `servers` and its columns `callers` (both `frameworks` unless given), its
    capabilities the step labels in `capability_order`; `findings` are the known quirks seen.
    """

    scenarios: list[ScenarioResult]
    frameworks: tuple[str, ...]
    missing: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    duration_ms: float = 0.0
    title: str = "a2a-bridges scenarios"
    servers: tuple[str, ...] = ()
    callers: tuple[str, ...] = ()
    capability_order: tuple[str, ...] = CAPABILITIES
    findings: list[Finding] = field(default_factory=list)
    legend: str = ""
    """How to read the matrix, when not as the scenarios' is read."""
    nouns: tuple[str, str] = ("scenario", "step")
    """What `scenarios` and their steps are, in words (`check`: callers and checks)."""

    @property
    def rows(self) -> tuple[str, ...]:
        """The matrix's servers."""
        return self.servers or self.frameworks

    @property
    def columns(self) -> tuple[str, ...]:
        """The matrix's callers."""
        return self.callers or self.frameworks

    @property
    def ok(self) -> bool:
        """Whether every expectation held (skipped frameworks do not count against it)."""
        return all(s.status != "failed" for s in self.scenarios)

    def __getitem__(self, name: str) -> ScenarioResult:
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(name)

    def failed_steps(self) -> list[tuple[ScenarioResult, StepResult]]:
        """Each failed step, with its scenario."""
        return [(s, step) for s in self.scenarios for step in s.steps if step.status == "failed"]

    def failures(self) -> list[str]:
        """Each failed step, in one line."""
        return [
            f"{s.name} #{step.index} {step.label} ({step.caller} → {', '.join(step.servers)}): "
            f"{step.reason}"
            for s, step in self.failed_steps()
        ]

    def matrix(self) -> dict[tuple[str, str], Cell]:
        """(server framework, caller framework) → cell, from every single-server step whose
        label is a capability; every (row, column) pair has a cell."""
        cells = {
            (s, c): Cell(s, c, missing=self.missing.get(s) or self.missing.get(c))
            for s in self.rows
            for c in self.columns
        }
        for scenario in self.scenarios:
            for step in scenario.steps:
                if step.label not in self.capability_order or len(step.servers) != 1:
                    continue
                key = (scenario.framework_of(step.servers[0]), scenario.framework_of(step.caller))
                if key in cells:
                    cells[key].add(step.label, step.status, step.reason)
        return cells

    def capabilities(self) -> list[str]:
        """The capabilities some step checked, in matrix order; none when no scenario of the
        run is part of the matrix."""
        seen = {label for cell in self.matrix().values() for label in cell.results}
        return [c for c in self.capability_order if c in seen]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: the summary and the matrix (transcripts are written per scenario)."""
        return {
            "title": self.title,
            "ok": self.ok,
            "duration_ms": round(self.duration_ms, 1),
            "frameworks": list(self.frameworks),
            "servers": list(self.rows),
            "callers": list(self.columns),
            "missing": self.missing,
            "environment": self.environment,
            "scenarios": [
                {"name": s.name, "status": s.status, "reason": s.reason, **s.counts()}
                for s in self.scenarios
            ],
            "matrix": [asdict(cell) for cell in self.matrix().values()],
            "findings": [asdict(f) for f in self.findings],
        }

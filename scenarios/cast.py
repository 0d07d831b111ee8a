"""A scenario's cast as it plays: who can take part, on which model, and their servers and
callers while the scenario runs."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from a2a_bridges.scenarios import frameworks
from a2a_bridges.scenarios.model import Participant, Scenario, Step
from a2a_bridges.scenarios.results import CastMember, Problem
from a2a_bridges.scenarios.serving import Isolation, serving
from a2a_bridges.scenarios.transcript import CALLER_HEADER, Transcript
from a2a_bridges.testing.participant import Caller

__all__ = ["Cast"]


def _problem(p: Participant) -> Problem | None:
    """What keeps `p` from playing before anything starts: its framework or a package."""
    why = frameworks.missing(p.framework)
    if why is not None:
        return Problem(why, missing=True)
    package = frameworks.missing_package(p.framework, p.behaviour)
    if package is not None:
        return Problem(f"{p.name} needs {package}, not installed: pip install {package}", True)
    return None


@dataclass
class Cast:
    """The participants of one run of a scenario: what keeps any from playing, the real
    models that replace scripts, and, while `playing`, their URLs and callers."""

    scenario: Scenario
    problems: dict[str, Problem] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    remarks: list[str] = field(default_factory=list)
    transcript: Transcript = field(default_factory=Transcript)
    urls: dict[str, str] = field(default_factory=dict)
    callers: dict[str, Caller] = field(default_factory=dict)

    @classmethod
    def choose(cls, scenario: Scenario, model: str | None) -> Cast:
        """Who can play, and on which real model (`model`, for the open-ended ones)."""
        cast = cls(scenario)
        for p in scenario.participants:
            problem = _problem(p)
            if problem is not None:
                cast.problems[p.name] = problem
            else:
                cast._choose_model(p, p.model or (model if p.open_ended else None))
        return cast

    def _choose_model(self, p: Participant, model: str | None) -> None:
        if model is None:
            return
        if not frameworks.participant(p.framework).takes_models:
            self.remarks.append(f"{p.name} kept its script: {p.framework} takes no model")
        elif (problem := frameworks.model_problem(model)) is not None:
            self.remarks.append(f"{p.name} kept its script instead of {model}: {problem}")
        else:
            self.models[p.name] = model

    def problems_of(self, step: Step) -> list[Problem]:
        """What keeps the step's caller or servers from playing."""
        names = dict.fromkeys((step.caller, *step.servers))
        return [self.problems[n] for n in names if n in self.problems]

    def members(self) -> list[CastMember]:
        """The cast as it played."""
        return [
            CastMember(
                p.name,
                p.framework,
                p.role,
                p.behaviour,
                self.models.get(p.name),
                self.problems.get(p.name),
            )
            for p in self.scenario.participants
        ]

    @contextlib.asynccontextmanager
    async def playing(self, isolation: Isolation) -> AsyncIterator[Cast]:
        """Serve every server and build every caller; close them all at the end."""
        with tempfile.TemporaryDirectory(prefix="a2a-scenario-") as tmp:
            stack = contextlib.ExitStack()
            try:
                await self._serve_all(stack, isolation, Path(tmp))
                self._build_callers()
                yield self
            finally:
                for caller in self.callers.values():
                    with contextlib.suppress(Exception):
                        await caller.aclose()
                await asyncio.to_thread(stack.close)
                self.transcript.absorb()  # before the child processes' files go

    def _playing(self, role: str) -> list[Participant]:
        return [
            p for p in self.scenario.participants if p.role == role and p.name not in self.problems
        ]

    async def _serve_all(
        self, stack: contextlib.ExitStack, isolation: Isolation, tmp: Path
    ) -> None:
        """Start every server at once (a child process takes seconds to import); one that
        cannot start fails its own steps only."""
        servers = self._playing("server")
        started = await asyncio.gather(
            *(self._serve(p, stack, isolation, tmp) for p in servers), return_exceptions=True
        )
        for p, url in zip(servers, started, strict=True):
            if isinstance(url, BaseException):
                self.problems[p.name] = Problem(f"{p.name} could not start: {_said(url)}")
            else:
                self.urls[p.name] = url

    async def _serve(
        self, p: Participant, stack: contextlib.ExitStack, isolation: Isolation, tmp: Path
    ) -> str:
        server = serving(p, self.models.get(p.name), self.transcript, isolation, tmp)
        url = await asyncio.to_thread(server.__enter__)
        # Pushed from the event loop's thread, one at a time: the stack is not thread-safe.
        stack.push(server.__exit__)
        return url

    def _build_callers(self) -> None:
        for p in self._playing("caller"):
            try:
                caller = frameworks.participant(p.framework).caller(
                    p.name, p.behaviour, {CALLER_HEADER: p.name}
                )
            except Exception as exc:  # one broken caller fails its own steps only
                self.problems[p.name] = Problem(f"{p.name} could not start: {_said(exc)}")
            else:
                self.callers[p.name] = caller


def _said(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"

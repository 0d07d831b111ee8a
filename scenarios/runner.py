"""Runs scenarios: serves each server on its own loopback port, drives each caller through its
framework's native remote type, records every exchange, and checks the expectations."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias

from bridges._sync import run_sync
from bridges.registry import adapter_named
from bridges.testing import running
from scenarios.expectations import NoteSeen, Outcome
from scenarios.model import Answer, Participant, Scenario, Step
from scenarios.participants import (
    REAL_MODELS,
    Caller,
    build_caller,
    build_server,
    missing,
    missing_package,
    model_problem,
)
from scenarios.results import Check, Report, ScenarioResult, Status, StepResult
from scenarios.transcript import CALLER_HEADER, Recording, Transcript

__all__ = ["Isolation", "Progress", "arun", "resolve", "run"]

Isolation: TypeAlias = Literal["thread", "process"]

SETTLE_SECONDS = 3.0  # how long a step waits for its servers to finish recording


class Progress(Protocol):
    """Told about a run as it goes, for live display."""

    def scenario_started(self, scenario: Scenario) -> None: ...

    def step_finished(self, scenario: Scenario, result: StepResult) -> None: ...

    def scenario_finished(self, result: ScenarioResult) -> None: ...


def resolve(name_or_scenario: str | Scenario) -> Scenario:
    """A bundled scenario by name, or the scenario itself; ValueError naming the choices."""
    if isinstance(name_or_scenario, Scenario):
        return name_or_scenario
    from scenarios.bundled import bundled

    scenarios = bundled()
    if name_or_scenario not in scenarios:
        raise ValueError(
            f"unknown scenario {name_or_scenario!r}: choose from {', '.join(scenarios)}"
        )
    return scenarios[name_or_scenario]


def run(
    name_or_scenario: str | Scenario | Sequence[str | Scenario],
    *,
    isolation: Isolation = "thread",
    model: str | None = None,
    progress: Progress | None = None,
    step_timeout: float = 30.0,
) -> Report:
    """Run one scenario or several (bundled names or `Scenario`s) and return the report.

    Each server runs on its own loopback port, in a thread of this process or, with
    `isolation="process"`, in a process of its own. `model` (`provider:name`) replaces the
    script of every open-ended participant whose framework can take a real model, when the
    provider's key is set. Never raises for a failed expectation: read `Report.ok`.
    """
    coro = arun(
        name_or_scenario,
        isolation=isolation,
        model=model,
        progress=progress,
        step_timeout=step_timeout,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from async code: run on the blocking facade's own loop, in its thread.
    return run_sync(coro)


async def arun(
    name_or_scenario: str | Scenario | Sequence[str | Scenario],
    *,
    isolation: Isolation = "thread",
    model: str | None = None,
    progress: Progress | None = None,
    step_timeout: float = 30.0,
) -> Report:
    """Async `run`."""
    items = (
        [name_or_scenario]
        if isinstance(name_or_scenario, str | Scenario)
        else list(name_or_scenario)
    )
    scenarios = [resolve(item) for item in items]
    started = time.perf_counter()
    results = []
    for scenario in scenarios:
        if progress is not None:
            progress.scenario_started(scenario)
        result = await _ScenarioRun(scenario, isolation, model, progress, step_timeout).execute()
        if progress is not None:
            progress.scenario_finished(result)
        results.append(result)
    return Report(results, duration_ms=(time.perf_counter() - started) * 1000)


@dataclass
class _ScenarioRun:
    """One scenario's run: its servers, its callers, its transcript."""

    scenario: Scenario
    isolation: Isolation
    model: str | None
    progress: Progress | None
    step_timeout: float
    transcript: Transcript = field(default_factory=Transcript)
    urls: dict[str, str] = field(default_factory=dict)
    callers: dict[str, Caller] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # participant -> why it cannot play
    models: dict[str, str] = field(default_factory=dict)  # participant -> the real model it uses
    remarks: list[str] = field(default_factory=list)

    async def execute(self) -> ScenarioResult:
        started = time.time()
        for p in self.scenario.participants:
            if missing(p.framework) is not None:
                self.problems[p.name] = f"{p.framework} not installed"
            elif (package := missing_package(p)) is not None:
                self.problems[p.name] = f"{p.name} needs {package}, not installed"
        self._choose_models()
        steps: list[StepResult] = []
        with tempfile.TemporaryDirectory(prefix="a2a-scenario-") as tmp:
            stack = contextlib.ExitStack()
            try:
                await self._start(stack, Path(tmp))
                for index, step in enumerate(self.scenario.steps):
                    result = await self._step(index, step)
                    steps.append(result)
                    if self.progress is not None:
                        self.progress.step_finished(self.scenario, result)
            finally:
                for caller in self.callers.values():
                    with contextlib.suppress(Exception):
                        await caller.aclose()
                await asyncio.to_thread(stack.close)
            exchanges, notes, _ = self.transcript.snapshot()
        return self._result(started, steps, exchanges, notes)

    def _choose_models(self) -> None:
        if self.model is None:
            return
        for p in self.scenario.participants:
            if not p.open_ended or p.name in self.problems:
                continue
            if p.framework not in REAL_MODELS:
                self.remarks.append(f"{p.name} kept its script: {p.framework} takes no model")
                continue
            problem = model_problem(self.model)
            if problem is None:
                self.models[p.name] = self.model
            else:
                self.remarks.append(f"{p.name} kept its script instead of {self.model}: {problem}")

    async def _start(self, stack: contextlib.ExitStack, tmp: Path) -> None:
        """Start every server at once (a child process takes seconds to import), and build
        every caller; a participant that cannot start fails its own steps only."""
        playing = [p for p in self.scenario.participants if p.name not in self.problems]
        servers = [p for p in playing if p.role == "server"]
        started = await asyncio.gather(
            *(self._serve(p, stack, tmp) for p in servers), return_exceptions=True
        )
        for p, url in zip(servers, started, strict=True):
            if isinstance(url, BaseException):
                self.problems[p.name] = f"{p.name} could not start: {type(url).__name__}: {url}"
            else:
                self.urls[p.name] = url
        for p in playing:
            if p.role == "caller":
                try:
                    self.callers[p.name] = build_caller(p, {CALLER_HEADER: p.name})
                except Exception as exc:
                    self.problems[p.name] = f"{p.name} could not start: {type(exc).__name__}: {exc}"

    async def _serve(self, p: Participant, stack: contextlib.ExitStack, tmp: Path) -> str:
        model = self.models.get(p.name)
        server: contextlib.AbstractContextManager[str]
        if self.isolation == "process":
            record = tmp / f"{p.name}.jsonl"
            self.transcript.follow(record)
            server = _child(p, model, record)
        else:

            def notes(text: str) -> None:
                self.transcript.note(p.name, text)

            server = running(serve_app(p, build_server(p, notes, model), self.transcript))
        url = await asyncio.to_thread(server.__enter__)
        # Pushed from the event loop's thread, one at a time: the stack is not thread-safe.
        stack.push(server.__exit__)
        return url

    async def _step(self, index: int, step: Step) -> StepResult:
        result = StepResult(
            index=index,
            label=step.label,
            caller=step.caller,
            servers=list(step.servers),
            mode=step.mode,
            messages=[m.text for m in step.messages],
            status="passed",
            started=time.time(),
        )
        problems = sorted(
            {self.problems[n] for n in (step.caller, *step.servers) if n in self.problems}
        )
        if problems:
            result.status = "skipped" if all("not installed" in p for p in problems) else "failed"
            result.reason = "; ".join(problems)
            return result
        answers: list[Answer] = []
        error = await self._perform(step, index, answers)
        exchanges, notes = await self._settle(step, result.started)
        result.duration_ms = (time.time() - result.started) * 1000
        result.answers = [a.to_dict() for a in answers]
        result.exchange_ids = [e.id for e in exchanges]
        outcome = Outcome(answers, exchanges, notes)
        result.checks = [self._check(e, outcome, step) for e in step.expect]
        failed = [c for c in result.checks if c.status == "failed"]
        if error is not None:
            result.status, result.reason = "failed", error
        elif failed:
            result.status = "failed"
            result.reason = "; ".join(f"{c.description}: {c.detail}" for c in failed)
        return result

    async def _perform(self, step: Step, index: int, answers: list[Answer]) -> str | None:
        """Carry the step out, collecting answers as they come; the error, if one stopped it."""
        caller = self.callers[step.caller]
        urls = {name: self.urls[name] for name in step.servers}
        url = urls[step.servers[0]]
        thread = f"step-{index}"
        try:
            async with asyncio.timeout(self.step_timeout):
                if step.mode == "orchestrate":
                    answers.append(await _timed(caller.orchestrate(urls, step.messages[0])))
                elif step.mode == "cancel":
                    answers.append(
                        await _timed(caller.cancel(url, step.messages[0], thread=thread))
                    )
                else:
                    for message in step.messages:
                        call = caller.send(
                            url,
                            message,
                            thread=thread,
                            stream=step.mode == "stream",
                            output=step.output,
                        )
                        answers.append(await _timed(call))
        except TimeoutError:
            return f"no answer within {self.step_timeout:g}s"
        except Exception as exc:
            return f"the caller raised {type(exc).__name__}: {exc}"
        return None

    async def _settle(self, step: Step, since: float) -> tuple[list[Any], list[Any]]:
        """The step's exchanges and notes, once its servers finished what it started."""
        wanted = [e for e in step.expect if isinstance(e, NoteSeen) and not e.absent]
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            exchanges, notes, still_open = self.transcript.snapshot()
            seen = all(
                any(n.participant == e.server and n.text == e.text for n in notes if n.t >= since)
                for e in wanted
            )
            if (still_open == 0 and seen) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.005)
        names = set(step.servers)
        mine = [
            e
            for e in exchanges
            if e.started >= since and e.server in names and e.caller == step.caller
        ]
        for e in mine:
            e.caller_framework = self.scenario.participant(step.caller).framework
        return mine, [n for n in notes if n.t >= since and n.participant in names]

    def _check(self, expectation: Any, outcome: Outcome, step: Step) -> Check:
        description = expectation.describe()
        if expectation.deterministic and any(s in self.models for s in step.servers):
            return Check(description, "skipped", "a real model answered")
        try:
            detail = expectation.check(outcome)
        except Exception as exc:  # a broken check is a failed check, not a crashed run
            detail = f"the check raised {type(exc).__name__}: {exc}"
        return Check(description, "passed" if detail is None else "failed", detail or "")

    def _result(
        self, started: float, steps: list[StepResult], exchanges: list[Any], notes: list[Any]
    ) -> ScenarioResult:
        statuses = {s.status for s in steps}
        status: Status = (
            "failed" if "failed" in statuses else "passed" if "passed" in statuses else "skipped"
        )
        reason = ""
        if status == "skipped":
            reason = "; ".join(sorted(set(self.problems.values()))) or "no steps"
        participants = [
            {
                "name": p.name,
                "framework": p.framework,
                "role": p.role,
                "behaviour": p.behaviour,
                "model": self.models.get(p.name),
                "problem": self.problems.get(p.name),
            }
            for p in self.scenario.participants
        ]
        return ScenarioResult(
            name=self.scenario.name,
            title=self.scenario.title,
            description=self.scenario.description,
            participants=participants,
            status=status,
            reason=reason,
            steps=steps,
            exchanges=exchanges,
            notes=notes,
            remarks=self.remarks,
            started=started,
            duration_ms=(time.time() - started) * 1000,
        )


async def _timed(call: Any) -> Answer:
    started = time.perf_counter()
    answer: Answer = await call
    answer.elapsed_ms = (time.perf_counter() - started) * 1000
    return answer


def serve_app(participant: Participant, agent: Any, sink: Any) -> Any:
    """`agent` served by its framework's adapter, every exchange recorded into `sink`."""
    adapter = adapter_named(participant.framework)
    assert adapter.module is not None
    app = adapter.module.to_a2a(agent, name=participant.name)
    return Recording(app, server=participant.name, framework=participant.framework, sink=sink)


@contextlib.contextmanager
def _child(participant: Participant, model: str | None, record: Path) -> Iterator[str]:
    """Serve `participant` from a child process; yield its URL."""
    spec = {
        "name": participant.name,
        "framework": participant.framework,
        "role": participant.role,
        "behaviour": participant.behaviour,
        "model": model,
        "record": str(record),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "scenarios.process", json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"{participant.name}'s process did not start (exit {proc.poll()})")
        yield line
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

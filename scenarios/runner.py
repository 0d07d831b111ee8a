"""Runs scenarios: serves each server on its own loopback port, drives each caller through its
framework's native remote type, records every exchange, and checks the expectations."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from typing import Protocol

from a2a_bridges.portal import run_sync
from a2a_bridges.scenarios import frameworks
from a2a_bridges.scenarios.cast import Cast
from a2a_bridges.scenarios.model import Scenario
from a2a_bridges.scenarios.results import Report, ScenarioResult, Status, StepResult
from a2a_bridges.scenarios.serving import Isolation
from a2a_bridges.scenarios.steps import run_step

__all__ = [
    "Progress",
    "arun",
    "resolve",
    "run",
]


class Progress(Protocol):
    """Told about a run as it goes, for live display."""

    def scenario_started(self, scenario: Scenario) -> None: ...

    def step_finished(self, scenario: Scenario, result: StepResult) -> None: ...

    def scenario_finished(self, result: ScenarioResult) -> None: ...


def resolve(name_or_scenario: str | Scenario) -> Scenario:
    """A bundled scenario by name, or the scenario itself; ValueError naming the choices."""
    if isinstance(name_or_scenario, Scenario):
        return name_or_scenario
    from a2a_bridges.scenarios.bundle import bundled

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
    call = functools.partial(
        arun,
        name_or_scenario,
        isolation=isolation,
        model=model,
        progress=progress,
        step_timeout=step_timeout,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(call())
    # Called from async code: run on the blocking facade's own loop, in its thread.
    return run_sync(call)


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
        result = await _run_scenario(scenario, isolation, model, progress, step_timeout)
        if progress is not None:
            progress.scenario_finished(result)
        results.append(result)
    names = frameworks.frameworks()
    return Report(
        results,
        names,
        missing={f: why for f in names if (why := frameworks.missing(f)) is not None},
        environment=frameworks.environment(),
        duration_ms=(time.perf_counter() - started) * 1000,
    )


async def _run_scenario(
    scenario: Scenario,
    isolation: Isolation,
    model: str | None,
    progress: Progress | None,
    step_timeout: float,
) -> ScenarioResult:
    """Start the cast, take every step, and gather what it recorded."""
    started = time.time()
    cast = Cast.choose(scenario, model)
    steps: list[StepResult] = []
    async with cast.playing(isolation):
        for index, step in enumerate(scenario.steps):
            result = await run_step(cast, index, step, step_timeout)
            steps.append(result)
            if progress is not None:
                progress.step_finished(scenario, result)
    return _result(cast, steps, started)


def _result(cast: Cast, steps: list[StepResult], started: float) -> ScenarioResult:
    scenario = cast.scenario
    exchanges, notes, _ = cast.transcript.snapshot()
    framework = {p.name: p.framework for p in scenario.participants}
    for e in exchanges:
        e.caller_framework = framework.get(e.caller)
    statuses = {s.status for s in steps}
    status: Status = (
        "failed" if "failed" in statuses else "passed" if "passed" in statuses else "skipped"
    )
    reason = ""
    if status == "skipped":
        reason = "; ".join(sorted({p.reason for p in cast.problems.values()})) or "no steps"
    return ScenarioResult(
        name=scenario.name,
        title=scenario.title,
        description=scenario.description,
        participants=cast.members(),
        status=status,
        reason=reason,
        steps=steps,
        exchanges=exchanges,
        notes=notes,
        remarks=cast.remarks,
        started=started,
        duration_ms=(time.time() - started) * 1000,
    )

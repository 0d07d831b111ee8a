"""Every step of every bundled scenario, one test each: `scenario#step label caller->server`.

Each scenario runs once per session (the plugin's `scenario_report` caches it); a scenario
whose frameworks are not installed fails, unless pytest runs with `--a2a-skip-missing`, when
the steps that could not run are skipped. Steps that fail because of a known adapter bug are
strict xfails, so fixing the adapter turns them into failures until the mark is removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from a2a_bridges.scenarios import Report, Scenario, bundled

# (scenario, caller, server, label) -> why it fails today.
KNOWN_FAILURES: dict[tuple[str, str, str, str], str] = {}


def _step_id(scenario: Scenario, index: int) -> str:
    step = scenario.steps[index]
    caller = scenario.participant(step.caller).framework
    servers = "+".join(scenario.participant(s).framework for s in step.servers)
    return f"{scenario.name}#{index}-{step.label}-{caller}->{servers}"


def _cases() -> Iterator[Any]:
    for name, scenario in bundled().items():
        for index, step in enumerate(scenario.steps):
            marks = [pytest.mark.scenario(name)]
            for server in step.servers:
                why = KNOWN_FAILURES.get((name, step.caller, server, step.label))
                if why is not None:
                    marks.append(pytest.mark.xfail(reason=why, strict=True))
            yield pytest.param(index, id=_step_id(scenario, index), marks=marks)


@pytest.mark.parametrize("index", list(_cases()))
def test_step(scenario_report: Report, index: int) -> None:
    result = scenario_report.scenarios[0]
    step = result.steps[index]
    if step.status == "skipped":
        pytest.skip(step.reason)
    assert step.checks or step.reason, "a step with no expectations proves nothing"
    assert step.status == "passed", step.reason
    assert all(c.status in ("passed", "skipped") for c in step.checks)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.scenario(n), id=n) for n in bundled()]
)
def test_every_exchange_is_recorded_with_both_frameworks(
    scenario_report: Report, name: str
) -> None:
    result = scenario_report[name]
    ran = [s for s in result.steps if s.status != "skipped"]
    assert ran and result.exchanges
    frameworks = {p.name: p.framework for p in result.participants}
    for exchange in result.exchanges:
        assert exchange.caller in frameworks, exchange.caller
        assert exchange.server_framework == frameworks[exchange.server]
        assert exchange.ended is not None and exchange.ended >= exchange.started
    for step in ran:
        sent = [e for e in result.exchanges if e.id in step.exchange_ids and e.is_message]
        assert sent, f"step {step.index} sent no message"
        assert all(e.caller_framework == frameworks[step.caller] for e in sent)
        assert all(e.final_state for e in sent), [e.states for e in sent]

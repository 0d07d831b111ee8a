"""`a2a_bridges.scenarios.run` on scenarios of one's own: names, isolation, models, errors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import replace

import pytest

import a2a_bridges.scenarios
from a2a_bridges.scenarios import (
    Contains,
    FinalState,
    Message,
    NoteSeen,
    Participant,
    SameContext,
    Scenario,
    Step,
    Streamed,
    bundled,
)
from a2a_bridges.scenarios.frameworks import installed, participant

pytestmark = pytest.mark.anyio

MESH = ("single", "memory", "stream", "data", "file")


def test_all_is_sorted_and_pinned() -> None:
    from a2a_bridges.scenarios import _WHERE

    assert a2a_bridges.scenarios.__all__ == sorted(_WHERE)
    assert a2a_bridges.scenarios.__all__ == [
        "Answer",
        "Calls",
        "CastMember",
        "Cell",
        "Check",
        "Contains",
        "DataEquals",
        "ErrorMentions",
        "Expectation",
        "File",
        "FinalState",
        "Finding",
        "Message",
        "NoteSeen",
        "Outcome",
        "Participant",
        "Problem",
        "Report",
        "SameContext",
        "SameTask",
        "Scenario",
        "ScenarioResult",
        "States",
        "Step",
        "StepResult",
        "Streamed",
        "acheck",
        "arun",
        "bundled",
        "check",
        "run",
        "write_report",
    ]
    for name in a2a_bridges.scenarios.__all__:
        assert getattr(a2a_bridges.scenarios, name) is not None


def test_importing_the_package_loads_no_scenario_machinery() -> None:
    # `a2a-bridges --help` loads the package for its `scenarios` subcommand.
    code = (
        "import sys, a2a_bridges.scenarios.cli; "
        "print(sorted(m for m in sys.modules if m.startswith(('a2a_bridges.', 'rich', 'a2a.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['a2a_bridges.scenarios', 'a2a_bridges.scenarios.cli']"


def test_an_unknown_framework_is_refused_naming_the_registered_ones() -> None:
    with pytest.raises(ValueError, match="unknown framework 'nope': choose one of functions, "):
        Participant("x", "nope", "server")


def _functions_scenario() -> Scenario:
    return Scenario(
        name="own",
        title="A scenario of one's own",
        description="Memory and cancel across a plain-function server and caller.",
        participants=(
            Participant("server", "functions", "server"),
            Participant("caller", "functions", "caller"),
        ),
        steps=(
            Step(
                "caller",
                ("server",),
                (Message("remember plums"), Message("recall")),
                label="memory",
                expect=(Contains("You asked me to remember plums."), SameContext()),
            ),
            Step(
                "caller",
                ("server",),
                (Message("slow"),),
                mode="cancel",
                label="cancel",
                expect=(
                    Streamed(1),
                    FinalState("canceled"),
                    NoteSeen("server", "run cancelled"),
                    NoteSeen("server", "run finished", absent=True),
                ),
            ),
        ),
    )


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_run_in_threads_or_processes(isolation: str) -> None:
    report = a2a_bridges.scenarios.run(_functions_scenario(), isolation=isolation)  # type: ignore[arg-type]
    result = report["own"]
    assert report.ok, report.failures()
    assert [s.status for s in result.steps] == ["passed", "passed"]
    # The server's own notes cross the process boundary too.
    assert [n.text for n in result.notes] == ["run started", "run cancelled"]
    assert {e.server for e in result.exchanges} == {"server"}


async def test_run_from_async_code() -> None:
    report = a2a_bridges.scenarios.run(_functions_scenario())
    assert report.ok
    report = await a2a_bridges.scenarios.arun(_functions_scenario())
    assert report.ok and asyncio.get_running_loop().is_running()


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'nope': choose from code-review"):
        a2a_bridges.scenarios.run("nope")


def test_a_model_for_a_framework_without_models_leaves_the_script_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    scenario = Scenario(
        name="modelled",
        title="An open-ended server",
        description="Asked for a real model without a key, it stays scripted.",
        participants=(
            Participant("server", "functions", "server", open_ended=True),
            Participant("caller", "functions", "caller"),
        ),
        steps=(Step("caller", ("server",), (Message("echo hi"),), expect=(Contains("echo: hi"),)),),
    )
    report = a2a_bridges.scenarios.run(scenario, model="openai:gpt-4o-mini")
    assert report.ok
    assert report["modelled"].remarks == ["server kept its script: functions takes no model"]
    assert report["modelled"].participants[0].model is None


def _keyless(coder: Participant) -> Scenario:
    return Scenario(
        name="keyless",
        title="No key",
        description="The coder stays scripted, so its deterministic checks still count.",
        participants=(coder, Participant("caller", "functions", "caller")),
        steps=(
            Step(
                "caller",
                ("coder",),
                (Message("write add with type hints"),),
                expect=(Contains("def add(a: int, b: int) -> int:", deterministic=True),),
            ),
        ),
    )


@pytest.mark.parametrize(
    ("coder", "run_model"),
    [
        pytest.param(True, "openai:gpt-4o-mini", id="the-run's-model"),
        pytest.param(False, None, id="the-participant's-own-model"),
    ],
)
def test_a_model_without_its_key_leaves_the_script_in_place(
    monkeypatch: pytest.MonkeyPatch, coder: bool, run_model: str | None
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    takes_models = [f for f in installed() if participant(f).takes_models]
    if not takes_models:
        pytest.skip("no installed framework takes a real model")
    framework = takes_models[0]
    own = None if coder else "openai:gpt-4o-mini"
    server = Participant("coder", framework, "server", "coder", model=own, open_ended=coder)
    result = a2a_bridges.scenarios.run(_keyless(server), model=run_model)["keyless"]
    assert result.remarks == [
        "coder kept its script instead of openai:gpt-4o-mini: OPENAI_API_KEY is not set"
    ]
    assert result.participants[0].model is None
    assert [c.status for c in result.steps[0].checks] == ["passed"]


def test_a_missing_framework_skips_its_steps_only(ghost: str) -> None:
    scenario = Scenario(
        name="partial",
        title="Half installed",
        description="The ghost caller's step is skipped; the plain function's runs.",
        participants=(
            Participant("server", "functions", "server"),
            Participant("fn", "functions", "caller"),
            Participant("gh", ghost, "caller"),
        ),
        steps=(
            Step("fn", ("server",), (Message("echo a"),), expect=(Contains("echo: a"),)),
            Step("gh", ("server",), (Message("echo b"),), expect=(Contains("echo: b"),)),
        ),
    )
    report = a2a_bridges.scenarios.run(scenario)
    result = report["partial"]
    assert [s.status for s in result.steps] == ["passed", "skipped"]
    hint = "ghost is not installed: pip install 'a2a-bridges[ghost]'"
    assert result.steps[1].reason == hint
    assert report.ok and result.status == "passed"
    assert result.not_installed() == [result.steps[1].reason]
    # The report keeps what was missing when it ran: rendering never looks again.
    assert ghost in report.frameworks and report.missing[ghost] == hint
    assert report.matrix()[("functions", ghost)].missing == report.missing[ghost]


def test_a_missing_package_skips_the_behaviour_that_needs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    needing = [(f, b, p) for f in installed() for b, p in participant(f).needs.items()]
    if not needing:
        pytest.skip("no installed framework's behaviour needs a package of its own")
    framework, behaviour, package = needing[0]
    monkeypatch.setitem(sys.modules, package, None)  # `import <package>` fails
    scenario = Scenario(
        name="no-package",
        title=f"{framework} without {package}",
        description=f"Its {behaviour} needs {package}; the plain function still runs.",
        participants=(
            Participant("needy", framework, "server", behaviour=behaviour),
            Participant("fn-agent", "functions", "server", behaviour=behaviour),
            Participant("fn", "functions", "caller"),
        ),
        steps=(
            Step("fn", ("needy",), (Message("echo a"),), expect=(Contains("echo: a"),)),
            Step("fn", ("fn-agent",), (Message("echo a"),), expect=(Contains("echo: a"),)),
        ),
    )
    result = a2a_bridges.scenarios.run(scenario)["no-package"]
    assert [s.status for s in result.steps] == ["skipped", "passed"]
    assert result.steps[0].reason == f"needy needs {package}, not installed: pip install {package}"
    assert result.status == "passed"


def test_a_third_party_framework_joins_the_matrix_scenarios(twin: str) -> None:
    scenarios = bundled()
    for name in ("mesh", "clarify", "cancel", "failure"):
        names = {p.name for p in scenarios[name].participants}
        assert {"twin-agent", "twin-caller"} <= names, name
    pair = {"fn-agent", "twin-agent", "fn-caller", "twin-caller"}
    mesh = scenarios["mesh"]
    steps = tuple(s for s in mesh.steps if {s.caller, *s.servers} <= pair)
    cast = tuple(p for p in mesh.participants if p.name in pair)
    report = a2a_bridges.scenarios.run(replace(mesh, participants=cast, steps=steps))
    assert report.ok, report.failures()
    cells = report.matrix()
    for server in ("functions", twin):
        for caller in ("functions", twin):
            assert cells[(server, caller)].results == dict.fromkeys(MESH, "passed")

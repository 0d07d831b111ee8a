"""`scenarios.run` on scenarios of one's own: the public names, isolation, models, errors."""

from __future__ import annotations

import asyncio
import sys

import pytest

import scenarios
from scenarios import (
    Contains,
    FinalState,
    Message,
    NoteSeen,
    Participant,
    SameContext,
    Scenario,
    Step,
    Streamed,
)

pytestmark = pytest.mark.anyio


def test_all_is_sorted_and_pinned() -> None:
    assert scenarios.__all__ == sorted(scenarios.__all__, key=lambda n: (not n.isupper(), n))
    assert {"run", "arun", "Report", "Scenario", "bundled"} <= set(scenarios.__all__)
    for name in scenarios.__all__:
        assert hasattr(scenarios, name)


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
    report = scenarios.run(_functions_scenario(), isolation=isolation)  # type: ignore[arg-type]
    result = report["own"]
    assert report.ok, report.failures()
    assert [s.status for s in result.steps] == ["passed", "passed"]
    # The server's own notes cross the process boundary too.
    assert [n.text for n in result.notes] == ["run started", "run cancelled"]
    assert {e.server for e in result.exchanges} == {"server"}


async def test_run_from_async_code() -> None:
    report = scenarios.run(_functions_scenario())
    assert report.ok
    report = await scenarios.arun(_functions_scenario())
    assert report.ok and asyncio.get_running_loop().is_running()


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'nope': choose from code-review"):
        scenarios.run("nope")


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
    report = scenarios.run(scenario, model="openai:gpt-4o-mini")
    assert report.ok
    assert report["modelled"].remarks == ["server kept its script: functions takes no model"]
    assert report["modelled"].participants[0]["model"] is None


def test_a_model_without_its_key_leaves_the_script_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    coder = Participant("coder", "pydantic_ai", "server", behaviour="coder", open_ended=True)
    scenario = Scenario(
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
    report = scenarios.run(scenario, model="openai:gpt-4o-mini")
    result = report["keyless"]
    if result.status == "skipped":
        pytest.skip(result.reason)
    assert result.remarks == [
        "coder kept its script instead of openai:gpt-4o-mini: OPENAI_API_KEY is not set"
    ]
    assert [c.status for c in result.steps[0].checks] == ["passed"]


def test_a_missing_framework_skips_its_steps_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import scenarios.runner

    def missing(framework: str) -> str | None:
        return "not installed: pretend" if framework == "ag2" else None

    monkeypatch.setattr(scenarios.runner, "missing", missing)
    scenario = Scenario(
        name="partial",
        title="Half installed",
        description="The AG2 caller's step is skipped; the plain function's runs.",
        participants=(
            Participant("server", "functions", "server"),
            Participant("fn", "functions", "caller"),
            Participant("ag", "ag2", "caller"),
        ),
        steps=(
            Step("fn", ("server",), (Message("echo a"),), expect=(Contains("echo: a"),)),
            Step("ag", ("server",), (Message("echo b"),), expect=(Contains("echo: b"),)),
        ),
    )
    report = scenarios.run(scenario)
    result = report["partial"]
    assert [s.status for s in result.steps] == ["passed", "skipped"]
    assert result.steps[1].reason == "ag2 not installed"
    assert report.ok and result.status == "passed"


def test_a_missing_langgraph_skips_the_asking_langchain_agent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("langchain_core")
    monkeypatch.setitem(sys.modules, "langgraph", None)  # `import langgraph` fails
    scenario = Scenario(
        name="no-langgraph",
        title="LangChain without LangGraph",
        description="The LangChain clarifier needs langgraph; the plain function still runs.",
        participants=(
            Participant("lc-agent", "langchain", "server", behaviour="clarifier"),
            Participant("fn-agent", "functions", "server", behaviour="clarifier"),
            Participant("fn", "functions", "caller"),
        ),
        steps=(
            Step("fn", ("lc-agent",), (Message("plan a trip"),), expect=(FinalState("completed"),)),
            Step("fn", ("fn-agent",), (Message("echo a"),), expect=(Contains("echo: a"),)),
        ),
    )
    result = scenarios.run(scenario)["no-langgraph"]
    assert [s.status for s in result.steps] == ["skipped", "passed"]
    assert result.steps[0].reason == "lc-agent needs langgraph, not installed"
    assert result.status == "passed"

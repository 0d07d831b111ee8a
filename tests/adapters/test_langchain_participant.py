"""The LangChain scenario participant: its scripted servers, served, answered by its callers."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

import asyncio
from collections.abc import AsyncIterator, Iterator

from a2a_bridges.adapters.langchain import to_a2a
from a2a_bridges.adapters.participants.langchain import LangChainCaller, participant
from a2a_bridges.testing import running
from a2a_bridges.testing.participant import File, Message
from a2a_bridges.testing.script import FAILURE, QUESTION, VERDICT, after_answer

notes: list[str] = []


@pytest.fixture(scope="module")
def assistant() -> Iterator[str]:
    with running(to_a2a(participant.server("lc-assistant", "assistant", notes.append))) as url:
        yield url


@pytest.fixture
async def caller() -> AsyncIterator[LangChainCaller]:
    caller = participant.caller("lc-caller", "caller", {"X-Test": "1"})
    yield caller
    await caller.aclose()


@pytest.mark.anyio
async def test_says_remembers_streams_and_fails(assistant: str, caller: LangChainCaller) -> None:
    echo = await caller.send(assistant, Message("echo hi"), thread="a")
    assert (echo.text, echo.state, echo.native) == ("echo: hi", "completed", "AIMessage")
    await caller.send(assistant, Message("remember the tea"), thread="a")
    recall = await caller.send(assistant, Message("recall"), thread="a")
    assert recall.text == "You asked me to remember the tea."
    other = await caller.send(assistant, Message("recall"), thread="b")
    assert other.text == "I remember nothing."
    streamed = await caller.send(assistant, Message("stream"), thread="c", stream=True)
    assert len(streamed.deltas) > 1 and "".join(streamed.deltas) == streamed.text
    data = await caller.send(assistant, Message("data"), thread="d")
    assert data.data == VERDICT
    failed = await caller.send(assistant, Message("fail"), thread="e")
    assert failed.error is not None and FAILURE in failed.error


@pytest.mark.anyio
async def test_a_file_arrives(assistant: str, caller: LangChainCaller) -> None:
    file = File("notes.txt", "text/plain", b"hello")
    answer = await caller.send(assistant, Message("file", file), thread="f")
    assert answer.text.startswith("file text/plain 5 bytes sha256 ")


@pytest.mark.anyio
async def test_cancel_stops_the_served_run(assistant: str, caller: LangChainCaller) -> None:
    notes.clear()
    answer = await caller.cancel(assistant, Message("slow"), thread="g")
    assert answer.state == "cancelled by the caller"
    for _ in range(100):
        if "run cancelled" in notes:
            break
        await asyncio.sleep(0.05)
    assert notes == ["run started", "run cancelled"]


@pytest.mark.anyio
async def test_the_clarifier_asks_and_takes_the_answer(caller: LangChainCaller) -> None:
    pytest.importorskip("langgraph")
    server = participant.server("lc-clarifier", "clarifier", notes.append)
    with running(to_a2a(server)) as url:
        question = await caller.send(url, Message("plan a trip"), thread="h")
        answer = await caller.send(url, Message("Lisbon"), thread="h")
    assert (question.state, question.text) == ("input-required", QUESTION)
    assert (answer.state, answer.text) == ("completed", after_answer(QUESTION, "Lisbon"))


@pytest.mark.anyio
async def test_the_lead_asks_remote_agents_through_tools() -> None:
    scouts = [participant.server(f"lc-{b}", b, notes.append) for b in ("scout", "checker")]
    lead = participant.caller("lc-lead", "lead", {})
    with running(to_a2a(scouts[0])) as scout, running(to_a2a(scouts[1])) as checker:
        answer = await lead.orchestrate({"scout": scout, "checker": checker}, Message("A2A"))
    await lead.aclose()
    assert answer.text.startswith("Report on A2A: [lc-scout] Scout notes on A2A")
    assert "[lc-checker] Checked A2A" in answer.text

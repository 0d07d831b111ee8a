"""The AG2 scenario participant: its scripted agent served, called by its own native caller."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

pytest.importorskip("autogen")

from a2a_bridges.adapters.ag2 import adapter
from a2a_bridges.adapters.participants.ag2 import participant
from a2a_bridges.testing import running
from a2a_bridges.testing.participant import Message, load_participant
from a2a_bridges.testing.script import QUESTION, REVIEW, after_answer, chunks

STREAMED = "Four frameworks, one protocol, streamed word by word."


@pytest.fixture(scope="module")
def notes() -> list[str]:
    return []


@pytest.fixture(scope="module")
def url(notes: list[str]) -> Iterator[str]:
    agent = participant.server("ag2-agent", "assistant", notes.append)
    with running(adapter.to_a2a(agent)) as url:
        yield url


def test_the_adapter_names_its_participant() -> None:
    assert adapter.participant is not None
    assert load_participant(adapter.participant) is participant


@pytest.mark.anyio
async def test_the_caller_streams_and_remembers(url: str) -> None:
    caller = participant.caller("ag2-caller", "user", {})
    seen: list[str] = []
    answer = await caller.send(
        url, Message("stream"), thread="a", stream=True, on_delta=seen.append
    )
    assert answer.text == STREAMED
    assert seen == answer.deltas == chunks(STREAMED)
    await caller.send(url, Message("remember the tulips"), thread="a")
    recalled = await caller.send(url, Message("recall"), thread="a")
    assert recalled.text == "You asked me to remember the tulips."
    other = await caller.send(url, Message("recall"), thread="b")  # a new chat, a new context
    assert other.text == "I remember nothing."
    await caller.aclose()


@pytest.mark.anyio
async def test_the_caller_answers_a_question(url: str) -> None:
    caller = participant.caller("ag2-caller", "user", {})
    asked = await caller.send(url, Message("plan a trip"), thread="q")
    assert asked.text == QUESTION
    done = await caller.send(url, Message("Porto"), thread="q")
    assert done.text == after_answer(QUESTION, "Porto")
    await caller.aclose()


@pytest.mark.anyio
async def test_the_caller_cancels_the_remote_run(url: str, notes: list[str]) -> None:
    caller = participant.caller("ag2-caller", "user", {})
    answer = await caller.cancel(url, Message("slow"), thread="c")
    assert answer.state == "cancelled by the caller"
    assert answer.deltas and "".join(answer.deltas).startswith("working")
    await caller.aclose()  # waits for the remote cancel under way
    with anyio.fail_after(10):
        while "run cancelled" not in notes:
            await anyio.sleep(0.05)
    assert "run finished" not in notes


@pytest.mark.anyio
async def test_the_reviewer_orchestrates_a_remote_coder(notes: list[str]) -> None:
    coder = participant.server("coder", "coder", notes.append)
    reviewer = participant.caller("ag2-reviewer", "reviewer", {})
    with running(adapter.to_a2a(coder)) as url:
        answer = await reviewer.orchestrate({"coder": url}, Message(REVIEW[0]))
    await reviewer.aclose()
    assert answer.chat is not None
    assert [m["name"] for m in answer.chat] == ["ag2-reviewer", "coder"] * 3
    assert [m["content"] for m in answer.chat[::2]] == list(REVIEW)
    assert '"""Return the sum of a and b."""' in answer.text

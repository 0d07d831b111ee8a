"""Plain functions of every shape served, and remote agents as plain async functions."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from a2a_bridges import (
    Conversation,
    DataPart,
    RemoteAgent,
    Reply,
    TextDelta,
    TextPart,
    from_a2a,
    to_a2a,
)
from a2a_bridges.testing import running

pytestmark = pytest.mark.anyio


def sync_text(text: str) -> str:
    """Answers in a worker thread."""
    return f"{text} from {threading.current_thread().name != 'MainThread'}"


def sync_words(conversation: Conversation) -> Iterator[str]:
    yield from conversation.text.split()


async def returns_data(text: str) -> dict[str, Any]:
    return {"length": len(text)}


def returns_none(text: str) -> None:
    return None


class Counter:
    """A callable object with an async __call__."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, conversation: Conversation) -> str:
        self.calls += 1
        return f"call {self.calls}"


class Streamer:
    async def __call__(self, text: str) -> AsyncIterator[str]:
        for word in text.split():
            yield word


async def events(url: str, text: str) -> list[TextDelta | Reply]:
    async with RemoteAgent(url) as remote:
        return [e async for e in remote.stream(text)]


@pytest.mark.parametrize(
    "agent,text,expected",
    [
        (sync_text, "hi", "hi from True"),
        (returns_none, "hi", ""),
        (Counter(), "x", "call 1"),
    ],
    ids=["sync", "none", "callable-object"],
)
async def test_shapes(agent: Any, text: str, expected: str) -> None:
    with running(to_a2a(agent)) as url:
        reply = (await events(url, text))[-1]
    assert isinstance(reply, Reply) and reply.text == expected


@pytest.mark.parametrize(
    "agent", [sync_words, Streamer()], ids=["sync-generator", "async-gen-object"]
)
async def test_generators_stream_each_item(agent: Any) -> None:
    with running(to_a2a(agent)) as url:
        got = await events(url, "one two three")
    assert [e.text for e in got if isinstance(e, TextDelta)] == ["one", "two", "three"]
    assert isinstance(got[-1], Reply) and got[-1].text == "onetwothree"


async def test_json_value_becomes_a_data_part() -> None:
    with running(to_a2a(returns_data)) as url:
        reply = (await events(url, "four"))[-1]
    # The data, and its JSON for callers that read only text.
    assert isinstance(reply, Reply) and reply.parts == (
        DataPart({"length": 4}),
        TextPart('{"length": 4}'),
    )


async def test_from_a2a_gives_an_async_function_of_text() -> None:
    async def history(conversation: Conversation) -> str:
        return " | ".join(t.text for t in conversation.turns if t.role == "user")

    with running(to_a2a(history)) as url:
        ask = from_a2a(url)  # plain functions are the default
        assert await ask("one") == "one"
        assert await ask("two") == "two"  # each call stands alone
        reply = await ask.reply("three")
        assert reply.text == "three" and reply.state == "completed"
        chat = from_a2a(url, conversation=True)  # unless it holds a conversation
        assert await chat("one") == "one"
        assert await chat("two") == "one | two"
        assert await asyncio.to_thread(chat.sync, "three") == "one | two | three"

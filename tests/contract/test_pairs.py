"""The contract every adapter keeps, for every pair: each registered framework's scripted agent
served, each registered framework's native remote type calling it (ids `caller->server`).

An adapter gets this whole suite by being registered with a participant; what is particular to
one framework is tested beside its adapter, in tests/adapters.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from a2a_bridges import to_a2a
from a2a_bridges.registry import registered
from a2a_bridges.testing import running
from a2a_bridges.testing.participant import (
    Answer,
    Caller,
    File,
    Message,
    Participant,
    load_participant,
)
from a2a_bridges.testing.script import FAILURE, PIXEL, QUESTION, VERDICT
from tests.contract.sdk_caller import TRANSPORTS, SdkCaller

pytestmark = pytest.mark.anyio


def _participants() -> dict[str, Participant | str]:
    """Every registered framework's participant, or why it has none here."""
    found: dict[str, Participant | str] = {}
    for entry in registered():
        if entry.adapter is None:
            found[entry.name] = f"{entry.name} is not installed: {entry.error}"
        elif entry.adapter.participant is None:
            continue  # no framework of its own to play (the proxy)
        else:
            found[entry.name] = load_participant(entry.adapter.participant)
    return found


PARTICIPANTS = _participants()
NAMES = list(PARTICIPANTS)


def _participant(name: str) -> Participant:
    found = PARTICIPANTS[name]
    if isinstance(found, str):
        pytest.skip(found)
    return found


@dataclass
class Served:
    """One framework's scripted agents, served, and what their runs reported."""

    framework: str
    participant: Participant
    urls: dict[str, str]
    notes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, text: str) -> None:
        with self.lock:
            self.notes.append(text)


class Servers:
    """Each framework's scripted agents, served once for the module, on first use."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self.stack = stack
        self.served: dict[str, Served] = {}

    def get(self, framework: str) -> Served:
        if framework not in self.served:
            participant = _participant(framework)
            served = Served(framework, participant, {})
            for behaviour in ["assistant"] + (["clarifier"] if participant.asks else []):
                package = participant.needs.get(behaviour)
                if package is not None and importlib.util.find_spec(package) is None:
                    continue
                name = f"{participant.short}-{behaviour}"
                agent = participant.server(name, behaviour, served.note)
                served.urls[behaviour] = self.stack.enter_context(running(to_a2a(agent)))
            self.served[framework] = served
        return self.served[framework]


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with contextlib.ExitStack() as stack:
        yield Servers(stack)


# Besides every framework's native remote type, the bare a2a-sdk client calls every server.
CALLERS = [*NAMES, *(f"a2a_sdk-{t}" for t in TRANSPORTS)]
PAIRS = [(c, s) for s in NAMES for c in CALLERS]


@pytest.fixture(params=PAIRS, ids=[f"{c}->{s}" for c, s in PAIRS])
async def pair(request: pytest.FixtureRequest, servers: Servers) -> AsyncIterator[Pair]:
    caller_name, server_name = request.param
    served = servers.get(server_name)
    caller: Caller
    if caller_name.startswith("a2a_sdk-"):
        caller, text_only = SdkCaller(caller_name.removeprefix("a2a_sdk-")), False
    else:
        participant = _participant(caller_name)
        caller = participant.caller(f"{participant.short}-caller", "assistant", {})
        text_only = participant.text_only
    yield Pair(caller, text_only, served)
    await caller.aclose()


@dataclass
class Pair:
    """A framework's native caller, and the served agents of another (or the same) one."""

    caller: Caller
    text_only: bool  # the caller's
    served: Served

    @property
    def structured(self) -> bool:
        """Whether both ends carry structured data as data."""
        return not (self.text_only or self.served.participant.text_only)


async def _say(caller: Caller, url: str, *texts: str, thread: str, **options: Any) -> list[Answer]:
    answers = []
    for text in texts:
        async with asyncio.timeout(30):
            answers.append(await caller.send(url, Message(text), thread=thread, **options))
    return answers


def _text(answer: Answer) -> str:
    assert answer.error is None, answer.error
    return answer.text


async def test_single_turn(pair: Pair) -> None:
    caller, served = pair.caller, pair.served
    (answer,) = await _say(caller, served.urls["assistant"], "echo hello", thread="single")
    assert "echo: hello" in _text(answer)


async def test_memory(pair: Pair) -> None:
    caller, served = pair.caller, pair.served
    url = served.urls["assistant"]
    answers = await _say(caller, url, "remember kiwi", "recall", thread="memory")
    assert "You asked me to remember kiwi." in _text(answers[1])
    # Another conversation remembers nothing of it.
    (other,) = await _say(caller, url, "recall", thread="memory-other")
    assert "I remember nothing." in _text(other)


async def test_streaming(pair: Pair) -> None:
    caller, served = pair.caller, pair.served
    (answer,) = await _say(caller, served.urls["assistant"], "stream", thread="stream", stream=True)
    expected = "Four frameworks, one protocol, streamed word by word."
    assert expected in _text(answer)
    assert len(answer.deltas) >= 3
    assert "".join(answer.deltas).strip() == expected  # each piece once, in order


async def test_data(pair: Pair) -> None:
    caller, served = pair.caller, pair.served
    (answer,) = await _say(
        caller, served.urls["assistant"], "data", thread="data", output="verdict"
    )
    assert answer.error is None, answer.error
    if answer.data is not None or pair.structured:
        assert answer.data == VERDICT
    else:
        assert json.loads(answer.text) == VERDICT


async def test_file(pair: Pair) -> None:
    caller, served = pair.caller, pair.served
    digest = hashlib.sha256(PIXEL).hexdigest()[:12]
    message = Message("file", File("pixel.png", "image/png", PIXEL))
    async with asyncio.timeout(30):
        answer = await caller.send(served.urls["assistant"], message, thread="file")
    assert f"image/png {len(PIXEL)} bytes sha256 {digest}" in _text(answer)


async def test_failure_is_readable_and_the_server_keeps_serving(pair: Pair) -> None:
    caller, served = pair.caller, pair.served
    failed, after = await _say(
        caller, served.urls["assistant"], "fail now", "echo still serving", thread="failure"
    )
    seen = failed.error if failed.error is not None else failed.text
    assert FAILURE in seen and "Traceback" not in seen
    assert "echo: still serving" in _text(after)


async def test_input_required_is_answered_in_the_same_task(pair: Pair) -> None:
    caller, served = pair.caller, pair.served
    if "clarifier" not in served.urls:
        pytest.skip(f"{served.framework}'s agents cannot ask their caller")
    question, done = await _say(
        caller, served.urls["clarifier"], "plan a weekend trip", "Lisbon", thread="clarify"
    )
    assert QUESTION in _text(question)
    assert "Planned three days in Lisbon." in _text(done)


async def test_cancel_stops_the_remote_run(pair: Pair) -> None:
    caller, served = pair.caller, pair.served
    before = len(served.notes)
    async with asyncio.timeout(30):
        answer = await caller.cancel(
            served.urls["assistant"], Message("slow please"), thread="cancel"
        )
    assert answer.deltas, "the first words arrived before the cancel"
    for _ in range(200):
        if "run cancelled" in served.notes[before:]:
            break
        await asyncio.sleep(0.025)
    assert "run cancelled" in served.notes[before:]
    assert "run finished" not in served.notes[before:]

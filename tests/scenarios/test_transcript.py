"""The recording middleware: what it records, and that it changes nothing on the wire."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from a2a_bridges import Conversation, FilePart, RemoteAgent, TextDelta, TextPart, to_a2a
from a2a_bridges.scenarios.transcript import CALLER_HEADER, JsonlSink, Recording, Transcript
from a2a_bridges.testing import running

pytestmark = pytest.mark.anyio


async def chatty(conversation: Conversation) -> AsyncIterator[str]:
    """Streams three words, or describes a file."""
    files = [p for p in conversation.last.parts if isinstance(p, FilePart)]
    if files:
        yield f"{len(files[0].bytes or b'')} bytes"
        return
    for word in ("one ", "two ", "three"):
        yield word


async def test_a_streamed_exchange_is_recorded_as_it_passed() -> None:
    transcript = Transcript()
    app = Recording(to_a2a(chatty), server="chatty", framework="functions", sink=transcript)
    with running(app) as url:
        async with RemoteAgent(url, headers={CALLER_HEADER: "tester"}) as remote:
            chat = remote.conversation()
            deltas = [e.text async for e in chat.stream("go") if isinstance(e, TextDelta)]
            payload = FilePart(bytes=b"\x00\x01binary", media_type="application/octet-stream")
            reply = await chat.send([TextPart("file"), payload])
    assert deltas == ["one ", "two ", "three"]  # passed through untouched, one by one
    assert reply.text == "8 bytes"
    exchanges, notes, still_open = transcript.snapshot()
    assert still_open == 0 and notes == []
    cards = [e for e in exchanges if e.method == "card"]
    streamed = [e for e in exchanges if e.method == "SendStreamingMessage"]
    assert len(cards) == 1 and len(streamed) == 2
    first, second = streamed
    assert first.caller == "tester" and first.server_framework == "functions"
    assert first.states == ["submitted", "working", "completed"]
    assert first.chunks == 3 and first.answer_parts == [{"text": "one two three"}]
    assert first.request_parts == [{"text": "go"}]
    assert second.context_id == first.result_context_id  # the conversation went on
    digest = hashlib.sha256(b"\x00\x01binary").hexdigest()[:12]
    assert second.request_parts[1] == {
        "file": {
            "name": None,
            "media_type": "application/octet-stream",
            "bytes": 8,
            "sha256": digest,
        }
    }
    times = [ev.t for ev in first.events]
    assert times == sorted(times) and first.started <= times[0] <= (first.ended or 0)


async def test_plain_requests_and_a_child_process_file(tmp_path: Path) -> None:
    record = tmp_path / "child.jsonl"
    sink = JsonlSink(record)
    app = Recording(to_a2a(chatty), server="chatty", framework="functions", sink=sink)
    with running(app) as url:
        async with RemoteAgent(url, streaming=False) as remote:
            reply = await remote.send("go")
            assert reply.task_id is not None
            task = await remote.get_task(reply.task_id)
    sink.note("chatty", "done")
    transcript = Transcript()
    transcript.follow(record)
    exchanges, notes, still_open = transcript.snapshot()
    assert still_open == 0 and [n.text for n in notes] == ["done"]
    methods = [e.method for e in exchanges]
    assert methods == ["card", "SendMessage", "GetTask"]
    sent, got = exchanges[1], exchanges[2]
    assert sent.caller == "unknown"  # no header: the recording cannot tell who called
    assert sent.final_state == "completed" and sent.answer_parts == [{"text": "one two three"}]
    assert got.task_id == task.id and got.final_state == "completed"


def test_a_line_the_child_is_still_writing_is_read_once_it_is_whole(tmp_path: Path) -> None:
    record = tmp_path / "child.jsonl"
    JsonlSink(record).note("chatty", "done")
    whole = record.read_text()
    record.write_text(whole + whole[: len(whole) // 2])  # the child is halfway through a line
    transcript = Transcript()
    transcript.follow(record)
    assert [n.text for n in transcript.snapshot()[1]] == ["done"]
    record.write_text(whole * 2)
    assert [n.text for n in transcript.snapshot()[1]] == ["done", "done"]

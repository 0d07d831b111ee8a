"""Each peer quirk the core absorbs (a2a_bridges.quirks), against a server that has it."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import pytest
from a2a.client import ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.types import Message, Part, Role, SendMessageRequest

from a2a_bridges import (
    Conversation,
    DataPart,
    RemoteAgent,
    TextDelta,
    TextPart,
    Turn,
    quirks,
    to_a2a,
)
from a2a_bridges.testing import running
from a2a_bridges.testing.quirky import Quirk, quirky_app

pytestmark = pytest.mark.anyio

ANSWER = "echo: hello there"
STREAM_QUIRKS: list[Quirk] = [
    "none",
    "message-reply",
    "status-stream",  # langgraph-a2a 0.1.6
    "replace-artifact",  # fasta2a 2.1.1, ag2 1.2.1
    "append-whole",  # AG2 classic, autogen 0.14.1
    "status-repeat",
    "naive-timestamps",  # fasta2a 2.1.1
    "non-blocking",  # fasta2a 2.1.1
    "loopback-card",  # AG2 classic, autogen 0.14.1
]


@pytest.mark.parametrize("quirk", STREAM_QUIRKS)
async def test_the_answer_arrives_once_streaming_or_not(quirk: Quirk) -> None:
    with running(quirky_app(quirk)) as url:
        async with RemoteAgent(url) as remote:
            events = [e async for e in remote.stream("hello there")]
        async with RemoteAgent(url, streaming=False) as remote:
            blocking = await remote.send("hello there")
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert deltas == ANSWER  # streamed once, not twice
    assert events[-1].text == ANSWER and blocking.text == ANSWER  # type: ignore[union-attr]
    assert blocking.state == "completed"


async def test_naive_timestamps_fail_the_sdk_client_but_not_ours() -> None:
    """fasta2a 2.1.1 writes `datetime.now().isoformat()`: the a2a-sdk 1.x client cannot parse it."""
    with running(quirky_app("naive-timestamps", streaming=False)) as url:
        async with httpx.AsyncClient() as http:
            card = parse_agent_card((await http.get(url + "/.well-known/agent-card.json")).json())
            client = ClientFactory(ClientConfig(httpx_client=http, streaming=False)).create(card)
            message = Message(
                message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[Part(text="hi")]
            )
            with pytest.raises(Exception, match="timestamp"):
                [e async for e in client.send_message(SendMessageRequest(message=message))]
        async with RemoteAgent(url) as remote:
            assert (await remote.send("hi")).text == "echo: hi"


async def test_a_peer_that_answers_before_it_is_done_is_polled() -> None:
    """fasta2a 2.1.1 ignores `blocking`: its first answer is a task still working."""
    with running(quirky_app("non-blocking", streaming=False)) as url:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "SendMessage",
            "params": {
                "message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "x"}]}
            },
        }
        async with httpx.AsyncClient() as http:
            first = (await http.post(url + "/", json=body, headers={"A2A-Version": "1.0"})).json()
        assert first["result"]["task"]["status"]["state"] != "TASK_STATE_COMPLETED"
        async with RemoteAgent(url, poll_interval=0.05) as remote:
            reply = await remote.send("x")
    assert reply.text == "echo: x" and reply.state == "completed"


async def test_a_loopback_card_on_another_port_means_the_address_reached() -> None:
    """AG2 classic's A2aAgentServer (autogen 0.14.1) names localhost:8000 whatever its port."""
    with running(quirky_app("loopback-card")) as url:
        async with RemoteAgent(url) as remote:
            card = await remote.card()
            assert remote.card_data is not None
            assert remote.card_data["supportedInterfaces"][0]["url"] == "http://localhost:8000/"
            assert card.supported_interfaces[0].url == url + "/"
            assert (await remote.send("hi")).text == "echo: hi"
    assert quirks.point_at_reached(["https://agents.example.com/"], "http://127.0.0.1:9") == [
        "https://agents.example.com/"
    ]


def test_repeated_answers_are_recognised() -> None:
    assert quirks.repeats_streamed("ab", "ab", append=False, last_chunk=True)
    assert quirks.repeats_streamed("ab", "ab", append=True, last_chunk=True)
    # A chunk that happens to repeat the text so far, mid-stream, is new text.
    assert not quirks.repeats_streamed("ha", "ha", append=True, last_chunk=False)
    assert not quirks.repeats_streamed("b", "ab", append=False, last_chunk=True)
    stored = [[TextPart("a"), TextPart("b"), TextPart("ab")]]
    assert quirks.without_repeats(stored) == [[TextPart("ab")]]
    assert quirks.without_repeats([[TextPart("a"), TextPart("b")], [TextPart("ab")]]) == [
        [TextPart("ab")]
    ]
    assert quirks.without_repeats([[TextPart("a")], [TextPart("b")]]) == [
        [TextPart("a")],
        [TextPart("b")],
    ]
    patched = quirks.patch_naive_timestamps(b'{"timestamp": "2026-11-01T10:00:00.5"}')
    assert patched == b'{"timestamp": "2026-11-01T10:00:00.5Z"}'


# --- the server side: history that stateless callers send inline ---


def turns_seen(conversation: Conversation) -> str:
    """Lists every turn it was given."""
    return " | ".join(f"{t.role}:{t.text}" for t in conversation.turns)


async def _send_parts(url: str, parts: Sequence[Mapping[str, Any]]) -> str:
    return str((await _artifact_parts(url, parts))[0]["text"])


async def test_ag2_classic_history_is_the_conversation() -> None:
    """AG2 classic's A2aRemoteAgent (autogen 0.14.1) sends the whole chat, a part per message,
    with a fresh contextId each time."""
    parts = [
        {"kind": "text", "text": "hi", "metadata": {"role": "user", "name": "ana"}},
        {"kind": "text", "text": "hello ana", "metadata": {"role": "assistant", "name": "bot"}},
        {"kind": "text", "text": "again", "metadata": {"role": "user", "name": "ana"}},
    ]
    with running(to_a2a(turns_seen)) as url:
        assert await _send_parts(url, parts) == "user:hi | agent:hello ana | user:again"


async def test_ag2_history_data_part_is_the_conversation() -> None:
    """ag2 1.x's client (ag2 1.2.1) attaches its history to every message as a data part."""
    history = {
        "events": [
            {"kind": "user_input", "parts": [{"type": "text", "text": "hi"}]},
            {"kind": "model_response", "content": "hello", "tool_calls": []},
            {"kind": "tool_call", "name": "lookup", "arguments": "{}"},
        ]
    }
    turn = Turn(
        "user", (TextPart("again"), DataPart(history, media_type=quirks.AG2_HISTORY_MEDIA_TYPE))
    )
    found = quirks.inline_history(turn)
    assert found is not None
    earlier, new = found
    assert [(t.role, t.text) for t in earlier] == [("user", "hi"), ("agent", "hello")]
    assert new.parts == (TextPart("again"),)
    with running(to_a2a(turns_seen)) as url:
        async with RemoteAgent(url) as remote:
            reply = await remote.send(turn)
    assert reply.text == "user:hi | agent:hello | user:again"


def test_a_single_message_with_role_metadata_is_not_history() -> None:
    turn = Turn("user", (TextPart("hi", metadata={"role": "user"}),))
    assert quirks.inline_history(turn) is None
    binary = base64.b64encode(b"\x89PNG").decode()
    data = {"events": [{"kind": "user_input", "parts": [{"type": "binary", "data": binary}]}]}
    found = quirks.inline_history(
        Turn("user", (DataPart(data, media_type=quirks.AG2_HISTORY_MEDIA_TYPE),))
    )
    assert found is not None and found[0][0].parts[0].bytes == b"\x89PNG"  # type: ignore[union-attr]


# --- found by the interop matrix (interop/, docs/interop.md) ---


async def test_fasta2a_structured_output_is_the_value_it_wraps() -> None:
    """fasta2a 2.1.1 wraps a Pydantic AI agent's structured output as {"result": value}."""
    with running(quirky_app("wrapped-data")) as url:
        async with RemoteAgent(url) as remote:
            reply = await remote.send("hello there")
    assert reply.data == {"answer": ANSWER}
    plain = DataPart({"result": 1})  # no schema beside it: the caller's own data, kept
    assert quirks.unwrapped(plain) is plain


def verdict(conversation: Conversation) -> DataPart:
    """Answers with data."""
    return DataPart({"verdict": "approved", "score": 7})


async def test_ag2_classic_callers_get_data_as_json_text_only() -> None:
    """AG2 classic's A2aRemoteAgent (autogen 0.14.1) makes a data part a chat message of its
    own, which its chat refuses: it gets the JSON rendering alone."""
    ag2_classic = [{"kind": "text", "text": "data", "metadata": {"role": "user", "name": "u"}}]
    plain = [{"kind": "text", "text": "data"}]
    with running(to_a2a(verdict)) as url:
        to_ag2 = await _artifact_parts(url, ag2_classic)
        to_others = await _artifact_parts(url, plain)
    assert [p["kind"] for p in to_ag2] == ["text"]
    assert json.loads(to_ag2[0]["text"]) == {"verdict": "approved", "score": 7}
    assert sorted(p["kind"] for p in to_others) == ["data", "text"]  # others keep the data


async def _artifact_parts(url: str, parts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "message/send",
        "params": {
            "message": {"kind": "message", "messageId": "m1", "role": "user", "parts": parts}
        },
    }
    async with httpx.AsyncClient() as http:
        result = (await http.post(url + "/", json=body)).json()["result"]
    found: list[dict[str, Any]] = result["artifacts"][0]["parts"]
    return found


async def words(conversation: Conversation) -> AsyncIterator[str]:
    """Streams two words."""
    for word in ("echo: ", "hello"):
        yield word


async def test_adk_callers_get_the_whole_answer_as_the_last_chunk() -> None:
    """google-adk's RemoteA2aAgent (google-adk 2.13) keeps only the last chunk's event as the
    answer, so after the chunks it gets the whole answer, replacing them."""
    with running(to_a2a(words)) as url:
        async with httpx.AsyncClient() as http:
            card = parse_agent_card((await http.get(url + "/.well-known/agent-card.json")).json())
            client = ClientFactory(ClientConfig(httpx_client=http)).create(card)
            for marked in (True, False):
                meta = {"is_user_input": True} if marked else None
                part = Part(text="stream")
                if meta:
                    part.metadata.update(meta)
                message = Message(message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[part])
                updates = [
                    e.artifact_update
                    async for e in client.send_message(SendMessageRequest(message=message))
                    if e.HasField("artifact_update")
                ]
                last = updates[-1]
                assert last.last_chunk and len(updates) == 3
                whole = (not last.append, "".join(p.text for p in last.artifact.parts))
                assert whole == ((True, "echo: hello") if marked else (False, ""))
            await client.close()


async def test_a_stateless_ag2_server_is_sent_the_conversation_so_far() -> None:
    """ag2 1.x's A2AServer (ag2 1.2.1) keeps no conversation: a message carries its history."""
    with running(quirky_app("inline-history")) as url:
        async with RemoteAgent(url) as remote:
            chat = remote.conversation()
            first = await chat.send("hello")
            second = await chat.send("again")
            alone = await remote.send("alone")
    assert first.text == "echo: hello (after 0 turns)"
    assert second.text == "echo: again (after 2 turns)"
    assert alone.text == "echo: alone (after 0 turns)"
    with running(quirky_app("none")) as url:  # a server that keeps the conversation itself
        async with RemoteAgent(url) as remote:
            chat = remote.conversation()
            await chat.send("hello")
            assert (await chat.send("again")).text == "echo: again" and not chat.turns

"""What a served ConversableAgent sees of the conversation: AG2 classic's inline history (one
text part per message, the message's keys in its metadata), tool messages, and answers to its
questions, also after a restart. Real servers; the requests are shaped as AG2's client sends them.
"""

from __future__ import annotations

import json
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("autogen")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ImportWarning)
    from autogen import Agent, ConversableAgent

import httpx
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import Message, Role, SendMessageRequest, Task, TaskState
from a2a.types import Part as A2APart
from google.protobuf import struct_pb2

from a2a_bridges.adapters.ag2 import to_a2a
from a2a_bridges.testing import running
from tests.adapters.test_ag2 import booker_agent

CALL = {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
KEYS = ("role", "name", "content", "tool_calls", "tool_responses")


def transcript_agent() -> ConversableAgent:
    """Answers with the messages it was given, as JSON."""
    agent = ConversableAgent("transcript", llm_config=False, human_input_mode="NEVER")

    def reply(recipient: ConversableAgent, messages: Any, sender: Agent, config: Any) -> Any:
        seen = [{k: m[k] for k in KEYS if k in m} for m in messages]
        return True, json.dumps(seen)

    agent.register_reply([Agent, None], reply)
    return agent


def part(message: dict[str, Any]) -> A2APart:
    """A message as AG2 classic's client sends it: its content as text, the rest as metadata."""
    meta = struct_pb2.Struct()
    meta.update({k: v for k, v in message.items() if k != "content"})
    return A2APart(text=message.get("content") or "", metadata=meta)


async def send(url: str, parts: list[A2APart], *, context_id: str = "", task_id: str = "") -> Task:
    message = Message(
        message_id=uuid.uuid4().hex,
        role=Role.ROLE_USER,
        parts=parts,
        context_id=context_id,
        task_id=task_id,
    )
    async with httpx.AsyncClient(timeout=20) as http:
        card = await A2ACardResolver(http, url).get_agent_card()
        client = ClientFactory(ClientConfig(httpx_client=http, streaming=False)).create(card)
        events = [e async for e in client.send_message(SendMessageRequest(message=message))]
        await client.close()
    return events[-1].task


def answer(task: Task) -> str:
    return "".join(p.text for a in task.artifacts for p in a.parts)


@pytest.mark.anyio
async def test_ag2_classic_history_keeps_roles_names_and_tool_messages() -> None:
    history: list[dict[str, Any]] = [
        {"role": "user", "name": "user", "content": "add 2 and 3"},
        {"role": "assistant", "name": "calc", "content": "", "tool_calls": [CALL]},
        {"role": "tool", "content": "5", "tool_responses": [{"tool_call_id": "call_1"}]},
        {"role": "user", "name": "user", "content": "thanks"},
    ]
    with running(to_a2a(transcript_agent())) as url:
        task = await send(url, [part(m) for m in history], context_id=uuid.uuid4().hex)
    assert json.loads(answer(task)) == history


@pytest.mark.anyio
async def test_tool_messages_in_memory_are_rebuilt_after_a_restart(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'tasks.db'}"
    call = part({"content": "", "name": "calc", "tool_calls": [CALL]})
    result = part({"content": "5", "tool_responses": [{"tool_call_id": "call_1"}]})
    with running(to_a2a(transcript_agent(), store=store)) as url:
        first = await send(url, [call, result])
    with running(to_a2a(transcript_agent(), store=store)) as url:
        second = await send(url, [A2APart(text="and now?")], context_id=first.context_id)
    seen = json.loads(answer(second))
    assert [m["role"] for m in seen] == ["user", "tool", "assistant", "user"]
    assert seen[0] == {"role": "user", "name": "calc", "content": "", "tool_calls": [CALL]}
    assert seen[1]["tool_responses"] == [{"tool_call_id": "call_1"}] and seen[1]["content"] == "5"
    assert seen[3]["content"] == "and now?"


@pytest.mark.anyio
async def test_ag2_classic_answer_in_a_new_task_after_a_restart(tmp_path: Path) -> None:
    # AG2's client answers input-required in a new task of the same context, resending the
    # history without the question (it is not in the task's history).
    store = f"sqlite:///{tmp_path / 'tasks.db'}"
    asked_for = {"role": "user", "name": "user", "content": "a weekend"}
    with running(to_a2a(booker_agent(), store=store)) as url:
        asked = await send(url, [part(asked_for)], context_id=uuid.uuid4().hex)
    assert asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    with running(to_a2a(booker_agent(), store=store)) as url:
        parts = [part(asked_for), part({"role": "user", "content": "Faro"})]
        done = await send(url, parts, context_id=asked.context_id)
    assert done.id != asked.id
    assert done.status.state == TaskState.TASK_STATE_COMPLETED
    assert answer(done) == "Booked Faro for a weekend"

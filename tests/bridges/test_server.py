"""A served function agent, answered by the a2a-sdk client on each transport and raw JSON-RPC."""

from __future__ import annotations

import asyncio
import uuid

import anyio
import httpx
import pytest
from a2a.client import Client
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    TaskState,
)

from tests.bridges.conftest import GRPC, TRANSPORTS, Probe, sdk_client

pytestmark = pytest.mark.anyio


def request(text: str, context_id: str = "", task_id: str = "") -> SendMessageRequest:
    return SendMessageRequest(
        message=Message(
            message_id=uuid.uuid4().hex,
            role=Role.ROLE_USER,
            parts=[Part(text=text)],
            context_id=context_id,
            task_id=task_id,
        )
    )


async def final_task(
    client: Client, text: str, context_id: str = ""
) -> tuple[list[StreamResponse], str]:
    """Send, collect every event, and return them with the answer text from the stored task."""
    events = [e async for e in client.send_message(request(text, context_id))]
    task_id = next(e.task.id for e in events if e.HasField("task"))
    task = await client.get_task(GetTaskRequest(id=task_id))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    artifact_text = "".join(p.text for a in task.artifacts for p in a.parts)
    # The answer is in the artifact only: repeating it in the status makes clients show it twice.
    assert not task.status.HasField("message")
    return events, artifact_text


@pytest.fixture(params=TRANSPORTS)
async def client(request: pytest.FixtureRequest, server: str):  # type: ignore[no-untyped-def]
    binding, version = request.param
    client, http = await sdk_client(server, binding, version)
    # The 0.3 cases really go through the SDK's compat transports.
    assert type(client._transport).__name__.startswith("Compat") == (version == "0.3")  # type: ignore[attr-defined]
    yield client
    await client.close()
    await http.aclose()


async def test_send(client: Client) -> None:
    _, text = await final_task(client, "hello there")
    assert text == "echo: hello there"


async def test_stream_deltas_arrive_before_the_agent_finishes(client: Client, probe: Probe) -> None:
    chunks: list[str] = []
    answer = ""
    last_chunk = False
    states: list[int] = []
    async for event in client.send_message(request("stream please")):
        if event.HasField("artifact_update"):
            update = event.artifact_update
            text = "".join(p.text for p in update.artifact.parts)
            chunks.append(text)
            # Spec semantics: append adds to the artifact, otherwise the chunk replaces it.
            answer = answer + text if update.append else text
            last_chunk = update.last_chunk
            if text == "first ":
                assert not probe.finished.is_set()
                probe.gate.set()
        elif event.HasField("status_update"):
            states.append(event.status_update.status.state)
        elif event.HasField("task"):
            states.append(event.task.status.state)
    assert chunks[:2] == ["first ", "second"]
    assert answer == "first second" and last_chunk
    assert states[-1] == TaskState.TASK_STATE_COMPLETED
    assert TaskState.TASK_STATE_WORKING in states


async def test_multi_turn_memory_and_contexts_apart(client: Client) -> None:
    events, _ = await final_task(client, "one")
    context_a = next(e.task.context_id for e in events if e.HasField("task"))
    _, text = await final_task(client, "history a", context_a)
    assert text == "one | history a"
    events, text = await final_task(client, "history b")
    assert text == "history b"  # a new context sees nothing of the other
    _, text = await final_task(client, "history again", context_a)
    assert text == "one | history a | history again"


async def test_cancel_really_cancels_the_agent(client: Client, probe: Probe) -> None:
    task_ids: list[str] = []
    states: list[int] = []

    async def consume() -> None:
        async for event in client.send_message(request("slow")):
            if event.HasField("task"):
                task_ids.append(event.task.id)
                states.append(event.task.status.state)
            elif event.HasField("status_update"):
                states.append(event.status_update.status.state)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await anyio.to_thread.run_sync(probe.started.wait, 10)
            while not task_ids:
                await asyncio.sleep(0.01)
            task = await client.cancel_task(CancelTaskRequest(id=task_ids[0]))
            assert task.status.state == TaskState.TASK_STATE_CANCELED
            assert probe.cancelled.is_set()  # the agent's coroutine saw the cancellation first
    # The streaming caller saw the task end, and how.
    assert states[-1] == TaskState.TASK_STATE_CANCELED
    stored = await client.get_task(GetTaskRequest(id=task_ids[0]))
    assert stored.status.state == TaskState.TASK_STATE_CANCELED


async def test_raising_agent_fails_readably(client: Client) -> None:
    events = [e async for e in client.send_message(request("boom"))]
    task_id = next(e.task.id for e in events if e.HasField("task"))
    task = await client.get_task(GetTaskRequest(id=task_id))
    assert task.status.state == TaskState.TASK_STATE_FAILED
    message = "".join(p.text for p in task.status.message.parts)
    assert message.startswith("RuntimeError (reference ") and "broke" not in message
    assert "Traceback" not in str(task) and "second line" not in str(task)


@pytest.mark.parametrize("path", ["/.well-known/agent-card.json", "/.well-known/agent.json"])
async def test_card_paths(server: str, path: str) -> None:
    async with httpx.AsyncClient() as http:
        card = (await http.get(server + path)).json()
    assert card["name"] == "tester"
    assert card["description"] == "Test agent."
    versions = {(i["protocolBinding"], i["protocolVersion"]) for i in card["supportedInterfaces"]}
    bindings = ["JSONRPC", "HTTP+JSON"] + (["GRPC"] if GRPC else [])
    assert versions == {(b, v) for b in bindings for v in ("1.0", "0.3")}
    http_interfaces = [i for i in card["supportedInterfaces"] if i["protocolBinding"] != "GRPC"]
    assert all(i["url"].startswith(server) for i in http_interfaces)
    assert card["url"].startswith(server)  # the 0.3 fields, with the real address
    assert card["capabilities"]["streaming"] is True


def rpc(method: str, params: dict, *, v03: bool = False) -> dict:  # type: ignore[type-arg]
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}


async def test_raw_jsonrpc_send_multi_turn_and_stream(server: str, probe: Probe) -> None:
    headers = {"A2A-Version": "1.0"}
    message = {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hi"}]}
    async with httpx.AsyncClient(timeout=30) as http:
        result = (
            await http.post(
                server + "/", json=rpc("SendMessage", {"message": message}), headers=headers
            )
        ).json()
        task = result["result"]["task"]
        assert task["status"]["state"] == "TASK_STATE_COMPLETED"
        assert task["artifacts"][0]["parts"] == [{"text": "echo: hi"}]
        assert "message" not in task["status"]
        follow = {
            "messageId": "m2",
            "role": "ROLE_USER",
            "parts": [{"text": "history"}],
            "contextId": task["contextId"],
        }
        result = (
            await http.post(
                server + "/", json=rpc("SendMessage", {"message": follow}), headers=headers
            )
        ).json()
        assert result["result"]["task"]["artifacts"][0]["parts"] == [{"text": "hi | history"}]
        # 0.3 method names, no version header, same server
        old = {
            "messageId": "m3",
            "role": "user",
            "kind": "message",
            "parts": [{"kind": "text", "text": "history"}],
            "contextId": task["contextId"],
        }
        result = (await http.post(server + "/", json=rpc("message/send", {"message": old}))).json()
        assert result["result"]["status"]["state"] == "completed"
        assert result["result"]["artifacts"][0]["parts"][0]["text"] == "hi | history | history"
        # streaming over raw SSE: the first chunk arrives while the agent still waits
        stream = {"messageId": "m4", "role": "ROLE_USER", "parts": [{"text": "stream"}]}
        async with http.stream(
            "POST",
            server + "/",
            json=rpc("SendStreamingMessage", {"message": stream}),
            headers=headers,
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            seen = []
            async for line in response.aiter_lines():
                if '"first "' in line:
                    assert not probe.finished.is_set()
                    probe.gate.set()
                if line.startswith("data:"):
                    seen.append(line)
            assert any("TASK_STATE_COMPLETED" in s for s in seen)

"""The conformance agent, served by our executor: each messageId prefix does what the A2A
conformance kit (a2a-tck 1.0-dev) expects, over the a2a-sdk client on each 1.0 transport."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

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
    Task,
    TaskState,
)
from google.protobuf import json_format

from a2a_bridges import to_a2a
from a2a_bridges.testing import running
from a2a_bridges.testing.conformance import QUESTION, SLOW_SECONDS, agent, behaviour
from tests.bridges.conftest import GRPC, TRANSPORTS, sdk_client

pytestmark = pytest.mark.anyio

# The kit speaks A2A 1.0 only.
TRANSPORTS_1_0 = [p for p in TRANSPORTS if p.values[0][1] == "1.0"]  # type: ignore[index]


def request(prefix: str, task_id: str = "") -> SendMessageRequest:
    """A message as the kit sends it: the behaviour's prefix, then the run's own suffix."""
    return SendMessageRequest(
        message=Message(
            message_id=f"{prefix}-{uuid.uuid4().hex[:8]}",
            role=Role.ROLE_USER,
            parts=[Part(text="TCK conformance test")],
            task_id=task_id,
        )
    )


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    grpc = {"grpc": "127.0.0.1:0"} if GRPC else {}
    with running(to_a2a(agent, **grpc)) as url:
        yield url


@contextlib.asynccontextmanager
async def connected(url: str, binding: str, *, streaming: bool) -> AsyncIterator[Client]:
    client, http = await sdk_client(url, binding, "1.0", streaming=streaming)
    try:
        yield client
    finally:
        await client.close()
        await http.aclose()


@pytest.fixture(params=TRANSPORTS_1_0)
async def client(request: pytest.FixtureRequest, url: str) -> AsyncIterator[Client]:
    """A client that waits for the end of each task."""
    async with connected(url, request.param[0], streaming=False) as client:
        yield client


@pytest.fixture(params=TRANSPORTS_1_0)
async def streaming(request: pytest.FixtureRequest, url: str) -> AsyncIterator[Client]:
    """A client that reads each task's events as they come."""
    async with connected(url, request.param[0], streaming=True) as client:
        yield client


async def send(client: Client, prefix: str, task_id: str = "") -> Task:
    events = [e async for e in client.send_message(request(prefix, task_id))]
    assert len(events) == 1 and events[0].HasField("task")
    return events[0].task


def artifact_parts(task: Task) -> list[Part]:
    assert len(task.artifacts) == 1, "the answer is one artifact"
    assert task.artifacts[0].artifact_id
    return list(task.artifacts[0].parts)


def test_behaviour_is_the_longest_known_prefix() -> None:
    assert behaviour("tck-artifact-file-url-1a2b") == "tck-artifact-file-url"
    assert behaviour("tck-artifact-file-1a2b") == "tck-artifact-file"
    assert behaviour("test-resubscribe-message-id") == "test-resubscribe-message-id"
    assert behaviour("tck-nonexistent-1a2b") is None


@pytest.mark.parametrize(
    ("prefix", "text"),
    [
        ("tck-complete-task", "Hello from TCK"),
        ("tck-artifact-text", "Generated text content"),
    ],
)
async def test_text_answer(client: Client, prefix: str, text: str) -> None:
    task = await send(client, prefix)
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert [p.text for p in artifact_parts(task)] == [text]


async def direct_reply(client: Client) -> None:
    events = [e async for e in client.send_message(request("tck-message-response"))]
    assert [e.WhichOneof("payload") for e in events] == ["message"]
    message = events[0].message
    assert message.role == Role.ROLE_AGENT and not message.task_id
    assert [p.text for p in message.parts] == ["Direct message response"]


async def test_message_response_is_a_direct_message(client: Client) -> None:
    await direct_reply(client)


async def test_message_response_is_a_direct_message_when_streaming(streaming: Client) -> None:
    await direct_reply(streaming)


async def test_file_artifact(client: Client) -> None:
    (part,) = artifact_parts(await send(client, "tck-artifact-file"))
    assert (part.raw, part.filename, part.media_type) == (b"tck", "output.txt", "text/plain")


async def test_file_url_artifact(client: Client) -> None:
    (part,) = artifact_parts(await send(client, "tck-artifact-file-url"))
    assert part.url == "https://example.com/output.txt"
    assert (part.filename, part.media_type) == ("output.txt", "text/plain")


async def test_data_artifact(client: Client) -> None:
    parts = artifact_parts(await send(client, "tck-artifact-data"))
    data = [json_format.MessageToDict(p.data) for p in parts if p.HasField("data")]
    assert data == [{"key": "value", "count": 42}]
    # The data first (the kit's DM-ART-001 reads parts[0]), then its JSON as text for
    # text-only callers.
    assert [p.WhichOneof("content") for p in parts] == ["data", "text"]


async def test_unknown_prefix_is_named_in_the_answer(client: Client) -> None:
    task = await send(client, "tck-something-else")
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert artifact_parts(task)[0].text.startswith("Unhandled messageId prefix: tck-something-else")


async def test_reject_fails_the_task(client: Client) -> None:
    task = await send(client, "tck-reject-task")
    assert task.status.state == TaskState.TASK_STATE_FAILED
    assert task.status.message.parts[0].text == "rejected"


async def test_input_required_then_more_turns_in_the_task(client: Client) -> None:
    asked = await send(client, "tck-input-required")
    assert asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert asked.status.message.parts[0].text == QUESTION
    # Each follow-up in the task is read by its own prefix: asked again, then completed.
    again = await send(client, "tck-input-required", task_id=asked.id)
    assert (again.id, again.status.state) == (asked.id, TaskState.TASK_STATE_INPUT_REQUIRED)
    done = await send(client, "tck-complete-task", task_id=asked.id)
    assert (done.id, done.status.state) == (asked.id, TaskState.TASK_STATE_COMPLETED)
    assert [p.text for p in artifact_parts(done)] == ["Hello from TCK"]
    stored = await client.get_task(GetTaskRequest(id=asked.id))
    users = [m.message_id for m in stored.history if m.role == Role.ROLE_USER]
    assert [behaviour(m) for m in users] == [
        "tck-input-required",
        "tck-input-required",
        "tck-complete-task",
    ]


async def test_cancel_a_task_that_waits_for_input(client: Client) -> None:
    asked = await send(client, "tck-input-required")
    canceled = await client.cancel_task(CancelTaskRequest(id=asked.id))
    assert canceled.status.state == TaskState.TASK_STATE_CANCELED


async def stream(client: Client, prefix: str) -> list[StreamResponse]:
    return [e async for e in client.send_message(request(prefix))]


def states(events: list[StreamResponse]) -> list[int]:
    return [
        e.task.status.state if e.HasField("task") else e.status_update.status.state
        for e in events
        if e.HasField("task") or e.HasField("status_update")
    ]


@pytest.mark.parametrize(
    ("prefix", "text"),
    [
        ("tck-stream-001", "Stream hello from TCK"),
        ("tck-stream-003", "Stream task lifecycle"),
        ("tck-stream-ordering-001", "Ordered output"),
        ("tck-stream-artifact-text", "Streamed text content"),
    ],
)
async def test_stream_one_text_artifact(streaming: Client, prefix: str, text: str) -> None:
    events = await stream(streaming, prefix)
    assert states(events) == [
        TaskState.TASK_STATE_SUBMITTED,
        TaskState.TASK_STATE_WORKING,
        TaskState.TASK_STATE_COMPLETED,
    ]
    (update,) = [e.artifact_update for e in events if e.HasField("artifact_update")]
    assert [p.text for p in update.artifact.parts] == [text]
    assert update.last_chunk and not update.append


async def test_stream_file_artifact(streaming: Client) -> None:
    events = await stream(streaming, "tck-stream-artifact-file")
    (update,) = [e.artifact_update for e in events if e.HasField("artifact_update")]
    assert [(p.raw, p.filename) for p in update.artifact.parts] == [(b"tck", "output.txt")]
    assert states(events)[-1] == TaskState.TASK_STATE_COMPLETED


async def test_stream_nothing_but_completion(streaming: Client) -> None:
    events = await stream(streaming, "tck-stream-002")
    assert not [e for e in events if e.HasField("artifact_update")]
    assert states(events)[-1] == TaskState.TASK_STATE_COMPLETED


async def test_stream_chunked_artifact(streaming: Client) -> None:
    events = await stream(streaming, "tck-stream-artifact-chunked")
    updates = [e.artifact_update for e in events if e.HasField("artifact_update")]
    chunks = [("".join(p.text for p in u.artifact.parts), u.append, u.last_chunk) for u in updates]
    # The last chunk closes the artifact and adds nothing (A2A 1.0 wants parts in every one).
    assert chunks == [("chunk-1 ", False, False), ("chunk-2", True, False), ("", True, True)]
    assert len({u.artifact.artifact_id for u in updates}) == 1
    assert states(events)[-1] == TaskState.TASK_STATE_COMPLETED


async def test_slow_task_works_until_canceled(streaming: Client) -> None:
    started = time.monotonic()
    task_id: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def consume() -> list[StreamResponse]:
        events = []
        async for event in streaming.send_message(request("test-resubscribe-message-id")):
            events.append(event)
            if event.HasField("task") and not task_id.done():
                task_id.set_result(event.task.id)
        return events

    consumer = asyncio.create_task(consume())
    running_task = await streaming.get_task(GetTaskRequest(id=await task_id))
    assert running_task.status.state == TaskState.TASK_STATE_WORKING
    canceled = await streaming.cancel_task(CancelTaskRequest(id=running_task.id))
    assert canceled.status.state == TaskState.TASK_STATE_CANCELED
    events = await asyncio.wait_for(consumer, timeout=10)
    assert states(events)[-1] == TaskState.TASK_STATE_CANCELED
    assert time.monotonic() - started < SLOW_SECONDS


@pytest.fixture
async def grpc_stub(url: str) -> AsyncIterator[Any]:
    """A raw gRPC stub on the 1.0 service, to send the metadata the kit sends."""
    if not GRPC:
        pytest.skip("grpcio is not installed (extra grpc)")
    import grpc.aio
    from a2a.types import a2a_pb2_grpc

    async with httpx.AsyncClient() as http:
        card = (await http.get(url + "/.well-known/agent-card.json")).json()
    target = next(i["url"] for i in card["supportedInterfaces"] if i["protocolBinding"] == "GRPC")
    async with grpc.aio.insecure_channel(target) as channel:
        yield a2a_pb2_grpc.A2AServiceStub(channel)  # type: ignore[no-untyped-call]


async def test_grpc_status_for_what_is_not_supported(grpc_stub: Any) -> None:
    # The spec's table (A2A 1.0, 5.4) says UNIMPLEMENTED; a2a-sdk 1.3 says FAILED_PRECONDITION.
    import grpc
    from a2a.types import TaskPushNotificationConfig

    with pytest.raises(grpc.aio.AioRpcError) as push:
        await grpc_stub.CreateTaskPushNotificationConfig(
            TaskPushNotificationConfig(task_id="t", url="https://example.com/hook")
        )
    assert push.value.code() == grpc.StatusCode.UNIMPLEMENTED
    message = request("tck-complete-task")
    with pytest.raises(grpc.aio.AioRpcError) as version:
        await grpc_stub.SendMessage(message, metadata=[("a2a-version", "99.0")])
    assert version.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "99.0" in (version.value.details() or "")
    answered = await grpc_stub.SendMessage(message, metadata=[("a2a-version", "1.0")])
    assert answered.task.status.state == TaskState.TASK_STATE_COMPLETED

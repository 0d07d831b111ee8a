"""`RemoteAgent` against our server, a bare a2a-sdk executor, and things that are not servers."""

from __future__ import annotations

import asyncio
import importlib.util
import socket

import anyio
import pytest
from a2a.helpers.proto_helpers import new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    Message,
    Part,
    Role,
    TaskState,
)
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from a2a_bridges import (
    DataPart,
    FilePart,
    NotAnA2AServer,
    RemoteAgent,
    RemoteAgentError,
    RemoteTimeout,
    RemoteUnauthorized,
    RemoteUnreachable,
    Reply,
    TextDelta,
    TextPart,
    to_a2a,
)
from a2a_bridges.testing import running
from tests.bridges.conftest import Probe, make_agent

pytestmark = pytest.mark.anyio


async def test_a_conversation_keeps_its_context(server: str) -> None:
    async with RemoteAgent(server) as remote:
        chat = remote.conversation()
        first = await chat.send("one")
        assert first.text == "echo: one" and first.state == "completed"
        second = await chat.send("history")
        assert second.text == "one | history"
        assert second.context_id == first.context_id == chat.context_id
        # Calls on the agent itself stand alone, or go on where they are told to.
        assert (await remote.send("history")).text == "history"
        assert (await remote.send("history", context_id=first.context_id)).text == (
            "one | history | history"
        )
        assert (await remote.conversation().send("history")).text == "history"


async def test_stream_yields_deltas_then_the_reply(server: str, probe: Probe) -> None:
    events: list[TextDelta | Reply] = []
    async with RemoteAgent(server) as remote:
        async for event in remote.stream("stream"):
            events.append(event)
            if event == TextDelta("first "):
                assert not probe.finished.is_set()
                probe.gate.set()
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas == ["first ", "second"]
    assert isinstance(events[-1], Reply) and events[-1].text == "first second"


async def test_a_caller_that_stops_listening_cancels_the_remote_run(
    server: str, probe: Probe
) -> None:
    async with RemoteAgent(server) as remote:
        chat = remote.conversation()
        stream = chat.stream("stream")
        assert await anext(stream) == TextDelta("first ")
        await stream.aclose()  # the caller stops listening mid-answer
        assert await anyio.to_thread.run_sync(probe.cancelled.wait, 10)
        assert chat.task_id is not None
        for _ in range(100):
            if (await remote.get_task(chat.task_id)).status.state == TaskState.TASK_STATE_CANCELED:
                break
            await asyncio.sleep(0.05)
        task = await remote.get_task(chat.task_id)
        assert task.status.state == TaskState.TASK_STATE_CANCELED
    probe.gate.set()


async def test_non_streaming_send(server: str) -> None:
    async with RemoteAgent(server, streaming=False) as remote:
        assert (await remote.send("plain")).text == "echo: plain"


async def test_data_and_file_parts_round_trip(server: str) -> None:
    async with RemoteAgent(server) as remote:
        reply = await remote.send("data")
        assert reply.data == {"answer": 42, "items": [1, 2]}
        files = (
            TextPart("file"),
            FilePart(bytes=b"\x00\x01binary", media_type="application/octet-stream", name="a.bin"),
            FilePart(uri="https://example.com/x.png", media_type="image/png", name="x.png"),
        )
        reply = await remote.send(files)
        assert (
            reply.text
            == "a.bin:application/octet-stream:8; x.png:image/png:https://example.com/x.png"
        )


async def test_input_required_round_trip(server: str) -> None:
    async with RemoteAgent(server) as remote:
        chat = remote.conversation()
        question = await chat.send("ask me")
        assert question.input_required and question.text == "which colour?"
        assert chat.asking and chat.pending == question.task_id
        answer = await chat.send("blue")
        assert answer.state == "completed" and answer.text == "you chose blue"
        assert answer.task_id == question.task_id  # the same task went on
        assert not chat.asking
        assert (await chat.send("again")).task_id != question.task_id


async def test_answer_in_a_new_task_closes_the_waiting_run(server: str, probe: Probe) -> None:
    async with RemoteAgent(server) as asker:
        question = await asker.send("ask me")
    assert question.input_required and not probe.closed.is_set()
    # Another client, in the same context, starts a new task instead of answering that one.
    async with RemoteAgent(server) as other:
        reply = await other.send("history", context_id=question.context_id)
    assert reply.text == "ask me | history"
    assert probe.closed.wait(5)  # the abandoned run was closed, not parked forever


async def test_failed_task_raises_with_state_and_message(server: str) -> None:
    async with RemoteAgent(server) as remote:
        with pytest.raises(RemoteAgentError) as info:
            await remote.send("boom")
    assert info.value.state == "failed"
    # An unexpected error reaches the caller as its type and a reference for the log.
    assert "RuntimeError (reference " in info.value.message
    assert "the agent broke" not in info.value.message
    assert "second line" not in info.value.message


async def test_cancel(server: str, probe: Probe) -> None:
    async with RemoteAgent(server) as remote:
        chat = remote.conversation()
        failures: list[RemoteAgentError] = []
        async with anyio.create_task_group() as tg:

            async def run() -> None:
                try:
                    await chat.send("slow")
                except RemoteAgentError as exc:
                    failures.append(exc)

            tg.start_soon(run)
            await anyio.to_thread.run_sync(probe.started.wait, 10)
            # The task's id is known as soon as the peer names it, before any answer.
            with anyio.fail_after(5):
                while chat.task_id is None:
                    await asyncio.sleep(0.01)
            assert await chat.cancel() == "canceled"
            assert probe.cancelled.is_set()
        assert [f.state for f in failures] == ["canceled"]
        task = await remote.get_task(chat.task_id)
        assert task.status.state == TaskState.TASK_STATE_CANCELED


def test_blocking_facade_without_a_loop(server: str) -> None:
    remote = RemoteAgent(server)
    chat = remote.conversation()
    assert chat.send_sync("sync").text == "echo: sync"
    assert chat.send_sync("history").text == "sync | history"
    deltas = [e for e in remote.stream_sync("hello") if isinstance(e, TextDelta)]
    assert "".join(d.text for d in deltas) == "echo: hello"
    assert remote.send_sync("history").text == "history"
    remote.close()


async def test_blocking_facade_inside_a_running_loop(server: str) -> None:
    remote = RemoteAgent(server)
    chat = remote.conversation()
    assert chat.send_sync("inside").text == "echo: inside"
    assert (await chat.send("history")).text == "inside | history"  # same conversation, this loop
    remote.close()
    await remote.aclose()


# --- a bare a2a-sdk server, written the way the SDK's samples do ---


class BareExecutor(AgentExecutor):
    """Answers with a Message, or with a task and an artifact, as plain SDK agents do."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        text = context.get_user_input()
        if text.startswith("message"):
            await event_queue.enqueue_event(
                Message(
                    message_id="r1",
                    role=Role.ROLE_AGENT,
                    parts=[Part(text="bare " + text)],
                    context_id=context.context_id,
                )
            )
            return
        assert context.task_id and context.context_id
        await event_queue.enqueue_event(
            new_task(context.task_id, context.context_id, TaskState.TASK_STATE_SUBMITTED)
        )
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.add_artifact([Part(text="bare " + text)])
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def bare_app(streaming: bool) -> Starlette:
    card = AgentCard(
        name="bare",
        description="bare",
        version="1",
        supported_interfaces=[
            AgentInterface(
                url="http://localhost:8000/", protocol_binding="JSONRPC", protocol_version="1.0"
            )
        ],
        capabilities=AgentCapabilities(streaming=streaming),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
    )
    handler = DefaultRequestHandler(
        agent_executor=BareExecutor(), task_store=InMemoryTaskStore(), agent_card=card
    )
    return Starlette(routes=create_agent_card_routes(card) + create_jsonrpc_routes(handler, "/"))


@pytest.mark.parametrize("streaming", [True, False])
async def test_bare_sdk_server(streaming: bool) -> None:
    # The card names localhost:8000, as many servers do; the client goes where it reached the card.
    with running(bare_app(streaming)) as url:
        async with RemoteAgent(url) as remote:
            assert (await remote.send("message hi")).text == "bare message hi"
            reply = await remote.send("task")
            assert reply.text == "bare task" and reply.state == "completed"


# --- typed errors ---


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable() -> None:
    with pytest.raises(RemoteUnreachable, match="cannot reach"):
        await RemoteAgent(f"http://127.0.0.1:{free_port()}").send("hi")


async def test_not_an_a2a_server() -> None:
    app = Starlette(routes=[Route("/", lambda r: HTMLResponse("<h1>hello</h1>"))])
    with running(app) as url, pytest.raises(NotAnA2AServer, match="not an A2A server"):
        await RemoteAgent(url).send("hi")


async def test_unauthorized_and_authorized() -> None:
    with running(to_a2a(make_agent(Probe()), auth={"s3cret": "alice"})) as url:
        with pytest.raises(RemoteUnauthorized):
            await RemoteAgent(url).send("hi")
        with pytest.raises(RemoteUnauthorized):
            await RemoteAgent(url, headers={"Authorization": "Bearer wrong"}).send("hi")
        async with RemoteAgent(url, headers={"Authorization": "Bearer s3cret"}) as remote:
            assert (await remote.send("hi")).text == "echo: hi"
            card = await remote.card()
        assert "bearer" in card.security_schemes


async def test_timeout(server: str, probe: Probe) -> None:
    with pytest.raises(RemoteTimeout):
        async with RemoteAgent(server, timeout=0.5) as remote:
            await remote.send("slow")
    probe.started.wait(5)


async def test_data_part_of_any_json_value(server: str) -> None:
    async with RemoteAgent(server) as remote:
        reply = await remote.send([TextPart("echo"), DataPart([1, "two", None])])
    assert reply.text == "echo: echo"


# --- a caller that gives up before the peer named the task ---


class LateTaskExecutor(AgentExecutor):
    """Names its task only after a while, then works until cancelled."""

    def __init__(self) -> None:
        self.cancelled = asyncio.Event()

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        await asyncio.sleep(0.5)
        await event_queue.enqueue_event(
            new_task(context.task_id, context.context_id, TaskState.TASK_STATE_WORKING)
        )
        await asyncio.sleep(30)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        self.cancelled.set()
        assert context.task_id
        await TaskUpdater(event_queue, context.task_id, context.context_id or "").cancel()


async def test_a_call_abandoned_before_the_task_exists_still_cancels_it() -> None:
    executor = LateTaskExecutor()
    card = AgentCard(
        name="late",
        description="late",
        version="1",
        supported_interfaces=[
            AgentInterface(
                url="http://127.0.0.1/", protocol_binding="JSONRPC", protocol_version="1.0"
            )
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
    )
    handler = DefaultRequestHandler(
        agent_executor=executor, task_store=InMemoryTaskStore(), agent_card=card
    )
    app = Starlette(routes=create_agent_card_routes(card) + create_jsonrpc_routes(handler, "/"))
    with running(app) as url:
        async with RemoteAgent(url) as remote:
            chat = remote.conversation()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):  # the caller gives up before the Task event
                    await chat.send("work")
            assert chat.task_id is None
            await asyncio.wait_for(anyio.to_thread.run_sync(lambda: None), 1)
            for _ in range(100):
                if chat.task_id is not None and executor.cancelled.is_set():
                    break
                await asyncio.sleep(0.05)
            assert chat.task_id is not None
            state = (await remote.get_task(chat.task_id)).status.state
    assert state == TaskState.TASK_STATE_CANCELED


def test_any_event_loop_gets_its_own_connections(server: str) -> None:
    remote = RemoteAgent(server)
    # Each asyncio.run is a new loop; connections made on the one before are closed with it.
    assert asyncio.run(remote.send("one")).text == "echo: one"
    assert asyncio.run(remote.send("two")).text == "echo: two"
    assert remote.send_sync("three").text == "echo: three"
    assert len(remote._connections) <= 2  # the blocking portal's, and at most one closed loop's


# --- gRPC ---


def grpc_only_card(url: str) -> dict[str, object]:
    """Our card, less every interface but gRPC: an agent reachable over gRPC only."""
    import httpx

    card: dict[str, object] = httpx.get(url + "/.well-known/agent-card.json").json()
    card["supportedInterfaces"] = [
        i
        for i in card["supportedInterfaces"]
        if i["protocolBinding"] == "GRPC"  # type: ignore[attr-defined]
    ]
    for key in ("url", "preferredTransport", "additionalInterfaces", "protocolVersion"):
        card.pop(key, None)
    return card


@pytest.mark.skipif(importlib.util.find_spec("grpc") is None, reason="grpcio not installed")
async def test_an_agent_reachable_over_grpc_only() -> None:
    from starlette.responses import JSONResponse

    probe = Probe()
    probe.gate.set()  # the streamed answer goes on without waiting
    app = to_a2a(make_agent(probe), grpc="127.0.0.1:0", auth={"s3cret": "alice"})
    with running(app) as url:
        card = grpc_only_card(url)
        # A front that serves that card, and nothing else: the calls can only go over gRPC.
        front = Starlette(
            routes=[Route("/.well-known/agent-card.json", lambda r: JSONResponse(card))]
        )
        with running(front) as front_url:
            async with RemoteAgent(front_url, token="s3cret") as remote:
                chat = remote.conversation()
                deltas = [e async for e in chat.stream("stream") if isinstance(e, TextDelta)]
                assert (await chat.send("history")).text == "stream | history"
                data = await remote.send("data")
            with pytest.raises(RemoteAgentError, match="UNAUTHENTICATED"):
                await RemoteAgent(front_url, token="wrong").send("hi")
    assert "".join(d.text for d in deltas) == "first second"
    assert data.data == {"answer": 42, "items": [1, 2]}

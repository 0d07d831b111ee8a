"""The bare a2a-sdk 1.x: its client over each transport, and a server on its executor alone.

Both are the counterparts that tell a peer's limitation from ours: a peer client is also run
against the bare server, and the bare client against every peer server.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc.aio
import httpx
from a2a.client import ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.compat.v0_3 import a2a_v0_3_pb2_grpc
from a2a.compat.v0_3.grpc_handler import CompatGrpcHandler
from a2a.helpers.proto_helpers import get_data_parts, new_data_part, new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler, GrpcHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    TaskState,
    a2a_pb2_grpc,
)
from starlette.applications import Starlette

from interop.driver import Client, Peer, Seen, Server, Talk, main, script

JSONRPC, REST, GRPC = "JSONRPC", "HTTP+JSON", "GRPC"
_ENDED = (TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_REJECTED)


# --- the server ---


class ScriptedExecutor(AgentExecutor):
    """The script on a bare a2a-sdk executor: text streamed as artifact chunks, data as a data
    part, the failure as FAILED with its reason; each context remembers its turns."""

    def __init__(self) -> None:
        self.turns: dict[str, list[tuple[str, str]]] = {}

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id and context.message
        text = context.get_user_input()
        turns = self.turns.setdefault(context.context_id, [])
        data = tuple(get_data_parts(list(context.message.parts)))
        action = script.respond("assistant", script.Request(text, tuple(turns), data=data))
        turns.append(("user", text))
        if context.current_task is None:
            task = new_task(context.task_id, context.context_id, TaskState.TASK_STATE_SUBMITTED)
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.start_work()
        if isinstance(action, script.Say):
            turns.append(("agent", action.text))
            artifact = uuid.uuid4().hex
            for i, piece in enumerate(script.chunks(action.text)):
                await updater.add_artifact([Part(text=piece)], artifact_id=artifact, append=i > 0)
            await updater.add_artifact([], artifact_id=artifact, append=True, last_chunk=True)
            await updater.complete()
        elif isinstance(action, script.Give):
            await updater.add_artifact([new_data_part(action.value)], last_chunk=True)
            await updater.complete()
        else:  # Fail, and what the features never say
            reason = action.message if isinstance(action, script.Fail) else "not scripted"
            await updater.failed(updater.new_agent_message([Part(text=reason)]))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def _interfaces(url: str, grpc_url: str, bindings: tuple[str, ...]) -> list[AgentInterface]:
    where = {JSONRPC: f"{url}/", REST: url, GRPC: grpc_url}
    versions = ("1.0", "0.3") if len(bindings) > 1 else ("1.0",)
    return [
        AgentInterface(url=where[b], protocol_binding=b, protocol_version=v)
        for v in versions
        for b in bindings
    ]


def _app(url: str, grpc_url: str, bindings: tuple[str, ...]) -> Starlette:
    card = AgentCard(
        name="bare-a2a-sdk",
        description="The interop script on a bare a2a-sdk 1.x executor.",
        version="1.0.0",
        supported_interfaces=_interfaces(url, grpc_url, bindings),
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain", "application/json"],
        default_output_modes=["text/plain", "application/json"],
        skills=[AgentSkill(id="chat", name="chat", description="The script.", tags=["chat"])],
    )
    handler = DefaultRequestHandler(ScriptedExecutor(), InMemoryTaskStore(), card)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        server = grpc.aio.server()
        # The generated registration functions are untyped.
        a2a_pb2_grpc.add_A2AServiceServicer_to_server(  # type: ignore[no-untyped-call]
            GrpcHandler(handler), server
        )
        a2a_v0_3_pb2_grpc.add_A2AServiceServicer_to_server(  # type: ignore[no-untyped-call]
            CompatGrpcHandler(handler), server
        )
        server.add_insecure_port(grpc_url)
        await server.start()
        yield
        await server.stop(grace=1)

    routes = [
        *create_agent_card_routes(card),
        *create_jsonrpc_routes(handler, "/", enable_v0_3_compat=True),
        *create_rest_routes(handler, enable_v0_3_compat=True),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _server(*bindings: str) -> Server:
    return Server(lambda url, grpc_url: _app(url, grpc_url, bindings))


# --- the client ---


class _Fold:
    """What a plain a2a-sdk user shows of one answer: every artifact's text, then the final
    status message's; streamed pieces as they arrive."""

    def __init__(self) -> None:
        self.context_id = ""
        self.artifacts: dict[str, list[Part]] = {}
        self.status: list[Part] = []
        self.state = TaskState.TASK_STATE_UNSPECIFIED
        self.deltas: list[str] = []

    def take(self, event: StreamResponse) -> None:
        kind = event.WhichOneof("payload")
        if kind == "task":
            self.context_id = event.task.context_id
            self.artifacts = {a.artifact_id: list(a.parts) for a in event.task.artifacts}
            self._status(event.task.status)
        elif kind == "message":
            self.context_id = event.message.context_id or self.context_id
            self.artifacts[event.message.message_id] = list(event.message.parts)
            self.state = TaskState.TASK_STATE_COMPLETED
        elif kind == "status_update":
            self.context_id = event.status_update.context_id
            self._status(event.status_update.status)
        elif kind == "artifact_update":
            update = event.artifact_update
            parts = list(update.artifact.parts)
            if update.append:
                self.artifacts.setdefault(update.artifact.artifact_id, []).extend(parts)
            else:
                self.artifacts[update.artifact.artifact_id] = parts
            self.deltas += [p.text for p in parts if p.text]

    def _status(self, status: Any) -> None:
        self.state = status.state
        self.status = list(status.message.parts) if status.HasField("message") else []

    def seen(self) -> Seen:
        parts = [p for parts in self.artifacts.values() for p in parts] + self.status
        text = "".join(p.text for p in parts)
        if self.state in _ENDED:
            return Seen(error=f"task {TaskState.Name(self.state)}: {text}")
        data = get_data_parts(parts)
        return Seen(text=text, data=data[0] if data else None, deltas=self.deltas)


def _client(binding: str | None) -> Client:
    """The a2a-sdk client on `binding` (the card's interfaces of other bindings left out), or,
    with None, on whatever the card offers first."""

    async def ask(url: str, talk: Talk) -> list[Seen]:
        async with httpx.AsyncClient(timeout=30) as http:
            card = parse_agent_card((await http.get(f"{url}/.well-known/agent-card.json")).json())
            if binding is not None:
                keep = [i for i in card.supported_interfaces if i.protocol_binding == binding]
                del card.supported_interfaces[:]
                card.supported_interfaces.extend(keep)
            config = ClientConfig(
                streaming=talk.stream,
                httpx_client=http,
                grpc_channel_factory=grpc.aio.insecure_channel,
                supported_protocol_bindings=[binding] if binding else [JSONRPC, REST, GRPC],
            )
            client = ClientFactory(config).create(card)
            seen, context_id = [], ""
            for text in talk.texts:
                message = Message(
                    message_id=uuid.uuid4().hex,
                    role=Role.ROLE_USER,
                    parts=[Part(text=text)],
                    context_id=context_id,
                )
                fold = _Fold()
                async for event in client.send_message(SendMessageRequest(message=message)):
                    fold.take(event)
                context_id = fold.context_id
                seen.append(fold.seen())
            await client.close()
            return seen

    return Client(ask)


PEER = Peer(
    packages=["a2a-sdk", "grpcio"],
    clients={
        "JSON-RPC": _client(JSONRPC),
        "HTTP+JSON": _client(REST),
        "gRPC": _client(GRPC),
        "any": _client(None),
    },
    servers={
        "all": _server(JSONRPC, REST, GRPC),
        "JSON-RPC": _server(JSONRPC),
        "HTTP+JSON": _server(REST),
        "gRPC": _server(GRPC),
    },
)

if __name__ == "__main__":
    sys.exit(main(PEER))

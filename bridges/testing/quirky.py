"""Bare a2a-sdk servers that answer the way other A2A implementations do, quirks included.

Each `Quirk` reproduces one measured behaviour of a peer (PEERS.md), so the client's tolerance
(`a2a_bridges.quirks`) and `check`'s diagnoses are tested against it without installing the peer.
The agent echoes: `hello there` is answered `echo: hello there`, streamed a word at a time.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Literal, TypeAlias

from a2a.helpers.proto_helpers import new_data_part, new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes import create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Part,
    Role,
    TaskState,
)
from a2a.types import Message as A2AMessage
from google.protobuf.json_format import MessageToDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from a2a_bridges.card import CARD_PATHS
from a2a_bridges.quirks import AG2_HISTORY_MEDIA_TYPE
from a2a_bridges.server.guard import read_body, replay

__all__ = ["QUIRKS", "Quirk", "quirky_app"]

Quirk: TypeAlias = Literal[
    "none",
    "message-reply",
    "status-stream",
    "replace-artifact",
    "append-whole",
    "status-repeat",
    "naive-timestamps",
    "non-blocking",
    "loopback-card",
    "wrapped-data",
    "inline-history",
]

QUIRKS: dict[Quirk, str] = {
    "none": "a plain a2a-sdk 1.x server: chunks, then COMPLETED",
    "message-reply": "answers with a Message, no task (a2a-sdk samples)",
    "status-stream": "streams its text as WORKING status messages (langgraph-a2a 0.1.6)",
    "replace-artifact": "ends a stream with the whole answer as a new artifact "
    "(fasta2a 2.1.1, ag2 1.2.1)",
    "append-whole": "ends a stream by appending the whole answer again "
    "(AG2 classic, autogen 0.14.1)",
    "status-repeat": "repeats the answer in the COMPLETED status message",
    "naive-timestamps": "writes timestamps without an offset (fasta2a 2.1.1)",
    "non-blocking": "answers before it is done, whatever the caller asked (fasta2a 2.1.1)",
    "loopback-card": "names http://localhost:8000 on its card, whatever its port "
    "(AG2 classic, autogen 0.14.1)",
    "wrapped-data": 'answers data as {"result": value}, its schema in the part\'s metadata '
    "(fasta2a 2.1.1)",
    "inline-history": "keeps no conversation: it knows the turns each message carries as a "
    "history data part its card lists (ag2 1.2.1)",
}


def _chunks(text: str) -> list[str]:
    return [c for c in re.split(r"(?<=\s)", text) if c]


class _QuirkyExecutor(AgentExecutor):
    def __init__(self, quirk: Quirk) -> None:
        self.quirk = quirk

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        answer = f"echo: {context.get_user_input()}"
        if self.quirk == "inline-history":
            history = (
                [p.data for p in context.message.parts if p.media_type == AG2_HISTORY_MEDIA_TYPE]
                if context.message
                else []
            )
            turns = sum(len(MessageToDict(h).get("events", [])) for h in history)
            answer += f" (after {turns} turns)"
        if self.quirk == "message-reply":
            message = A2AMessage(
                message_id=uuid.uuid4().hex,
                role=Role.ROLE_AGENT,
                parts=[Part(text=answer)],
                context_id=context.context_id,
            )
            await event_queue.enqueue_event(message)
            return
        assert context.task_id and context.context_id
        if context.current_task is None:
            await event_queue.enqueue_event(
                new_task(context.task_id, context.context_id, TaskState.TASK_STATE_SUBMITTED)
            )
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.start_work()
        if self.quirk == "non-blocking":
            await asyncio.sleep(0.2)  # still working when the first answer went out
        if self.quirk == "wrapped-data":
            data = new_data_part({"result": {"answer": answer}})
            data.metadata.update({"json_schema": {"type": "object"}})
            await updater.add_artifact([data], name="result", last_chunk=True)
            await updater.complete()
            return
        await self._answer(updater, answer)
        if self.quirk == "status-repeat":
            await updater.complete(updater.new_agent_message([Part(text=answer)]))
        else:
            await updater.complete()

    async def _answer(self, updater: TaskUpdater, answer: str) -> None:
        pieces = _chunks(answer)
        if self.quirk == "status-stream":
            for piece in pieces:
                await updater.update_status(
                    TaskState.TASK_STATE_WORKING,
                    message=updater.new_agent_message([Part(text=piece)]),
                )
            await updater.add_artifact([Part(text=answer)], name="response", last_chunk=True)
            return
        artifact = uuid.uuid4().hex
        for i, piece in enumerate(pieces):
            await updater.add_artifact(
                [Part(text=piece)], artifact_id=artifact, append=i > 0, last_chunk=False
            )
        if self.quirk == "replace-artifact":
            await updater.add_artifact([Part(text=answer)], append=False, last_chunk=True)
        elif self.quirk == "append-whole":
            await updater.add_artifact(
                [Part(text=answer)], artifact_id=artifact, append=True, last_chunk=True
            )
        else:
            await updater.add_artifact([], artifact_id=artifact, append=True, last_chunk=True)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id
        await TaskUpdater(event_queue, context.task_id, context.context_id or "").cancel()


class _Rewrite:
    """ASGI middleware that rewrites request or response bodies the way a quirk needs."""

    def __init__(self, app: ASGIApp, quirk: Quirk) -> None:
        self.app = app
        self.quirk = quirk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if self.quirk == "non-blocking":
            receive = await _non_blocking(receive)

        async def naive(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v) for k, v in message["headers"] if k != b"content-length"
                ]
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                message["body"] = re.sub(
                    rb'("timestamp"\s*:\s*"[^"]+?)(Z|[+-]\d\d:\d\d)"', rb'\1"', body
                )
            await send(message)

        await self.app(scope, receive, naive if self.quirk == "naive-timestamps" else send)


async def _non_blocking(receive: Receive) -> Receive:
    body = json.loads(await read_body(receive) or b"{}")
    params = body.get("params") if isinstance(body, dict) else None
    if isinstance(params, dict):
        params.setdefault("configuration", {})["returnImmediately"] = True
    return replay(json.dumps(body).encode(), receive)


def _card(quirk: Quirk, base: str, streaming: bool) -> AgentCard:
    return AgentCard(
        name=f"quirky-{quirk}",
        description=QUIRKS[quirk],
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(
                url=f"{base.rstrip('/')}/", protocol_binding="JSONRPC", protocol_version="1.0"
            )
        ],
        capabilities=AgentCapabilities(streaming=streaming),
        default_input_modes=["text/plain"]
        + ([AG2_HISTORY_MEDIA_TYPE] if quirk == "inline-history" else []),
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="echo", name="echo", description="Echoes.", tags=["echo"])],
    )


def quirky_app(quirk: Quirk = "none", *, streaming: bool = True) -> Starlette:
    """A JSON-RPC A2A 1.0 server on a bare a2a-sdk executor that answers with `quirk`.

    Its card names the address each caller reached, except with `loopback-card`.
    """

    async def card(request: Request) -> JSONResponse:
        base = "http://localhost:8000" if quirk == "loopback-card" else str(request.base_url)
        return JSONResponse(agent_card_to_dict(_card(quirk, base, streaming)))

    handler = DefaultRequestHandler(
        agent_executor=_QuirkyExecutor(quirk),
        task_store=InMemoryTaskStore(),
        agent_card=_card(quirk, "http://127.0.0.1", streaming),
    )
    routes = [Route(path, card) for path in CARD_PATHS]
    app = Starlette(routes=[*routes, *create_jsonrpc_routes(handler, "/")])
    app.add_middleware(_Rewrite, quirk=quirk)
    return app

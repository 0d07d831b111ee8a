"""a2a-sdk 0.3.x (A2A 0.3): its client, and a server on its executor alone, over JSON-RPC."""

from __future__ import annotations

import sys
import uuid
from typing import Any

import httpx
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.apps import A2AStarletteApplication
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentSkill,
    DataPart,
    Message,
    Part,
    Role,
    Task,
    TaskArtifactUpdateEvent,
    TaskState,
    TextPart,
)
from a2a.utils import new_task

from interop.driver import Client, Peer, Seen, Server, Talk, main, script


class ScriptedExecutor(AgentExecutor):
    """The script on a bare a2a-sdk 0.3 executor, as `a2a_sdk.ScriptedExecutor` is on 1.x."""

    def __init__(self) -> None:
        self.turns: dict[str, list[tuple[str, str]]] = {}

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None
        task = context.current_task or new_task(context.message)
        if context.current_task is None:
            await event_queue.enqueue_event(task)
        text = context.get_user_input()
        turns = self.turns.setdefault(task.context_id, [])
        action = script.respond("assistant", script.Request(text, tuple(turns)))
        turns.append(("user", text))
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        if isinstance(action, script.Say):
            turns.append(("agent", action.text))
            artifact = uuid.uuid4().hex
            for i, piece in enumerate(script.chunks(action.text)):
                part = Part(root=TextPart(text=piece))
                await updater.add_artifact([part], artifact_id=artifact, append=i > 0)
            await updater.add_artifact([], artifact_id=artifact, append=True, last_chunk=True)
            await updater.complete()
        elif isinstance(action, script.Give):
            await updater.add_artifact([Part(root=DataPart(data=action.value))], last_chunk=True)
            await updater.complete()
        else:
            reason = action.message if isinstance(action, script.Fail) else "not scripted"
            await updater.failed(updater.new_agent_message([Part(root=TextPart(text=reason))]))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def _app(url: str, grpc_url: str) -> Any:
    card = AgentCard(
        name="bare-a2a-sdk-0.3",
        description="The interop script on a bare a2a-sdk 0.3 executor.",
        url=f"{url}/",
        version="1.0.0",
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain", "application/json"],
        default_output_modes=["text/plain", "application/json"],
        skills=[AgentSkill(id="chat", name="chat", description="The script.", tags=["chat"])],
    )
    handler = DefaultRequestHandler(ScriptedExecutor(), InMemoryTaskStore())
    return A2AStarletteApplication(agent_card=card, http_handler=handler).build()


def _parts_text(parts: list[Part]) -> str:
    return "".join(p.root.text for p in parts if isinstance(p.root, TextPart))


def _seen(task: Task | None, message: Message | None, deltas: list[str]) -> Seen:
    """What a plain a2a-sdk 0.3 user shows: every artifact's text, then the status message's."""
    if message is not None:
        parts = list(message.parts)
    elif task is not None:
        parts = [p for a in task.artifacts or [] for p in a.parts]
        parts += list(task.status.message.parts) if task.status.message else []
    else:
        return Seen(error="no answer")
    text = _parts_text(parts)
    if task is not None and task.status.state in (TaskState.failed, TaskState.rejected):
        return Seen(error=f"task {task.status.state.value}: {text}")
    data = [p.root.data for p in parts if isinstance(p.root, DataPart)]
    return Seen(text=text, data=data[0] if data else None, deltas=deltas)


async def _ask(url: str, talk: Talk) -> list[Seen]:
    async with httpx.AsyncClient(timeout=30) as http:
        card = await A2ACardResolver(http, url).get_agent_card()
        client = ClientFactory(ClientConfig(streaming=talk.stream, httpx_client=http)).create(card)
        seen, context_id = [], None
        for text in talk.texts:
            message = Message(
                message_id=uuid.uuid4().hex,
                role=Role.user,
                parts=[Part(root=TextPart(text=text))],
                context_id=context_id,
            )
            task, reply, deltas = None, None, []
            async for event in client.send_message(message):
                if isinstance(event, Message):
                    reply = event
                    continue
                task, update = event
                if isinstance(update, TaskArtifactUpdateEvent):
                    deltas.append(_parts_text(update.artifact.parts))
            context_id = task.context_id if task else reply.context_id if reply else None
            seen.append(_seen(task, reply, [d for d in deltas if d]))
        return seen


PEER = Peer(
    packages=["a2a-sdk"],
    clients={"JSON-RPC": Client(_ask)},
    servers={"JSON-RPC": Server(_app)},
)

if __name__ == "__main__":
    sys.exit(main(PEER))

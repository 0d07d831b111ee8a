"""ag2 1.x (`ag2[a2a]`): an `Agent` on `A2AConfig` as a client, `A2AServer` as a server."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any, Self

from ag2 import Agent, AgentReply
from ag2.a2a import A2AConfig, A2AServer
from ag2.a2a.errors import A2ATaskFailedError
from ag2.config import LLMClient, ModelConfig, ModelProvider
from ag2.context import ConversationContext
from ag2.events import (
    BaseEvent,
    ModelMessage,
    ModelMessageChunk,
    ModelRequest,
    ModelResponse,
    TextInput,
)

from interop.driver import Client, Peer, Seen, Server, Talk, main, script


def _text(event: ModelRequest) -> str:
    return "\n".join(i.content for i in event.parts if isinstance(i, TextInput))


class ScriptedClient(LLMClient):
    """The script as an ag2 model: it streams what it says and answers data as JSON text."""

    async def __call__(
        self, messages: Sequence[BaseEvent], context: ConversationContext, **_: Any
    ) -> ModelResponse:
        # A tuple: `|` between ag2 event classes makes a stream condition, not a union.
        turns = [m for m in messages if isinstance(m, (ModelRequest, ModelResponse))]
        history = [
            ("user", _text(m)) if isinstance(m, ModelRequest) else ("agent", m.content or "")
            for m in turns
        ]
        text = history.pop()[1] if history else ""
        action = script.respond("assistant", script.Request(text, tuple(history)))
        if isinstance(action, script.Give):
            return ModelResponse(ModelMessage(json.dumps(action.value)))
        if not isinstance(action, script.Say):
            raise RuntimeError(action.message if isinstance(action, script.Fail) else "unscripted")
        for piece in script.chunks(action.text):
            await context.send(ModelMessageChunk(piece))
            await asyncio.sleep(0)
        return ModelResponse(ModelMessage(action.text))


class ScriptedConfig(ModelConfig):
    """The scripted model, as an ag2 model config."""

    @property
    def provider(self) -> ModelProvider:
        raise NotImplementedError  # a script is no provider's model

    @property
    def model(self) -> str:
        return "scripted"

    def create_files_client(self) -> Any:
        raise NotImplementedError

    def copy(self) -> Self:
        return self

    def create(self) -> LLMClient:
        return ScriptedClient()


def _app(url: str, grpc_url: str) -> Any:
    agent = Agent("ag2-interop", "You follow the interop script.", config=ScriptedConfig())
    return A2AServer(agent).build_jsonrpc(url=url)


async def _turn(asker: Agent[Any] | AgentReply[Any, Any], text: str) -> tuple[Any, list[str]]:
    """One message, and the chunks its answer streamed in."""
    deltas: list[str] = []

    async def delta(event: ModelMessageChunk) -> None:
        deltas.append(event.content)

    # No response_schema: A2AConfig does not take one ("not yet supported"); data is text.
    async with asker.run(text) as run:
        with run.stream.where(ModelMessageChunk).sub_scope(delta):
            reply = await run.result()
    return reply, deltas


async def _ask(url: str, talk: Talk) -> list[Seen]:
    """One conversation: its first message asks the agent, the next ones its latest reply."""
    config = A2AConfig(card_url=url)  # type: ignore[abstract]  # ag2 1.2.1 fills them in at run time
    asker: Agent[Any] | AgentReply[Any, Any] = Agent("caller", config=config)
    seen = []
    for text in talk.texts:
        try:
            reply, deltas = await _turn(asker, text)
        except A2ATaskFailedError as exc:
            # The reason is not in the exception's text, but in the task it carries.
            status = exc.task.status
            reason = " ".join(p.text for p in status.message.parts) if status.message else ""
            seen.append(Seen(error=f"A2ATaskFailedError: {reason or exc}"))
            continue
        seen.append(Seen(text=reply.body or "", deltas=deltas if talk.stream else []))
        asker = reply
    return seen


PEER = Peer(
    packages=["ag2", "a2a-sdk"],
    clients={"A2AConfig": Client(_ask)},
    servers={"A2AServer": Server(_app)},
)

if __name__ == "__main__":
    sys.exit(main(PEER))

"""strands-agents (`strands-agents[a2a]`, on a2a-sdk 0.3): `A2AAgent` as a client, and
`A2AServer` serving an agent on a scripted model as a server."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from a2a.types import TaskArtifactUpdateEvent, TextPart
from strands import Agent
from strands.agent.a2a_agent import A2AAgent
from strands.models.model import Model
from strands.multiagent.a2a import A2AServer

from interop.driver import Client, Peer, Seen, Server, Talk, main, script


def _text(message: Any) -> str:
    return "".join(block.get("text", "") for block in message.get("content") or [])


class ScriptedModel(Model):
    """The script as a strands model, streaming what it says in Bedrock's event shapes."""

    def update_config(self, **model_config: Any) -> None:
        pass

    def get_config(self) -> Any:
        return {}

    def structured_output(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the script answers data as JSON text")

    async def stream(self, messages: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        turns = [("user" if m["role"] == "user" else "agent", _text(m)) for m in messages]
        text = turns.pop()[1] if turns else ""
        action = script.respond("assistant", script.Request(text, tuple(turns)))
        if isinstance(action, script.Give):
            pieces = [json.dumps(action.value)]
        elif isinstance(action, script.Say):
            pieces = script.chunks(action.text)
        else:
            raise RuntimeError(action.message if isinstance(action, script.Fail) else "unscripted")
        yield {"messageStart": {"role": "assistant"}}
        yield {"contentBlockStart": {"start": {}}}
        for piece in pieces:
            yield {"contentBlockDelta": {"delta": {"text": piece}}}
        yield {"contentBlockStop": {}}
        yield {"messageStop": {"stopReason": "end_turn"}}


def _app(url: str, grpc_url: str) -> Any:
    def agent(context_id: str) -> Agent:
        return Agent(
            model=ScriptedModel(),
            callback_handler=None,
            name="strands-interop",
            description="The interop script as a strands agent.",
        )

    server = A2AServer(agent_factory=agent, http_url=url, enable_a2a_compliant_streaming=True)
    return server.to_starlette_app()


async def _ask(url: str, talk: Talk) -> list[Seen]:
    agent = A2AAgent(endpoint=url, timeout=30)
    seen = []
    for text in talk.texts:
        deltas, result = [], None
        async for event in agent.stream_async(text):
            if "result" in event:
                result = event["result"]
                continue
            update = event["event"][1] if isinstance(event.get("event"), tuple) else None
            if isinstance(update, TaskArtifactUpdateEvent):
                parts = update.artifact.parts
                deltas += [p.root.text for p in parts if isinstance(p.root, TextPart)]
        assert result is not None
        shown = str(result).strip()
        if result.state.get("a2a_task_state") in ("failed", "rejected"):
            seen.append(Seen(error=f"task failed: {shown}"))
        else:
            seen.append(Seen(text=shown, deltas=[d for d in deltas if d]))
    return seen


PEER = Peer(
    packages=["strands-agents", "a2a-sdk"],
    clients={
        "A2AAgent": Client(
            _ask,
            cannot={"multi-turn": "its A2AAgent sends every message without a contextId"},
        )
    },
    servers={"A2AServer": Server(_app)},
)

if __name__ == "__main__":
    sys.exit(main(PEER))

"""AG2 classic (`autogen[a2a]`): `A2aRemoteAgent` as a client, `A2aAgentServer` as a server."""

from __future__ import annotations

import json
import sys
from typing import Any

from autogen import ConversableAgent
from autogen.a2a import A2aAgentServer, A2aRemoteAgent
from autogen.events.client_events import StreamEvent
from autogen.io.base import IOStream

from interop.driver import Client, Peer, Seen, Server, Talk, main, script

_AGENT_ROLES = ("assistant", "tool", "function")


class ScriptedAgent(ConversableAgent):
    """An AG2 agent whose model is the script: it streams what it says as a model client
    does (`StreamEvent`s), and answers data as JSON text, as AG2 agents answer."""

    def __init__(self) -> None:
        super().__init__("ag2-classic-interop", llm_config=False, human_input_mode="NEVER")

    async def a_generate_oai_reply(
        self, messages: list[dict[str, Any]] | None = None, *args: Any, **kwargs: Any
    ) -> tuple[bool, str]:
        turns = [
            ("agent" if m.get("role") in _AGENT_ROLES else "user", str(m.get("content") or ""))
            for m in messages or []
        ]
        text = turns.pop()[1] if turns else ""
        action = script.respond("assistant", script.Request(text, tuple(turns)))
        if isinstance(action, script.Say):
            for piece in script.chunks(action.text):
                IOStream.get_default().send(StreamEvent(content=piece))
            return True, action.text
        if isinstance(action, script.Give):
            return True, json.dumps(action.value)
        raise RuntimeError(action.message if isinstance(action, script.Fail) else "not scripted")


def _app(url: str, grpc_url: str) -> Any:
    return A2aAgentServer(ScriptedAgent(), url=f"{url}/").build()


class _Console:
    """An IOStream that keeps the streamed text and prints nothing."""

    def __init__(self) -> None:
        self.deltas: list[str] = []

    def print(self, *objects: Any, **kwargs: Any) -> None:
        pass

    def send(self, message: Any) -> None:
        if isinstance(message, StreamEvent):
            # The stream wraps each event: the text is the inner event's content.
            self.deltas.append(str(getattr(message.content, "content", message.content)))

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        return ""


async def _ask(url: str, talk: Talk) -> list[Seen]:
    """One chat with the remote agent: each message goes on with the chat's history."""
    remote = A2aRemoteAgent(url=url, name="remote")
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    seen = []
    for i, text in enumerate(talk.texts):
        console = _Console()
        with IOStream.set_default(console):
            # Not silent: a silent chat streams nothing, not even to an IOStream.
            result = await user.a_initiate_chat(
                remote, message=text, max_turns=1, clear_history=i == 0
            )
        content = result.chat_history[-1].get("content") if result.chat_history else None
        seen.append(Seen(text=str(content or ""), deltas=console.deltas))
    return seen


PEER = Peer(
    packages=["autogen", "a2a-sdk"],
    clients={"A2aRemoteAgent": Client(_ask)},
    servers={"A2aAgentServer": Server(_app)},
)

if __name__ == "__main__":
    sys.exit(main(PEER))

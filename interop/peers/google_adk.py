"""google-adk (`google-adk[a2a]`): `RemoteA2aAgent` run by an ADK `Runner` as a client, and
`to_a2a` serving an ADK agent that follows the script as a server."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncGenerator
from typing import Any

import httpx
from a2a.client.card_resolver import parse_agent_card
from a2a.types import AgentCard
from google.adk.a2a.utils.agent_to_a2a import to_a2a
from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.agents.remote_a2a_agent import RemoteA2aAgent
from google.adk.events import Event
from google.adk.runners import Runner
from google.adk.sessions import InMemorySessionService
from google.genai import types

from interop.driver import Client, Peer, Seen, Server, Talk, main, script


def _text(content: types.Content | None) -> str:
    return "".join(p.text or "" for p in (content.parts or [])) if content else ""


class ScriptedAgent(BaseAgent):
    """An ADK agent whose every answer is the script's, from the session's turns."""

    async def _run_async_impl(self, ctx: InvocationContext) -> AsyncGenerator[Event, None]:
        turns = [
            ("user" if e.author == "user" else "agent", _text(e.content))
            for e in ctx.session.events
            if _text(e.content) and not e.partial
        ]
        if turns and turns[-1] == ("user", _text(ctx.user_content)):
            turns.pop()
        request = script.Request(_text(ctx.user_content), tuple(turns))
        action = script.respond("assistant", request)
        if isinstance(action, script.Give):
            said = json.dumps(action.value)
        elif isinstance(action, script.Say):
            said = action.text
        else:
            raise RuntimeError(action.message if isinstance(action, script.Fail) else "unscripted")
        content = types.Content(role="model", parts=[types.Part(text=said)])
        yield Event(author=self.name, invocation_id=ctx.invocation_id, content=content)


def _app(url: str, grpc_url: str) -> Any:
    host, _, port = url.removeprefix("http://").partition(":")
    return to_a2a(ScriptedAgent(name="adk_interop"), host=host, port=int(port))


async def _card(url: str) -> AgentCard:
    """The card without its gRPC interfaces, which RemoteA2aAgent refuses (see NOTES)."""
    async with httpx.AsyncClient(timeout=30) as http:
        card = parse_agent_card((await http.get(f"{url}/.well-known/agent-card.json")).json())
    keep = [i for i in card.supported_interfaces if i.protocol_binding != "GRPC"]
    del card.supported_interfaces[:]
    card.supported_interfaces.extend(keep)
    return card


async def _ask(url: str, talk: Talk) -> list[Seen]:
    """One ADK session whose root agent is the remote agent."""
    remote = RemoteA2aAgent(name="remote", agent_card=await _card(url))
    sessions = InMemorySessionService()
    runner = Runner(app_name="interop", agent=remote, session_service=sessions)
    session = await sessions.create_session(app_name="interop", user_id="user")
    seen = []
    for text in talk.texts:
        deltas, final, error = [], "", None
        message = types.Content(role="user", parts=[types.Part(text=text)])
        # No RunConfig: RemoteA2aAgent streams whenever the card says the agent does.
        async for event in runner.run_async(
            user_id="user", session_id=session.id, new_message=message
        ):
            if event.error_message:
                error = event.error_message
            elif event.partial:
                deltas.append(_text(event.content))
            else:
                final += _text(event.content)
        seen.append(Seen(text=final, deltas=[d for d in deltas if d], error=error))
    await runner.close()
    return seen


NOTES = [
    "Its RemoteA2aAgent refuses a whole card that lists a gRPC interface (`host:port`, "
    "the a2a-sdk's form: 'Agent card RPC URL must use https, or http on a loopback host'); its "
    "driver hands it the card less its gRPC interfaces.",
]

PEER = Peer(
    packages=["google-adk", "a2a-sdk"],
    notes=NOTES,
    clients={"RemoteA2aAgent": Client(_ask)},
    servers={"to_a2a": Server(_app, cannot={"streaming": "its to_a2a server does not stream"})},
)

if __name__ == "__main__":
    sys.exit(main(PEER))

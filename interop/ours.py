"""a2a-bridges as one more peer: each adapter's scripted agent, and each of our clients.

`a2a-bridges serve interop/ours.py:functions` serves the functions adapter's agent (any
registered adapter's name works); `python interop/ours.py call CLIENT URL...` drives one of our
clients: `RemoteAgent`, or an adapter's native remote type (its `from_a2a`).
"""

from __future__ import annotations

import sys
from typing import Any

from a2a_bridges import to_a2a
from a2a_bridges.client import RemoteAgent
from a2a_bridges.conversation import parts_text, without_renderings
from a2a_bridges.errors import RemoteAgentError
from a2a_bridges.registry import registered
from a2a_bridges.runner import Reply, TextDelta
from a2a_bridges.testing.participant import (
    Caller,
    Message,
    Participant,
    load_participant,
)
from interop.driver import Client, Peer, Seen, Server, Talk, main


def _participant(framework: str) -> Participant | None:
    entry = next((e for e in registered() if e.name == framework), None)
    reference = entry.adapter.participant if entry and entry.adapter else None
    return load_participant(reference) if reference else None


def __getattr__(name: str) -> Any:
    """The scripted agent of the adapter `name`, built on first use."""
    participant = _participant(name)
    if participant is None:
        raise AttributeError(f"no adapter with a scripted participant named {name!r}")
    return participant.server(f"{participant.short}-interop", "assistant", lambda note: None)


async def _remote_agent(url: str, talk: Talk) -> list[Seen]:
    """`RemoteAgent` on its own: one conversation, streamed or sent."""
    seen = []
    async with RemoteAgent(url, timeout=30) as remote:
        conversation = remote.conversation()
        for text in talk.texts:
            deltas: list[str] = []
            try:
                if talk.stream:
                    reply = None
                    async for event in conversation.stream(text):
                        if isinstance(event, TextDelta):
                            deltas.append(event.text)
                        else:
                            reply = event
                    assert isinstance(reply, Reply)
                else:
                    reply = await conversation.send(text)
            except RemoteAgentError as exc:
                seen.append(Seen(error=exc.message, deltas=deltas))
                continue
            shown = parts_text(without_renderings(reply.parts))
            seen.append(Seen(text=shown, data=reply.data, deltas=deltas))
    return seen


def _native(framework: str) -> Client:
    """An adapter's native remote type, driven by its scenario participant's caller."""

    async def ask(url: str, talk: Talk) -> list[Seen]:
        participant = _participant(framework)
        assert participant is not None
        caller: Caller = participant.caller("interop", "assistant", {})
        seen = []
        try:
            for i, text in enumerate(talk.texts):
                answer = await caller.send(
                    url,
                    Message(text),
                    thread="interop",
                    stream=talk.stream,
                    output="verdict" if talk.data else None,
                )
                error = answer.error
                if i == len(talk.texts) - 1 and answer.state in ("failed", "rejected"):
                    error = error or answer.text
                seen.append(Seen(answer.text, answer.data, answer.deltas, error))
        finally:
            await caller.aclose()
        return seen

    return Client(ask)


def _server(framework: str) -> Server:
    return Server(lambda url, grpc: to_a2a(__getattr__(framework), url=url, grpc=grpc))


def peer() -> Peer:
    """Our clients and servers: `RemoteAgent`, and each adapter that has a participant."""
    # Serving one adapter (`a2a-bridges serve`) must not import every framework: only here.
    frameworks = [e.name for e in registered() if _participant(e.name) is not None]
    return Peer(
        packages=["a2a-bridges", "a2a-sdk", "autogen", "ag2", "pydantic-ai-slim", "langchain-core"],
        clients={"RemoteAgent": Client(_remote_agent), **{f: _native(f) for f in frameworks}},
        servers={f: _server(f) for f in frameworks},
    )


if __name__ == "__main__":
    sys.exit(main(peer()))

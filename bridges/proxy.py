"""The proxy: any A2A agent, re-served as a server of this library.

`to_a2a(RemoteAgent(url, token=...), store=..., auth=...)` (or `a2a-bridges proxy URL`) serves
the agent at `url` over A2A 1.0 and 0.3, JSON-RPC and HTTP+JSON (and gRPC with `grpc=`), with
a card made from the remote's. Each message goes on to the remote through `RemoteAgent`, which
absorbs the remote's quirks; its text streams back as it arrives, a question it asks reaches
the caller as input-required, and a cancelled task cancels the remote one. A conversation here
is one conversation there: the remote contextId (and the remote task waiting for an answer) is
kept in the runner's notes, in the configured store, so a restarted proxy goes on with it.

The caller's credentials stay here: upstream, the proxy presents its own (`RemoteAgent`'s
`headers`, `token`, `api_key`), unless told to `forward_authorization` (the caller's
`Authorization` header over HTTP then replaces them).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncGenerator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
from a2a.types import AgentCard, AgentSkill
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from a2a_bridges import quirks
from a2a_bridges.adapter import Adapter
from a2a_bridges.card import CardInfo
from a2a_bridges.client import ClientOptions, RemoteAgent, RemoteConversation
from a2a_bridges.conversation import Conversation, Turn
from a2a_bridges.errors import AgentError, RemoteAgentError
from a2a_bridges.runner import Event, InputRequired, Reply

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = [
    "NOTES",
    "ProxyAdapter",
    "ProxyRunner",
    "adapter",
    "from_a2a",
    "handles",
    "to_a2a",
]

NOTES = "a2a_bridges.proxy"
"""The key of the proxy's notes on each answer: the remote contextId, and the remote task that
waits for the caller's answer, if one does."""

_caller_authorization: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "a2a_bridges_proxy_caller_authorization", default=None
)


class ProxyRunner:
    """Answers each message by passing it on to a remote agent."""

    def __init__(self, remote: RemoteAgent) -> None:
        self.remote = remote

    def _resume(self, conversation: Conversation) -> RemoteConversation:
        """The remote conversation this context maps to, as the latest notes left it."""
        notes = (conversation.notes or {}).get(NOTES)
        if not isinstance(notes, Mapping):
            return self.remote.conversation()
        context_id, pending = notes.get("context_id"), notes.get("pending")
        return RemoteConversation(
            self.remote,
            context_id if isinstance(context_id, str) else None,
            pending=pending if isinstance(pending, str) else None,
        )

    async def _outgoing(self, conversation: Conversation) -> Turn:
        """The message to send: the caller's, with the history for a remote that keeps none."""
        turn = conversation.last
        card = await self.remote.card()
        if conversation.history and quirks.takes_inline_history(card.default_input_modes):
            history = quirks.ag2_history(conversation.history)
            turn = replace(turn, parts=(*turn.parts, history))
        return turn

    async def run(self, conversation: Conversation) -> AsyncGenerator[Event, Turn | None]:
        chat = self._resume(conversation)
        turn: Turn | None = await self._outgoing(conversation)
        while turn is not None:
            reply: Reply | None = None
            try:
                # Closed at once when the run is cancelled or closed: the remote task then is.
                async with contextlib.aclosing(chat.stream(turn)) as events:
                    async for event in events:
                        if isinstance(event, Reply):
                            reply = event
                        elif conversation.streaming:
                            # Unless the caller reads as it comes, only the reply counts: its
                            # parts then arrive exactly as the remote's were.
                            yield event
            except RemoteAgentError as exc:
                raise AgentError(exc.reason or exc.message) from exc
            assert reply is not None  # a stream ends with its reply
            notes = {NOTES: {"context_id": chat.context_id, "pending": chat.pending}}
            if not chat.asking:
                yield Reply(reply.parts, metadata=notes)
                return
            turn = yield InputRequired(reply.parts, metadata=notes)


class _ForwardingAgent(RemoteAgent):
    """A remote agent that presents each caller's `Authorization` header, when there is one."""

    def _http(self, card: AgentCard | None = None) -> httpx.AsyncClient:
        http = super()._http(card)
        http.event_hooks = {**http.event_hooks, "request": [_present_caller]}
        return http


async def _present_caller(request: httpx.Request) -> None:
    if (authorization := _caller_authorization.get()) is not None:
        request.headers["Authorization"] = authorization


class _KeepAuthorization:
    """Keeps each HTTP caller's `Authorization` header where the upstream calls it makes see it
    (the tasks that run its message copy this context)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _caller_authorization.set(Headers(scope=scope).get("authorization"))
        try:
            await self.app(scope, receive, send)
        finally:
            _caller_authorization.reset(token)


def _skill(remote: AgentSkill) -> AgentSkill:
    """A remote skill with the fields A2A requires, which some peers leave out (ag2 1.2.1 sends
    no tags)."""
    skill = AgentSkill()
    skill.CopyFrom(remote)
    skill.id = skill.id or skill.name or "skill"
    skill.name = skill.name or skill.id
    skill.description = skill.description or skill.name
    if not skill.tags:
        skill.tags.append(skill.id)
    return skill


class ProxyAdapter(Adapter):
    """Remote A2A agents (`RemoteAgent`s), re-served."""

    name = "proxy"
    serves = "remote A2A agents (a2a_bridges.RemoteAgent, re-served as a proxy)"
    agent_types = (RemoteAgent,)

    def card(self, agent: RemoteAgent) -> CardInfo:
        """The remote's name, description, skills and modes."""
        card = agent.card_sync()
        skills = [_skill(s) for s in card.skills]
        info = CardInfo(name=card.name, description=card.description, skills=skills)
        if card.default_input_modes:
            info.input_modes = list(card.default_input_modes)
        if card.default_output_modes:
            info.output_modes = list(card.default_output_modes)
        return info

    def runner(self, agent: RemoteAgent, *args: Any, **options: Any) -> ProxyRunner:
        """The runner that passes each message on to `agent`."""
        if args or options:
            unknown = ", ".join(sorted(options)) or "positional arguments"
            raise TypeError(
                f"unknown option(s) for a proxy: {unknown} (it takes the server options and "
                "forward_authorization)"
            )
        return ProxyRunner(agent)

    def remote(self, url: str, client: ClientOptions, **native: Any) -> RemoteAgent:
        """The remote agent at `url`, as the proxy serves it."""
        if native:
            raise TypeError(f"unknown option(s) {', '.join(sorted(native))} for a RemoteAgent")
        return RemoteAgent(url, **client)

    def to_a2a(self, agent: RemoteAgent, **options: Any) -> Starlette:
        """Serve `agent` as a proxy; `options` are the core's `ServerOptions`, and
        `forward_authorization=True` to present each caller's `Authorization` header upstream.

        Reads the remote card (a `RemoteAgentError` when the remote cannot be reached); the
        card streams as the remote's does, unless `streaming` says otherwise."""
        forward = bool(options.pop("forward_authorization", False))
        if forward:
            agent = _ForwardingAgent(agent.url, **agent.options)
        options.setdefault("streaming", agent.card_sync().capabilities.streaming)
        app = super().to_a2a(agent, **options)
        if forward:
            app.add_middleware(_KeepAuthorization)
        return app


adapter = ProxyAdapter()
handles = adapter.handles
to_a2a = adapter.to_a2a
from_a2a = adapter.from_a2a

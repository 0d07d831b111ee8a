"""The server side: a runner behind an a2a-sdk request handler, as one Starlette app."""

from __future__ import annotations

import contextlib
import hmac
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes import create_jsonrpc_routes, create_rest_routes
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
)
from a2a.utils.constants import TransportProtocol
from starlette.applications import Starlette
from starlette.authentication import SimpleUser
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridges.executor import BridgeExecutor
from bridges.runner import Runner
from bridges.stores import open_stores

__all__ = ["Auth", "CardInfo", "Skill", "build_app", "card_options"]

CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

Skill: TypeAlias = AgentSkill | Mapping[str, Any] | str
"""A card skill: an a2a `AgentSkill`, a dict of its fields, or just a name."""

Auth: TypeAlias = (
    str | Mapping[str, str] | Callable[[Request], "str | Awaitable[str | None] | None"]
)
"""A bearer token; a mapping of bearer tokens to user names; or a function of the request
that returns the user name, or None to refuse it."""


@dataclass
class CardInfo:
    """What an adapter knows about its agent, for the card."""

    name: str
    description: str = ""
    skills: Sequence[Skill] = field(default_factory=list)
    input_modes: Sequence[str] = ("text/plain", "application/json")
    output_modes: Sequence[str] = ("text/plain", "application/json")


def card_options(info: CardInfo, options: Mapping[str, Any]) -> dict[str, Any]:
    """`build_app` keyword arguments: the caller's `name`, `description` and `skills` override
    what the adapter found; every other option passes through."""
    rest = dict(options)
    for key in ("name", "description", "skills"):
        if (value := rest.pop(key, None)) is not None:
            setattr(info, key, value)
    return {"info": info, **rest}


def _skill(skill: Skill) -> AgentSkill:
    if isinstance(skill, AgentSkill):
        return skill
    if isinstance(skill, str):
        return AgentSkill(id=skill, name=skill, description=skill, tags=[skill])
    fields = dict(skill)
    fields.setdefault("id", fields.get("name", "skill"))
    fields.setdefault("name", fields["id"])
    fields.setdefault("description", fields["name"])
    fields.setdefault("tags", [fields["id"]])
    return AgentSkill(**fields)


def _card(info: CardInfo, *, base_url: str, streaming: bool, auth: bool) -> AgentCard:
    base = base_url.rstrip("/")
    interfaces = [
        AgentInterface(
            url=f"{base}/", protocol_binding=TransportProtocol.JSONRPC, protocol_version=v
        )
        for v in ("1.0", "0.3")
    ] + [
        AgentInterface(url=base, protocol_binding=TransportProtocol.HTTP_JSON, protocol_version=v)
        for v in ("1.0", "0.3")
    ]
    card = AgentCard(
        name=info.name,
        description=info.description or info.name,
        version="1.0.0",
        supported_interfaces=interfaces,
        capabilities=AgentCapabilities(streaming=streaming, push_notifications=False),
        default_input_modes=list(info.input_modes),
        default_output_modes=list(info.output_modes),
        skills=[_skill(s) for s in info.skills]
        or [
            AgentSkill(
                id="chat", name="chat", description=info.description or info.name, tags=["chat"]
            )
        ],
    )
    if auth:
        card.security_schemes["bearer"].CopyFrom(
            SecurityScheme(http_auth_security_scheme=HTTPAuthSecurityScheme(scheme="Bearer"))
        )
        requirement = SecurityRequirement()
        requirement.schemes["bearer"].SetInParent()
        card.security_requirements.append(requirement)
    return card


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}},
        status_code=status,
    )


class _Limits:
    """Refuses bodies over the limit and requests without valid credentials, before the SDK."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, auth: Auth | None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.auth is not None and scope["path"] not in CARD_PATHS:
            user = await self._authenticate(request)
            if user is None:
                response = _error(401, -32001, "unauthorized: send a valid bearer token")
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, send)
                return
            scope["user"] = SimpleUser(user)
            scope["auth"] = None
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        # The body is read here first: the SDK answers -32603 to an error while it reads a body
        # and HTTP 500 to a REST body that is not UTF-8.
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        try:
            bytes(body).decode()
        except UnicodeDecodeError:
            await _not_utf8(scope["path"])(scope, receive, send)
            return
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = f"request body too large (limit {self.max_body_bytes} bytes)"
        await _error(413, -32600, limit)(scope, receive, send)

    async def _authenticate(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if callable(self.auth):
            result = self.auth(request)
            return await result if inspect.isawaitable(result) else result
        if not token:
            return None
        if isinstance(self.auth, str):
            return "user" if hmac.compare_digest(token, self.auth) else None
        assert self.auth is not None
        return next(
            (user for known, user in self.auth.items() if hmac.compare_digest(token, known)), None
        )


def _not_utf8(path: str) -> Response:
    message = "the request body is not valid UTF-8 JSON"
    if path == "/":
        return _error(200, -32700, message)  # JSON-RPC reports parse errors in the body
    return JSONResponse(
        {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": message}}, 400
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def build_app(
    runner: Runner,
    info: CardInfo,
    *,
    url: str | None = None,
    store: str | None = None,
    auth: Auth | None = None,
    streaming: bool = True,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Starlette:
    """Serve `runner` over A2A 1.0 and 0.3, JSON-RPC and HTTP+JSON, with its card."""
    stores = open_stores(store)
    base_card = _card(
        info, base_url=url or "http://127.0.0.1", streaming=streaming, auth=auth is not None
    )
    handler = DefaultRequestHandler(
        agent_executor=BridgeExecutor(runner, stores.memory),
        task_store=stores.tasks,
        agent_card=base_card,
    )
    cards: dict[str, dict[str, Any]] = {}

    async def card(request: Request) -> Response:
        # Without a configured URL the card names the address the caller reached.
        base = url or str(request.base_url)
        if base not in cards:
            cards[base] = agent_card_to_dict(
                _card(info, base_url=base, streaming=streaming, auth=auth is not None)
            )
        return JSONResponse(cards[base], headers={"Cache-Control": "public, max-age=300"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await handler.aclose()
            await stores.aclose()

    routes: list[BaseRoute] = [Route(path, card, methods=["GET"]) for path in CARD_PATHS]
    routes += create_jsonrpc_routes(handler, "/", enable_v0_3_compat=True)
    routes += create_rest_routes(handler, enable_v0_3_compat=True)
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(_Limits, max_body_bytes=max_body_bytes, auth=auth)
    app.state.runner = runner
    return app

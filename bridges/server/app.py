"""The server side: a runner behind an a2a-sdk request handler, as one Starlette app."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from email.utils import formatdate
from typing import Any, TypedDict
from urllib.parse import urlsplit

from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes.common import DefaultServerCallContextBuilder
from a2a.types import AgentCard
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from typing_extensions import Unpack

from a2a_bridges.card import CARD_PATHS, HEALTH_PATH, VERSIONS, CardInfo, Skill, build_card
from a2a_bridges.runner import Runner
from a2a_bridges.server.executor import BridgeExecutor, Limits
from a2a_bridges.server.guard import DEFAULT_MAX_BODY_BYTES, Auth, Credentials, Guard, http_error
from a2a_bridges.server.handler import BridgeRequestHandler, routes
from a2a_bridges.server.stores import open_stores

__all__ = ["SERVER_OPTIONS", "ServerOptions", "build_app"]

logger = logging.getLogger("a2a_bridges.server")

_CARD_CACHE_SIZE = 32


class ServerOptions(TypedDict, total=False):
    """How an agent is served: the options `to_a2a` and `serve` take for every framework."""

    name: str
    """The card's name, instead of the agent's own."""
    description: str
    """The card's description, instead of the agent's own."""
    skills: Sequence[Skill]
    """The card's skills, instead of those found in the agent's tools."""
    url: str
    """The public URL the card names; by default the address each caller reached."""
    store: str | None
    """Where tasks and conversations live: None (memory), `sqlite:///f.db` or a PostgreSQL URL."""
    auth: Auth | None
    """Callers must authenticate (see `Auth`); the card then declares the scheme."""
    api_keys: str | Mapping[str, str] | None
    """Callers may (or, without `auth`, must) send one of these in `X-API-Key`; a mapping
    names each key's user. The card declares the scheme."""
    streaming: bool
    """Stream answers to callers that ask for it (default True)."""
    max_body_bytes: int
    """Refuse bigger request bodies (default 10 MiB)."""
    versions: Sequence[str]
    """The A2A versions to serve: ("1.0", "0.3") by default, or ("1.0",)."""
    grpc: str | None
    """Also serve gRPC at this `host:port` (port 0: any free port); extra `grpc`."""
    list_tasks: bool
    """Answer ListTasks (default: only when callers authenticate, each seeing their own)."""
    max_parts: int
    """Refuse messages with more parts (default 100)."""
    max_tasks: int
    """How many tasks run at once (default 64); later messages wait their turn."""
    max_waiting: int
    """Answer 503 to new messages while this many wait their turn (default 4096)."""
    task_timeout: float | None
    """Fail a task still running after this many seconds (default 900; None: no limit)."""
    debug: bool
    """Tell callers every error's message, not only an `AgentError`'s (for development)."""
    cluster: bool
    """Serve as one of several replicas on one PostgreSQL store: any replica reads, subscribes
    to, cancels or continues any task, and turns of one conversation never overlap."""


SERVER_OPTIONS = frozenset(ServerOptions.__annotations__)


class _ContextBuilder(DefaultServerCallContextBuilder):
    """Tells the executor whether an HTTP+JSON caller streams (JSON-RPC ones name a method)."""

    def build(self, request: Request) -> ServerCallContext:
        context = super().build(request)
        context.state["streaming"] = request.scope["path"].endswith((":stream", ":subscribe"))
        return context


class _Cards:
    """The card for each base URL callers reach, as JSON with its ETag, a bounded few kept."""

    def __init__(self, info: CardInfo, **card: Any) -> None:
        self.info = info
        self.card = card
        self.grpc_port: int | None = None  # set once the gRPC server listens
        self.modified = formatdate(usegmt=True)
        self._made: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    def build(self, base: str) -> AgentCard:
        """The card for callers that reached `base`."""
        grpc_url = None
        if self.grpc_port is not None:
            grpc_url = f"{urlsplit(base).hostname or '127.0.0.1'}:{self.grpc_port}"
        return build_card(self.info, base_url=base, grpc_url=grpc_url, **self.card)

    def get(self, base: str) -> tuple[bytes, str]:
        if base in self._made:
            self._made.move_to_end(base)
            return self._made[base]
        data = agent_card_to_dict(self.build(base))
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        made = self._made[base] = (body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
        if len(self._made) > _CARD_CACHE_SIZE:
            self._made.popitem(last=False)
        return made

    async def route(self, request: Request, url: str | None) -> Response:
        # Without a configured URL the card names the address the caller reached.
        body, etag = self.get(url or str(request.base_url))
        headers = {
            "Cache-Control": "public, max-age=300",
            "ETag": etag,
            "Last-Modified": self.modified,
        }
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)


def build_app(runner: Runner, info: CardInfo, **options: Unpack[ServerOptions]) -> Starlette:
    """Serve `runner` over A2A 1.0 and 0.3, JSON-RPC and HTTP+JSON, with its card."""
    unknown = set(options) - SERVER_OPTIONS
    if unknown:
        raise TypeError(
            f"unknown server option(s) {', '.join(sorted(unknown))}: "
            f"choose from {', '.join(sorted(SERVER_OPTIONS))}"
        )
    for key in ("name", "description", "skills"):
        if (value := options.get(key)) is not None:
            setattr(info, key, value)
    url = options.get("url")
    credentials = Credentials(options.get("auth"), options.get("api_keys"))
    versions = tuple(options.get("versions") or VERSIONS)
    if "1.0" not in versions or not set(versions) <= set(VERSIONS):
        raise ValueError(f"versions must include 1.0, from {VERSIONS}; got {versions}")
    schemes = credentials.schemes
    cards = _Cards(
        info, streaming=options.get("streaming", True), schemes=schemes, versions=versions
    )
    stores = open_stores(options.get("store"), cluster=options.get("cluster", False))
    default = Limits()
    limits = Limits(
        max_parts=options.get("max_parts", default.max_parts),
        max_tasks=options.get("max_tasks", default.max_tasks),
        max_waiting=options.get("max_waiting", default.max_waiting),
        task_timeout=options.get("task_timeout", default.task_timeout),
        debug=options.get("debug", default.debug),
    )
    executor = BridgeExecutor(runner, stores.memory, limits, stores.watch)
    handler = BridgeRequestHandler(
        list_tasks=options.get("list_tasks", credentials.required),
        agent_executor=executor,
        task_store=stores.tasks,
        agent_card=cards.build(url or "http://127.0.0.1"),
        event_stream=stores.events,
        # In a cluster, let go soon of a task parked for input, so that once another replica
        # took its answer this one never serves its stale copy (a follow-up reloads it).
        interrupted_task_timeout=stores.watch.interval if stores.watch else None,
    )

    async def card(request: Request) -> Response:
        return await cards.route(request, url)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "running_tasks": executor.running()})

    compat = "0.3" in versions
    grpc_address = options.get("grpc")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await stores.open()
        if failed := await stores.fail_interrupted(limits.task_timeout):
            logger.warning("%d task(s) left running by an earlier run were failed", failed)
        grpc_server = None
        if grpc_address is not None:
            from a2a_bridges.server.grpc import start_grpc

            grpc_server, cards.grpc_port = await start_grpc(
                handler, grpc_address, credentials=credentials, compat=compat
            )
            app.state.grpc_port = cards.grpc_port
        try:
            yield
        finally:
            await executor.stop("the server shut down while this task ran; send it again")
            await handler.settle(executor.stopped)
            if grpc_server is not None:
                await grpc_server.stop(grace=2)
            await handler.aclose()
            await stores.aclose()

    builder = _ContextBuilder()
    served: list[BaseRoute] = [Route(path, card, methods=["GET"]) for path in CARD_PATHS]
    served.append(Route(HEALTH_PATH, health, methods=["GET"]))
    served += routes(handler, builder, compat)
    app = Starlette(
        routes=served, lifespan=lifespan, exception_handlers={HTTPException: http_error}
    )
    app.add_middleware(
        Guard,
        max_body_bytes=options.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES),
        credentials=credentials,
        busy=executor.busy,
    )
    app.state.runner = runner
    app.state.executor = executor
    return app

"""Loopback relays in front of a server nobody here wrote, so that what crosses the wire is
recorded (`Recording`) as it is for the scenarios' own servers.

One relay per origin the agent's card names (its own first). Each forwards every request as
it came and streams every response back as it goes; only the card is changed, so that its
interfaces point at the relays and callers keep talking through them. A card that names a
loopback address other than the one that served it (AG2 classic names http://localhost:8000
whatever its port) gets a relay that forwards nothing and says so: a caller that trusts the
card fails there, as it would without the relay, and never reaches whatever else listens on
that port.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.types import Message, Receive, Scope, Send

from a2a_bridges.card import CARD_PATHS
from a2a_bridges.scenarios.transcript import Recording, Sink
from a2a_bridges.server.guard import read_body
from a2a_bridges.testing import running

__all__ = [
    "KEEP_ALIVE",
    "Forward",
    "card_urls",
    "origin",
    "relays",
]

KEEP_ALIVE = 120  # seconds

# Hop-by-hop headers, and those the relay sets itself.
_DROPPED = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}
_DROPPED_BACK = {"content-length", "connection", "transfer-encoding", "content-encoding"}


def origin(url: str) -> str:
    """`scheme://host:port` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def card_urls(card: dict[str, Any]) -> list[str]:
    """Every interface URL a card's JSON names, 1.0 and 0.3 fields alike."""
    urls = [i.get("url", "") for i in card.get("supportedInterfaces") or []]
    urls += [card.get("url") or ""]
    urls += [i.get("url", "") for i in card.get("additionalInterfaces") or []]
    return [u for u in urls if isinstance(u, str) and u.startswith(("http://", "https://"))]


def _rewrite(card: Any, relayed: dict[str, str]) -> Any:
    """The card with each relayed origin in its interface URLs replaced by its relay's."""

    def moved(url: str) -> str:
        there = origin(url)
        return relayed[there] + url[len(there) :] if there in relayed else url

    if isinstance(card, dict):
        for key in ("supportedInterfaces", "additionalInterfaces"):
            for interface in card.get(key) or []:
                if isinstance(interface, dict) and isinstance(interface.get("url"), str):
                    interface["url"] = moved(interface["url"])
        if isinstance(card.get("url"), str):
            card["url"] = moved(card["url"])
    return card


def _misnamed(url: str, reached: str) -> bool:
    """Whether `url` names loopback on another address than the `reached` one."""
    loopback = urlsplit(url).hostname in ("localhost", "127.0.0.1", "0.0.0.0", "::1")
    return loopback and origin(url) != origin(reached)


class Forward:
    """ASGI app that forwards every request to `upstream` and streams the answer back; the
    card's interface URLs are rewritten through `relayed` (origin → relay URL)."""

    def __init__(self, upstream: str, relayed: dict[str, str], timeout: float) -> None:
        self.upstream = upstream
        self.relayed = relayed
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            if self._http is not None:
                await self._http.aclose()
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "http":
            await self._forward(scope, receive, send)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._http is None:  # made on the relay's own event loop
            # Idle upstream connections are let go before a server's keep-alive (often 5 s)
            # ends, so the relay never sends on one the server is closing.
            limits = httpx.Limits(keepalive_expiry=1.0)
            self._http = httpx.AsyncClient(timeout=self.timeout, limits=limits)
        body = await read_body(receive)
        headers = [
            (k.decode(), v.decode())
            for k, v in scope.get("headers", [])
            if k.decode().lower() not in _DROPPED
        ]
        query = scope.get("query_string", b"").decode()
        url = self.upstream + scope["path"] + (f"?{query}" if query else "")
        request = self._http.build_request(
            scope["method"], url, headers=[*headers, ("accept-encoding", "identity")], content=body
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            await _said(send, 502, f"{self.upstream} could not be reached: {exc or type(exc)}")
            return
        try:
            if scope["path"] in CARD_PATHS and response.status_code == 200:
                await self._card(response, send)
            else:
                await self._stream(response, send)
        finally:
            await response.aclose()

    async def _card(self, response: httpx.Response, send: Send) -> None:
        try:
            card = _rewrite(json.loads(await response.aread()), self.relayed)
        except ValueError:
            await _said(send, 502, f"{self.upstream} sent a card that is not JSON")
            return
        body = json.dumps(card).encode()
        await send({"type": "http.response.start", "status": 200, "headers": _json_headers()})
        await send({"type": "http.response.body", "body": body})

    async def _stream(self, response: httpx.Response, send: Send) -> None:
        headers = [
            (k.encode(), v.encode())
            for k, v in response.headers.multi_items()
            if k.lower() not in _DROPPED_BACK
        ]
        start: Message = {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": headers,
        }
        await send(start)
        try:
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.HTTPError:
            pass  # the server broke the answer off: the caller sees it end there
        await send({"type": "http.response.body", "body": b""})


class _Misnamed:
    """ASGI app for an address a card misnames: forwards nothing, says why (HTTP 502)."""

    def __init__(self, named: str, reached: str) -> None:
        self.why = (
            f"the card names {named}, not the address that served it ({reached}): "
            "a caller that trusts the card cannot reach the agent"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await read_body(receive)
            await _said(send, 502, self.why)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)
            await send({"type": "lifespan.shutdown.complete"})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Start at once; return when the server begins to shut down."""
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})


def _json_headers() -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json")]


async def _said(send: Send, status: int, text: str) -> None:
    body = json.dumps({"error": {"code": -32603, "message": text}}).encode()
    await send({"type": "http.response.start", "status": status, "headers": _json_headers()})
    await send({"type": "http.response.body", "body": body})


class _Unheard(logging.Filter):
    """Drops asyncio's complaint about writing to a closed socket: a server that refuses an
    oversized body closes the connection while the relay still sends it, as any client does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("socket.send() raised exception")


@contextlib.contextmanager
def relays(
    url: str, card: dict[str, Any], *, server: str, sink: Sink, timeout: float
) -> Iterator[str]:
    """Relay `url`'s origin and every origin its `card` names, recorded into `sink` as
    exchanges with `server`; yield the URL that stands for `url`."""
    reached = origin(url)
    origins = list(dict.fromkeys([reached, *(origin(u) for u in card_urls(card))]))
    relayed: dict[str, str] = {}
    unheard, log = _Unheard(), logging.getLogger("asyncio")
    log.addFilter(unheard)
    with contextlib.ExitStack() as stack:
        stack.callback(log.removeFilter, unheard)
        for there in origins:
            app: Any = (
                _Misnamed(there, reached)
                if _misnamed(there, reached)
                else Forward(there, relayed, timeout)
            )
            recorded = Recording(app, server=server, framework="server", sink=sink)
            # Idle connections stay open longer than a caller keeps them, so that no call
            # fails for reusing one the relay just closed: the relay must add no failure.
            relayed[there] = stack.enter_context(running(recorded, keep_alive=KEEP_ALIVE))
        yield relayed[reached] + url[len(reached) :].rstrip("/")

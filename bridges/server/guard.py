"""What is refused before the a2a-sdk sees a request: bodies over the limit, bodies that are not
UTF-8 or hold JSON the SDK cannot take back out (NaN, lone surrogates, deep nesting), and
callers without valid credentials."""

from __future__ import annotations

import hmac
import inspect
import json
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from starlette.authentication import SimpleUser
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from a2a_bridges import telemetry
from a2a_bridges.card import API_KEY_HEADER, CARD_PATHS, HEALTH_PATH, Scheme

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "Auth",
    "Credentials",
    "Guard",
    "http_error",
    "json_problem",
    "jsonrpc_error",
    "read_body",
    "replay",
]

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

MAX_JSON_DEPTH = 100
"""The deepest nesting a request body may have (protobuf's JSON parser takes no more)."""

Auth: TypeAlias = (
    str | Mapping[str, str] | Callable[[Request], "str | Awaitable[str | None] | None"]
)
"""A bearer token; a mapping of bearer tokens to user names; or a function of the request
that returns the user name, or None to refuse it."""


def jsonrpc_error(status: int, code: int, message: str) -> JSONResponse:
    """A JSON-RPC error response with no request id."""
    return JSONResponse(
        {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}},
        status_code=status,
    )


class Guard:
    """ASGI middleware: refuses bodies over the limit or not JSON the SDK can carry, and callers
    without valid credentials."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        credentials: Credentials,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.credentials = credentials
        self.busy = busy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        # The caller's trace goes on here: the SDK's spans, and our own calls out, join it.
        with telemetry.continued(request.headers):
            await self._guard(request, scope, receive, send)

    async def _guard(self, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
        if self.credentials.required and scope["path"] not in (*CARD_PATHS, HEALTH_PATH):
            user = await self.credentials.identify(request)
            if user is None:
                response = jsonrpc_error(401, -32001, "unauthorized: send valid credentials")
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
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind and kind != "application/json" and not kind.endswith("+json"):
            await _unsupported(scope["path"], kind)(scope, receive, send)
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
        data = bytes(body)
        try:
            text = data.decode()
        except UnicodeDecodeError:
            await _bad_body(scope["path"], "it is not UTF-8")(scope, receive, send)
            return
        # What the SDK would store, then fail to send back (or break a stream on).
        if text and (problem := json_problem(text)) is not None:
            await _bad_body(scope["path"], problem)(scope, receive, send)
            return
        if self.busy() and _starts_a_task(scope["path"], data):
            response = jsonrpc_error(503, -32000, "the server is busy: try again in a moment")
            response.headers["Retry-After"] = "1"
            await response(scope, receive, send)
            return
        await self.app(scope, replay(data, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = f"request body too large (limit {self.max_body_bytes} bytes)"
        await jsonrpc_error(413, -32600, limit)(scope, receive, send)


def _match(secret: str, known: str | Mapping[str, str]) -> str | None:
    if not secret:
        return None
    if isinstance(known, str):
        return "user" if hmac.compare_digest(secret, known) else None
    return next((user for key, user in known.items() if hmac.compare_digest(secret, key)), None)


@dataclass(frozen=True)
class Credentials:
    """Who may call: bearer tokens (`auth`), API keys in the `X-API-Key` header, or both."""

    auth: Auth | None = None
    api_keys: str | Mapping[str, str] | None = None

    @property
    def required(self) -> bool:
        """Whether callers must authenticate at all."""
        return self.auth is not None or self.api_keys is not None

    @property
    def schemes(self) -> tuple[Scheme, ...]:
        """What the card declares."""
        found: list[Scheme] = []
        if self.auth is not None:
            found.append("bearer")
        if self.api_keys is not None:
            found.append("api_key")
        return tuple(found)

    async def identify(self, request: Request) -> str | None:
        """The user the request's credentials name, or None when they are missing or wrong."""
        if self.api_keys is not None:
            user = _match(request.headers.get(API_KEY_HEADER, "").strip(), self.api_keys)
            if user is not None:
                return user
        if callable(self.auth):
            result = self.auth(request)
            return await result if inspect.isawaitable(result) else result
        if self.auth is None:
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return _match(token.strip() if scheme.lower() == "bearer" else "", self.auth)


_SENDS = frozenset({"SendMessage", "SendStreamingMessage", "message/send", "message/stream"})


def _starts_a_task(path: str, body: bytes) -> bool:
    if path.endswith((":send", ":stream")):
        return True
    try:
        request = json.loads(body)
    except ValueError:
        return False
    return isinstance(request, dict) and request.get("method") in _SENDS


class _NotJSON(ValueError):
    """What JSON's grammar (RFC 8259) has no place for, though Python's parser takes it."""


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotJSON(f"the number {text[:20]} is too large")
    return number


def _constant(name: str) -> float:
    raise _NotJSON(f"{name} is not a JSON value")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


_DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_finite)


def json_problem(body: str | bytes) -> str | None:
    """What in a JSON body no response could carry back: NaN or Infinity, a lone surrogate
    (which no UTF-8 encodes), nesting past `MAX_JSON_DEPTH`; None if nothing (or if it is not
    JSON at all, which the SDK answers itself)."""
    try:
        text = body.decode() if isinstance(body, bytes) else body
        value = _DECODER.decode(text.removeprefix("\ufeff"))  # as the SDK: json.loads takes a BOM
    except _NotJSON as exc:
        return str(exc)
    except RecursionError:
        return f"it is nested deeper than {MAX_JSON_DEPTH} levels"
    except ValueError:
        return None
    # Nesting deeper than the limit takes more brackets than that: counting them is cheap.
    brackets = text.count("[") + text.count("{")
    if brackets > MAX_JSON_DEPTH and _deeper(value, MAX_JSON_DEPTH):
        return f"it is nested deeper than {MAX_JSON_DEPTH} levels"
    # Without such an escape no string can hold a surrogate; `in` finds none in a big body
    # many times faster than the pattern does.
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            return "a string holds a lone surrogate (\\ud800-\\udfff unpaired)"
    return None


def _deeper(value: object, limit: int) -> bool:
    """Whether `value` nests containers deeper than `limit`: one level at a time, containers
    only (a walk of every value took seconds on a body of 400,000 parts)."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "UNIMPLEMENTED", 415: "INVALID_ARGUMENT"}


def _rest_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """An HTTP+JSON error response, shaped as the SDK shapes its own."""
    error = {"code": status, "status": _STATUS.get(status, "UNKNOWN"), "message": message}
    return JSONResponse({"error": error}, status, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no such route, a method the route does not take) as JSON."""
    assert isinstance(exc, HTTPException)
    return _rest_error(exc.status_code, exc.detail, exc.headers)


def _unsupported(path: str, kind: str) -> Response:
    message = f"content type {kind} is not supported: send application/json"
    if path == "/":
        return jsonrpc_error(415, -32005, message)
    return _rest_error(415, message)


def _bad_body(path: str, problem: str) -> Response:
    message = f"the request body is not valid JSON: {problem}"
    if path == "/":
        return jsonrpc_error(200, -32700, message)  # JSON-RPC reports parse errors in the body
    return _rest_error(400, message)


async def read_body(receive: Receive) -> bytes:
    """A request's whole body."""
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if message["type"] != "http.request" or not message.get("more_body", False):
            return bytes(body)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app `body` (already read), then whatever `receive` gives."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay

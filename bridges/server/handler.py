"""The a2a-sdk request handler and routes, with the server's policies: who may list tasks, how
many a page holds, requests every store can keep, and no internal error's text (SQL, paths, secrets)
ever sent to a caller."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Any, TypeVar

from a2a.compat.v0_3.rest_adapter import REST03Adapter
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.request_handlers.request_handler import RequestHandler
from a2a.server.routes import ServerCallContextBuilder, create_rest_routes
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from a2a.types import ListTasksRequest, ListTasksResponse
from a2a.utils import json_utils
from a2a.utils.error_handlers import build_rest_error_payload, rest_stream_error_handler
from a2a.utils.errors import A2AError, InternalError, InvalidParamsError
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message as ProtoMessage
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from a2a_bridges.server.executor import failure_text

__all__ = ["MAX_PAGE_SIZE", "BridgeRequestHandler", "check_request", "internal_error", "routes"]

logger = logging.getLogger("a2a_bridges.server")

MAX_PAGE_SIZE = 50
"""The most tasks one ListTasks page holds, whatever the caller asks."""

_F = TypeVar("_F", bound=Callable[..., Any])
_Map = Callable[[Exception], A2AError]


def internal_error(exc: BaseException) -> InternalError:
    """What a caller is told of an unexpected error: a reference the server log carries with
    the full error, never the error's own text."""
    reference = uuid.uuid4().hex[:12]
    logger.error("internal error, reference %s", reference, exc_info=exc)
    return InternalError(message=f"internal error (reference {reference})")


_CONVERSION_ERRORS = (ValueError, TypeError, OverflowError, json_format.Error)


def _conversion_error(exc: Exception) -> A2AError:
    """A v0.3 request the SDK's compat layer cannot convert is the caller's mistake (it raises
    plain errors, that its routes answer with HTTP 500 or -32603 and the error's text)."""
    if isinstance(exc, _CONVERSION_ERRORS):
        return InvalidParamsError(message=f"invalid request: {failure_text(exc)}")
    return internal_error(exc)


async def _awaited(result: Awaitable[Any], error: _Map) -> Any:
    try:
        return await result
    except A2AError:
        raise
    except Exception as exc:
        raise error(exc) from None


async def _streamed(result: AsyncIterator[Any], error: _Map) -> AsyncIterator[Any]:
    try:
        async for item in result:
            yield item
    except A2AError:
        raise
    except Exception as exc:
        raise error(exc) from None


def _mapping(method: _F, error: _Map) -> _F:
    """`method` with every error that is not an `A2AError` replaced by `error(exc)`; it may
    return an awaitable or an async iterator (the SDK's decorators hide which)."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        result = method(*args, **kwargs)
        if inspect.isawaitable(result):
            return _awaited(result, error)
        return _streamed(result, error)

    return call  # type: ignore[return-value]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ANY_JSON = frozenset(f"google.protobuf.{name}" for name in ("Struct", "Value", "ListValue"))


def check_request(request: object) -> None:
    """Refuse what a store would keep but not read back, or not keep: ids with control
    characters (PostgreSQL stores no NUL, no client names a task with a line break), enum
    values that no version of A2A names (protobuf keeps unknown numbers)."""
    for holder in (request, getattr(request, "message", None)):
        for field, name in (("id", "id"), ("task_id", "taskId"), ("context_id", "contextId")):
            value = getattr(holder, field, None)
            if isinstance(value, str) and _CONTROL.search(value):
                raise InvalidParamsError(message=f"{name} holds control characters")
    if isinstance(request, ProtoMessage) and (unknown := _unknown_enum(request)):
        raise InvalidParamsError(message=f"{unknown} is not a value A2A defines")


def _unknown_enum(message: ProtoMessage, path: str = "") -> str | None:
    """Where in `message` an enum field holds an unknown number, and that number."""
    walked = _walked(message.DESCRIPTOR)
    if not walked:
        return None
    for field, value in message.ListFields():
        if field.name not in walked:
            continue  # nothing in it can hold an enum (a long text must not be walked)
        where = f"{path}{field.json_name}"
        for item in [value] if isinstance(value, int | ProtoMessage) else value:
            if field.enum_type is not None and item not in field.enum_type.values_by_number:
                return f"{where} {item}"
            if isinstance(item, ProtoMessage) and (found := _unknown_enum(item, f"{where}.")):
                return found
    return None


_WALKED: dict[Descriptor, frozenset[str]] = {}


def _walked(kind: Descriptor, seen: frozenset[Descriptor] = frozenset()) -> frozenset[str]:
    """The fields of a message type that hold an enum, or a message that may hold one
    (JSON values and maps aside); a type met again on the way counts as one that may."""
    if (found := _WALKED.get(kind)) is not None:
        return found
    names = set()
    for field in kind.fields:
        sub = field.message_type
        if field.enum_type is not None or (
            sub is not None
            and sub.full_name not in _ANY_JSON
            and not sub.GetOptions().map_entry
            and (sub in seen or sub is kind or _walked(sub, seen | {kind}))
        ):
            names.add(field.name)
    _WALKED[kind] = found = frozenset(names)
    return found


def _checking(method: _F) -> _F:
    """`method` refusing, before it runs, ids no store can keep."""

    @functools.wraps(method)
    def call(self: object, request: object, *args: Any, **kwargs: Any) -> Any:
        check_request(request)
        return method(self, request, *args, **kwargs)

    return call  # type: ignore[return-value]


class BridgeRequestHandler(DefaultRequestHandler):
    """`DefaultRequestHandler`, with ListTasks answered only where the server allows it, pages
    bounded, and internal errors hidden behind a reference."""

    def __init__(self, *args: Any, list_tasks: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.list_tasks = list_tasks

    async def on_list_tasks(
        self, params: ListTasksRequest, context: ServerCallContext
    ) -> ListTasksResponse:
        if not self.list_tasks:
            # Without authentication every caller is the same user: listing would show each
            # caller everyone's tasks.
            return ListTasksResponse()
        if not params.page_size or params.page_size > MAX_PAGE_SIZE:
            params.page_size = MAX_PAGE_SIZE
        page: ListTasksResponse = await super().on_list_tasks(params, context)
        return page

    async def settle(self, task_ids: Collection[str], timeout: float = 2.0) -> None:
        """Wait, at most `timeout` seconds, until the SDK has stored how each of these tasks
        ended: closing the handler drops the events it has not handled yet."""
        deadline = asyncio.get_running_loop().time() + timeout
        for task_id in task_ids:
            while (active := await self._active_task_registry.get(task_id)) is not None:
                if active.is_finished or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.01)


# Every request method, the SDK's own included, checks ids and hides unexpected errors.
for _name in [n for n in vars(RequestHandler) if n.startswith("on_")]:
    _method = getattr(BridgeRequestHandler, _name)
    setattr(BridgeRequestHandler, _name, _checking(_mapping(_method, internal_error)))


def _map_errors(handler: object) -> None:
    """Make every request method of one of the SDK's v0.3 handlers answer a request it cannot
    convert as the caller's mistake."""
    for name in [n for n in vars(type(handler)) if not n.startswith("_")]:
        setattr(handler, name, _mapping(getattr(handler, name), _conversion_error))


class _REST03Adapter(REST03Adapter):
    """The SDK's v0.3 HTTP+JSON routes, with a request it cannot convert answered 400 (not
    500), and a stream that fails ended by an error event, as its 1.0 routes do (not cut)."""

    def __init__(self, handler: RequestHandler, builder: ServerCallContextBuilder) -> None:
        super().__init__(http_handler=handler, context_builder=builder)
        _map_errors(self.handler)

    @rest_stream_error_handler
    async def _handle_streaming_request(
        self, method: Callable[[Request, ServerCallContext], AsyncIterator[Any]], request: Request
    ) -> Response:
        await request.body()  # read before the response starts, as the SDK does
        stream = aiter(method(request, self._context_builder.build(request)))
        try:
            first = await anext(stream)  # an error before any event gets a JSON error response
        except StopAsyncIteration:
            return EventSourceResponse(iter([]))
        return EventSourceResponse(_events(first, stream))


async def _events(first: Any, stream: AsyncIterator[Any]) -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(data=json_utils.dumps(first))
    try:
        async for item in stream:
            yield ServerSentEvent(data=json_utils.dumps(item))
    except Exception as exc:
        payload = build_rest_error_payload(exc)
        yield ServerSentEvent(data=json_utils.dumps(payload), event="error")


def routes(
    handler: RequestHandler, builder: ServerCallContextBuilder, compat: bool
) -> list[BaseRoute]:
    """The SDK's JSON-RPC (at /) and HTTP+JSON routes for A2A 1.0, and for 0.3 if `compat`,
    with the SDK's v0.3 handling of bad input mended."""
    dispatcher = JsonRpcDispatcher(handler, builder, enable_v0_3_compat=compat)
    if dispatcher._v03_adapter is not None:  # no public way to reach its v0.3 handler
        _map_errors(dispatcher._v03_adapter.handler)
    found: list[BaseRoute] = [Route("/", dispatcher.handle_requests, methods=["POST"])]
    if compat:  # before the 1.0 routes, whose /{tenant} mount would take /v1/...
        v03 = _REST03Adapter(handler, builder).routes()
        found += [Route(path, call, methods=[verb]) for (path, verb), call in v03.items()]
    return found + create_rest_routes(handler, builder)

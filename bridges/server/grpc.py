"""The same agent over gRPC, A2A 1.0 and 0.3, on a port of its own (extra `grpc`)."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

try:
    import grpc
    import grpc.aio
    from a2a.compat.v0_3 import a2a_v0_3_pb2_grpc
    from a2a.compat.v0_3.grpc_handler import CompatGrpcHandler
    from a2a.server.request_handlers.grpc_handler import (
        DefaultGrpcServerCallContextBuilder,
        GrpcHandler,
    )
    from a2a.types import a2a_pb2_grpc
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("serving gRPC needs grpcio: pip install 'a2a-bridges[grpc]'") from exc
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers import RequestHandler
from a2a.utils.constants import VERSION_HEADER
from a2a.utils.errors import (
    A2A_ERROR_REASONS,
    A2AError,
    PushNotificationNotSupportedError,
    UnsupportedOperationError,
    VersionNotSupportedError,
)
from a2a.utils.grpc_status import status_to_grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from starlette.authentication import SimpleUser
from starlette.requests import Request

from a2a_bridges.server.guard import Credentials

__all__ = ["start_grpc"]

_STREAMING_METHODS = ("/SendStreamingMessage", "/SubscribeToTask", "/SendStreamingMessageRequest")

_user: contextvars.ContextVar[str | None] = contextvars.ContextVar("a2a_bridges_user", default=None)
_streaming: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "a2a_bridges_streaming", default=False
)


# Where the spec's table (A2A 1.0, section 5.4) says UNIMPLEMENTED and a2a-sdk 1.3's gRPC
# handler FAILED_PRECONDITION.
_UNIMPLEMENTED = (
    PushNotificationNotSupportedError,
    UnsupportedOperationError,
    VersionNotSupportedError,
)


class _Handler(GrpcHandler):
    """a2a-sdk's gRPC handler, with the spec's status for what the agent does not support."""

    async def abort_context(self, error: A2AError, context: grpc.aio.ServicerContext) -> None:
        if not isinstance(error, _UNIMPLEMENTED):
            await super().abort_context(error, context)
            return
        info = any_pb2.Any()
        info.Pack(
            error_details_pb2.ErrorInfo(
                reason=A2A_ERROR_REASONS[type(error)], domain="a2a-protocol.org"
            )
        )
        code = grpc.StatusCode.UNIMPLEMENTED.value[0]
        status = status_to_grpc(status_pb2.Status(code=code, message=error.message, details=[info]))
        context.set_trailing_metadata(status.trailing_metadata)
        await context.abort(status.code, status.details)


class _ContextBuilder(DefaultGrpcServerCallContextBuilder):
    """The call's user and streaming, as the interceptor found them; for the 1.0 service,
    refuses an `a2a-version` other than 1.x, as a2a-sdk does over HTTP (its gRPC handler
    does not look)."""

    def __init__(self, *, checks_version: bool) -> None:
        self.checks_version = checks_version

    def build(self, context: grpc.aio.ServicerContext) -> ServerCallContext:
        metadata = dict(context.invocation_metadata() or ())
        version = str(metadata.get(VERSION_HEADER.lower(), ""))
        if self.checks_version and version and version.split(".")[0] != "1":
            raise VersionNotSupportedError(message=f"A2A version {version} is not supported")
        built = super().build(context)
        built.state["streaming"] = _streaming.get()
        if (name := _user.get()) is not None:
            from a2a.server.routes.common import StarletteUser

            built.user = StarletteUser(SimpleUser(name))
        return built


def _refuse(method: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    async def abort(request: Any, context: grpc.aio.ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "send valid credentials")

    if method.response_streaming:
        return grpc.unary_stream_rpc_method_handler(abort)
    return grpc.unary_unary_rpc_method_handler(abort)


class _Interceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Checks credentials (as the HTTP guard does) and notes whether the call streams."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        _streaming.set(details.method.endswith(_STREAMING_METHODS))
        if not self.credentials.required or handler is None:
            return handler
        headers = [(k.lower().encode(), str(v).encode()) for k, v in details.invocation_metadata]
        request = Request({"type": "http", "method": "POST", "path": "/", "headers": headers})
        user = await self.credentials.identify(request)
        if user is None:
            return _refuse(handler)
        _user.set(user)
        return handler


async def start_grpc(
    handler: RequestHandler, address: str, *, credentials: Credentials, compat: bool
) -> tuple[grpc.aio.Server, int]:
    """Serve `handler` over gRPC at `address` (`host:port`, port 0 for any); the server and
    the port it listens on."""
    server = grpc.aio.server(interceptors=[_Interceptor(credentials)])
    # The generated registration functions are untyped.
    a2a_pb2_grpc.add_A2AServiceServicer_to_server(  # type: ignore[no-untyped-call]
        _Handler(handler, _ContextBuilder(checks_version=True)), server
    )
    if compat:
        a2a_v0_3_pb2_grpc.add_A2AServiceServicer_to_server(  # type: ignore[no-untyped-call]
            CompatGrpcHandler(handler, _ContextBuilder(checks_version=False)), server
        )
    port = server.add_insecure_port(address)
    await server.start()
    return server, port

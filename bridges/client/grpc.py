"""gRPC channels for the client, sending the client's headers as call metadata (extra `grpc`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import grpc.aio

__all__ = ["channel_factory"]


def _with(metadata: list[tuple[str, str]], details: Any) -> grpc.aio.ClientCallDetails:
    merged = grpc.aio.Metadata(*(details.metadata or ()), *metadata)
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, merged, details.credentials, details.wait_for_ready
    )


# A channel files each interceptor under one kind of call only: one class per kind.
class _Unary(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, metadata: list[tuple[str, str]]) -> None:
        self.metadata = metadata

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_with(self.metadata, details), request)


class _Streaming(grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    def __init__(self, metadata: list[tuple[str, str]]) -> None:
        self.metadata = metadata

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_with(self.metadata, details), request)


def channel_factory(headers: Mapping[str, str]) -> Callable[[str], grpc.aio.Channel]:
    """Opens insecure channels (TLS is for https URLs) that send `headers` on every call."""
    metadata = [(name.lower(), value) for name, value in headers.items()]
    interceptors = [_Unary(metadata), _Streaming(metadata)] if metadata else None

    def channel(url: str) -> grpc.aio.Channel:
        return grpc.aio.insecure_channel(url, interceptors=interceptors)

    return channel

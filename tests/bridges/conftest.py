"""Function agents served on loopback, and a2a-sdk clients for each transport."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.utils.constants import TransportProtocol

from a2a_bridges import Conversation, DataPart, FilePart, InputRequired, TextPart, Turn, to_a2a
from a2a_bridges.testing import running


@dataclass
class Probe:
    """What the served agents saw, shared with the test (the server runs in another thread)."""

    gate: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    closed: threading.Event = field(default_factory=threading.Event)


def make_agent(probe: Probe):  # type: ignore[no-untyped-def]
    """One agent whose first word picks a behaviour."""

    async def agent(conversation: Conversation) -> AsyncIterator[object]:
        """A test agent."""
        text = conversation.text
        command = text.split()[0] if text else ""
        if command == "stream":
            yield "first "
            try:
                await asyncio.to_thread(probe.gate.wait, 10)
            except asyncio.CancelledError:
                probe.cancelled.set()
                raise
            yield "second"
            probe.finished.set()
        elif command == "slow":
            probe.started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                probe.cancelled.set()
                raise
            yield "too late"
        elif command == "boom":
            raise RuntimeError("the agent broke\nsecond line that must not leak")
        elif command == "history":
            yield " | ".join(t.text for t in conversation.turns if t.role == "user")
        elif command == "data":
            yield DataPart({"answer": 42, "items": [1, 2]})
        elif command == "file":
            files = [p for p in conversation.last.parts if isinstance(p, FilePart)]
            yield "; ".join(
                f"{f.name}:{f.media_type}:{len(f.bytes) if f.bytes is not None else f.uri}"
                for f in files
            )
        elif command == "ask":
            try:
                answer: Turn = yield InputRequired((TextPart("which colour?"),))
                yield f"you chose {answer.text}"
            finally:
                probe.closed.set()
        else:
            yield f"echo: {text}"

    return agent


@pytest.fixture
def probe() -> Probe:
    return Probe()


GRPC = importlib.util.find_spec("grpc") is not None


@pytest.fixture
def server(probe: Probe) -> Iterator[str]:
    # Served over gRPC as well, where grpcio is installed, on a port of its own.
    grpc = {"grpc": "127.0.0.1:0"} if GRPC else {}
    app = to_a2a(make_agent(probe), name="tester", description="Test agent.", **grpc)
    with running(app) as url:
        yield url


def sdk_client_factory(
    binding: str, version: str, streaming: bool
) -> tuple[ClientFactory, httpx.AsyncClient]:
    http = httpx.AsyncClient(timeout=30)
    config = ClientConfig(
        streaming=streaming,
        httpx_client=http,
        supported_protocol_bindings=[binding],
        use_client_preference=True,
    )
    if binding == TransportProtocol.GRPC:
        import grpc.aio

        config.grpc_channel_factory = grpc.aio.insecure_channel
    return ClientFactory(config), http


async def sdk_client(
    url: str, binding: str, version: str, streaming: bool = True
) -> tuple[Client, httpx.AsyncClient]:
    """An a2a-sdk client that speaks only `binding` at protocol `version`."""
    factory, http = sdk_client_factory(binding, version, streaming)
    card = parse_agent_card((await http.get(url + "/.well-known/agent-card.json")).json())
    keep = [i for i in card.supported_interfaces if i.protocol_version == version]
    del card.supported_interfaces[:]
    card.supported_interfaces.extend(keep)
    return factory.create(card), http


TRANSPORTS = [
    pytest.param((TransportProtocol.JSONRPC, "1.0"), id="jsonrpc-1.0"),
    pytest.param((TransportProtocol.HTTP_JSON, "1.0"), id="http_json-1.0"),
    pytest.param((TransportProtocol.JSONRPC, "0.3"), id="jsonrpc-0.3"),
    pytest.param((TransportProtocol.HTTP_JSON, "0.3"), id="http_json-0.3"),
    pytest.param(
        (TransportProtocol.GRPC, "1.0"),
        id="grpc-1.0",
        marks=pytest.mark.skipif(not GRPC, reason="grpcio is not installed (extra grpc)"),
    ),
    pytest.param(
        (TransportProtocol.GRPC, "0.3"),
        id="grpc-0.3",
        marks=pytest.mark.skipif(not GRPC, reason="grpcio is not installed (extra grpc)"),
    ),
]

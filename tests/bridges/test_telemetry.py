"""One trace across agents: our clients send the trace context, our servers continue it."""

from __future__ import annotations

import pytest

from a2a_bridges import Conversation, RemoteAgent, to_a2a
from a2a_bridges.testing import running

pytestmark = pytest.mark.anyio

trace = pytest.importorskip("opentelemetry.trace")
sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
export = pytest.importorskip("opentelemetry.sdk.trace.export")
in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")


@pytest.fixture(scope="module")
def spans() -> in_memory.InMemorySpanExporter:  # type: ignore[name-defined]
    exporter = in_memory.InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, sdk_trace.TracerProvider):
        provider = sdk_trace.TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    return exporter


def relay(to: str):  # type: ignore[no-untyped-def]
    async def agent(conversation: Conversation) -> str:
        """Asks the next agent."""
        async with RemoteAgent(to) as remote:
            return f"relayed: {(await remote.send(conversation.text)).text}"

    return agent


async def last(text: str) -> str:
    """The end of the chain."""
    return f"last heard {text}"


async def test_a_chain_of_agents_is_one_trace(spans: in_memory.InMemorySpanExporter) -> None:  # type: ignore[name-defined]
    tracer = trace.get_tracer("test")
    with (
        running(to_a2a(last)) as c,
        running(to_a2a(relay(c))) as b,
        running(to_a2a(relay(b))) as a,
        tracer.start_as_current_span("caller") as root,
    ):
        async with RemoteAgent(a) as remote:
            reply = await remote.send("hello")
    assert reply.text == "relayed: relayed: last heard hello"
    trace_id = root.get_span_context().trace_id
    server_spans = [
        s
        for s in spans.get_finished_spans()
        if s.kind == trace.SpanKind.SERVER and "on_message_send" in s.name
    ]
    # Each of the three servers answered inside the caller's trace.
    assert len([s for s in server_spans if s.context.trace_id == trace_id]) == 3

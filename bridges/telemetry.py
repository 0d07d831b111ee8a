"""Trace context across agents: our clients send the caller's trace context (W3C
`traceparent`), our servers continue it, so a conversation through several agents and
frameworks is one trace. Nothing happens unless OpenTelemetry is installed (extra `otel`);
the a2a-sdk's own spans then hang under the caller's."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator, Mapping, MutableMapping

__all__ = ["continued", "inject"]

_ENABLED = importlib.util.find_spec("opentelemetry") is not None


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the current trace context to outgoing `headers`."""
    if _ENABLED:
        from opentelemetry import propagate

        propagate.inject(headers)


@contextlib.contextmanager
def continued(headers: Mapping[str, str]) -> Iterator[None]:
    """Run the block in the trace context that incoming `headers` carry, if any."""
    if not _ENABLED or "traceparent" not in headers:
        yield
        return
    from opentelemetry import context, propagate

    token = context.attach(propagate.extract(headers))
    try:
        yield
    finally:
        context.detach(token)

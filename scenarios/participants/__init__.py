"""Each framework's scripted participants: served agents built on the framework's own test
models, and callers that use the framework's native remote type from its adapter.

One module per framework (`functions`, `pydantic_ai`, `langchain`, `ag2`), each with the same
small shape: `server(participant, notes, model)` returns the native agent to serve, and
`Caller(participant, headers)` talks to served agents. A framework that is not installed is
reported by `missing`, and its module is never imported; a package that one behaviour needs
beyond its framework (`NEEDS`), by `missing_package`.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Awaitable, Callable, Mapping
from types import ModuleType
from typing import Any, Protocol

from bridges.registry import adapter_named
from scenarios.model import Answer, Message, Participant

__all__ = [
    "NEEDS",
    "REAL_MODELS",
    "Caller",
    "Notes",
    "build_caller",
    "build_server",
    "cancel_after_first_delta",
    "missing",
    "missing_package",
    "model_problem",
]

Notes = Callable[[str], None]
"""How a served agent reports what happens to its run (`run started`, `run cancelled`, ...)."""

OnDelta = Callable[[str], None]

REAL_MODELS = frozenset({"pydantic_ai", "ag2"})
"""The frameworks whose served participants can run on a real model instead of the script."""

NEEDS = {("langchain", "clarifier"): "langgraph"}
"""(framework, behaviour) → the package it needs beyond the framework's adapter: a LangChain
agent asks its caller through a LangGraph `interrupt()`."""

# Environment variables holding each provider's key, for `--model provider:name`.
PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google-gla": "GEMINI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
}


class Caller(Protocol):
    """A participant that calls served agents through its framework's native remote type."""

    async def send(
        self,
        url: str,
        message: Message,
        *,
        thread: str,
        stream: bool = False,
        output: str | None = None,
        on_delta: OnDelta | None = None,
    ) -> Answer:
        """Say `message` in conversation `thread` with the agent at `url`; return the answer."""
        ...

    async def cancel(self, url: str, message: Message, *, thread: str) -> Answer:
        """Stream `message`, and cancel the run the native way once its first text arrives."""
        ...

    async def orchestrate(self, remotes: Mapping[str, str], message: Message) -> Answer:
        """Run this participant's own agent on `message`, with the agents at `remotes`."""
        ...

    async def aclose(self) -> None:
        """Close every connection."""
        ...


def missing(framework: str) -> str | None:
    """Why `framework` cannot take part (its adapter or the framework is not installed)."""
    try:
        adapter_named(framework)
    except ImportError as exc:
        return f"not installed: {exc}"
    return None


def missing_package(participant: Participant) -> str | None:
    """The package `participant`'s behaviour needs (see `NEEDS`), if it is not installed."""
    package = NEEDS.get((participant.framework, participant.behaviour))
    if package is None:
        return None
    try:
        importlib.import_module(package)
    except ImportError:
        return package
    return None


def _module(framework: str) -> ModuleType:
    return importlib.import_module(f"scenarios.participants.{framework}")


def build_server(participant: Participant, notes: Notes, model: str | None = None) -> Any:
    """The native agent to serve for `participant`; `model` replaces its script."""
    return _module(participant.framework).server(participant, notes, model)


def build_caller(participant: Participant, headers: Mapping[str, str]) -> Caller:
    """The caller for `participant`, sending `headers` with every request."""
    caller: Caller = _module(participant.framework).Caller(participant, dict(headers))
    return caller


def model_problem(model: str) -> str | None:
    """Why the real model `provider:name` cannot be used here, or None when it can."""
    provider, sep, _ = model.partition(":")
    if not sep:
        return f"name the model as provider:name, got {model!r}"
    key = PROVIDER_KEYS.get(provider)
    if key is None:
        return f"unknown provider {provider!r}: choose one of {', '.join(sorted(PROVIDER_KEYS))}"
    return None if os.environ.get(key) else f"{key} is not set"


async def cancel_after_first_delta(
    run: Callable[[OnDelta], Awaitable[Answer]], *, timeout: float = 10.0
) -> Answer:
    """Run `run` (a streaming send) and cancel its task once the first text arrives.

    Cancelling the caller's task is how an asyncio program stops any framework's run; the
    adapter is then responsible for cancelling the remote task.
    """
    answer = Answer()
    first = asyncio.Event()

    def on_delta(text: str) -> None:
        answer.deltas.append(text)
        first.set()

    task = asyncio.ensure_future(run(on_delta))
    waiter = asyncio.ensure_future(first.wait())
    await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        # It ended before any text arrived: nothing left to cancel.
        result = task.result()
        result.deltas = answer.deltas or result.deltas
        return result
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        answer.state = "cancelled by the caller"
    except Exception as exc:  # what the framework raised while stopping is part of the answer
        answer.error = f"{type(exc).__name__}: {exc}"
    return answer

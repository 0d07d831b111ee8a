"""Plain functions as A2A agents, and remote agents as plain async functions.

A served function takes the conversation (or, when its first parameter is annotated `str`,
the new message's text) and returns a string, a part, a list of parts, or any JSON value
(sent as a data part). It may be sync or async, or a generator: each `str` it yields is
streamed as a text delta; yielding `InputRequired(...)` asks the caller, and the `yield`
expression evaluates to the caller's answer (a `Turn`).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette

from bridges import (
    CardInfo,
    Conversation,
    Event,
    InputRequired,
    Part,
    RemoteAgent,
    Reply,
    TextDelta,
    Turn,
    as_parts,
    build_app,
    card_options,
)

__all__ = ["FunctionRunner", "RemoteFunction", "from_a2a", "handles", "to_a2a"]

TYPES = "plain functions (sync or async, or generators)"


def handles(agent: Any) -> bool:
    """Whether `agent` is a function, method or callable object (not a class)."""
    return callable(agent) and not inspect.isclass(agent)


def _wants_text(fn: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0].annotation in (str, "str")


def _reply(value: Any) -> Event:
    if isinstance(value, Reply | InputRequired | TextDelta):
        return value
    return Reply(as_parts(value))


class FunctionRunner:
    """Runs a plain function."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.wants_text = _wants_text(fn)
        # A callable object is judged by its __call__ method.
        self._target = fn if inspect.isroutine(fn) else type(fn).__call__

    async def run(self, conversation: Conversation) -> AsyncGenerator[Event, Turn | None]:
        arg: Any = conversation.text if self.wants_text else conversation
        fn = self.fn
        if inspect.isasyncgenfunction(self._target):
            gen = fn(arg)
            sent: Any = None
            while True:
                try:
                    item = await gen.asend(sent)
                except StopAsyncIteration:
                    return
                sent = yield (TextDelta(item) if isinstance(item, str) else _reply(item))
        elif inspect.isgeneratorfunction(self._target):
            items = iter(fn(arg))
            done = object()
            while (item := await anyio.to_thread.run_sync(next, items, done)) is not done:
                yield TextDelta(item) if isinstance(item, str) else _reply(item)
        else:
            if inspect.iscoroutinefunction(self._target):
                result = await fn(arg)
            else:
                result = await anyio.to_thread.run_sync(fn, arg)
            yield _reply("" if result is None else result)


def to_a2a(agent: Callable[..., Any], **options: Any) -> Starlette:
    """Serve a plain function as an A2A app."""
    doc = (inspect.getdoc(agent) or "").strip().splitlines()
    name = getattr(agent, "__name__", type(agent).__name__)
    info = CardInfo(name=name, description=doc[0] if doc else "")
    return build_app(FunctionRunner(agent), **card_options(info, options))


class RemoteFunction:
    """A remote agent as an async function of a message, keeping one conversation."""

    def __init__(self, remote: RemoteAgent) -> None:
        self.remote = remote

    async def __call__(self, message: str | Part | Sequence[Part] | Conversation) -> Reply:
        if isinstance(message, Conversation):
            return await self.remote.send(message.last)
        return await self.remote.send(message)


def from_a2a(url: str, **options: Any) -> RemoteFunction:
    """A remote agent as an async function: `await fn("hello")` returns its `Reply`."""
    return RemoteFunction(RemoteAgent(url, **options))

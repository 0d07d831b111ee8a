"""Plain functions as A2A agents, and remote agents as plain async functions.

A served function takes the conversation (or, when its first parameter is annotated `str`,
the new message's text) and returns a string, a part, a list of parts, or any JSON value
(sent as a data part). It may be sync or async, or a generator: each `str` it yields is
streamed as a text delta; yielding `InputRequired(...)` asks the caller, and the `yield`
expression evaluates to the caller's answer (a `Turn`). A callable object with a method
`direct(turn) -> bool` answers the messages it names with a direct Message and no task.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable
from typing import Any, Literal

import anyio.to_thread

from a2a_bridges.adapter import Adapter
from a2a_bridges.card import CardInfo
from a2a_bridges.client import ClientOptions, Outgoing, RemoteAgent, RemoteConversation
from a2a_bridges.conversation import Conversation, Turn, as_parts
from a2a_bridges.runner import Event, InputRequired, Reply, TextDelta

__all__ = [
    "FunctionRunner",
    "FunctionsAdapter",
    "RemoteFunction",
    "adapter",
    "from_a2a",
    "handles",
    "to_a2a",
]


def _target(fn: Callable[..., Any]) -> Callable[..., Any]:
    # A callable object is judged by its __call__ method.
    return fn if inspect.isroutine(fn) else type(fn).__call__


def _parameters(fn: Callable[..., Any]) -> list[inspect.Parameter] | None:
    try:
        return list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None  # a builtin without a signature: it is given the conversation


def _check_callable(fn: Callable[..., Any]) -> None:
    """Refuse, at start, a function that cannot be called with the one argument it is given."""
    params = _parameters(fn)
    if params is None:
        return
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    varargs = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    positional = [p for p in params if p.kind in (*kinds, inspect.Parameter.VAR_POSITIONAL)]
    required = [p.name for p in params if p.default is p.empty and p.kind not in varargs]
    if not positional or len(required) > 1:
        name = getattr(fn, "__qualname__", type(fn).__qualname__)
        raise TypeError(
            f"cannot serve {name}{inspect.signature(fn)}: it is called with one argument, the "
            "conversation (or the message's text, when that parameter is annotated str)"
        )


def _wants_text(fn: Callable[..., Any]) -> bool:
    params = _parameters(fn)
    return bool(params) and params[0].annotation in (str, "str")  # type: ignore[index]


def _kind(target: Callable[..., Any]) -> Literal["asyncgen", "gen", "async", "sync"]:
    """How the function answers: decided once, not on every message."""
    if inspect.isasyncgenfunction(target):
        return "asyncgen"
    if inspect.isgeneratorfunction(target):
        return "gen"
    return "async" if inspect.iscoroutinefunction(target) else "sync"


def _reply(value: Any) -> Event:
    if isinstance(value, Reply | InputRequired | TextDelta):
        return value
    return Reply(as_parts(value))


class FunctionRunner:
    """Runs a plain function."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        _check_callable(fn)
        self.fn = fn
        self.wants_text = _wants_text(fn)
        self._kind = _kind(_target(fn))
        if callable(direct := getattr(fn, "direct", None)):
            self.direct: Callable[[Turn], bool] = direct

    async def run(self, conversation: Conversation) -> AsyncGenerator[Event, Turn | None]:
        arg: Any = conversation.text if self.wants_text else conversation
        fn = self.fn
        if self._kind == "asyncgen":
            gen = fn(arg)
            sent: Any = None
            while True:
                try:
                    item = await gen.asend(sent)
                except StopAsyncIteration:
                    return
                sent = yield (TextDelta(item) if isinstance(item, str) else _reply(item))
        elif self._kind == "gen":
            items = iter(fn(arg))
            done = object()
            while (item := await anyio.to_thread.run_sync(next, items, done)) is not done:
                yield TextDelta(item) if isinstance(item, str) else _reply(item)
        else:
            if self._kind == "async":
                result = await fn(arg)
            else:
                result = await anyio.to_thread.run_sync(fn, arg)
            yield _reply("" if result is None else result)


class RemoteFunction:
    """A remote agent as an async function of a message: `await fn("hello")` returns the
    answer's text, and `await fn.reply("hello")` the whole `Reply` (parts, data, state).

    Each call stands alone, unless the function holds a conversation (`conversation=True`,
    or `fn.conversation`): then it goes on from one call to the next. `fn.sync("hello")` is
    the blocking call.
    """

    def __init__(self, remote: RemoteAgent, *, conversation: bool = False) -> None:
        self.remote = remote
        self.conversation: RemoteConversation | None = (
            remote.conversation() if conversation else None
        )

    def _target(self) -> RemoteAgent | RemoteConversation:
        return self.conversation if self.conversation is not None else self.remote

    async def reply(self, message: Outgoing | Conversation) -> Reply:
        """The remote agent's whole reply to `message`."""
        if isinstance(message, Conversation):
            message = message.last
        return await self._target().send(message)

    async def __call__(self, message: Outgoing | Conversation) -> str:
        return (await self.reply(message)).text

    def sync(self, message: Outgoing) -> str:
        """Blocking call: the answer's text."""
        return self._target().send_sync(message).text

    async def aclose(self) -> None:
        """Close the connections."""
        await self.remote.aclose()


class FunctionsAdapter(Adapter):
    """Plain functions (sync or async, or generators), and remote agents as async functions."""

    name = "functions"
    serves = "plain functions (sync or async, or generators)"
    participant = "a2a_bridges.adapters.participants.functions:participant"

    def handles(self, agent: object) -> bool:
        """Whether `agent` is a function, method or callable object (not a class)."""
        return callable(agent) and not inspect.isclass(agent)

    def card(self, agent: Callable[..., Any]) -> CardInfo:
        doc = (inspect.getdoc(agent) or "").strip().splitlines()
        name = getattr(agent, "__name__", type(agent).__name__)
        return CardInfo(name=name, description=doc[0] if doc else "")

    def runner(self, agent: Callable[..., Any], **options: Any) -> FunctionRunner:
        if options:
            raise TypeError(f"a plain function takes no option {', '.join(sorted(options))}")
        return FunctionRunner(agent)

    def remote(self, url: str, client: ClientOptions, **native: Any) -> RemoteFunction:
        """`conversation=True` keeps one conversation from one call to the next."""
        return RemoteFunction(RemoteAgent(url, **client), **native)


adapter = FunctionsAdapter()
handles = adapter.handles
to_a2a = adapter.to_a2a
from_a2a = adapter.from_a2a

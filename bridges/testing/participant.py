"""A framework's part in the scenarios: agents that follow the script, callers that use the
framework's native remote type.

Each adapter names its participant (`Adapter.participant`, `"module:attr"`): an instance of a
`Participant` subclass, defined beside the adapter, imported only when scenarios run.
"""

from __future__ import annotations

import asyncio
import importlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "Answer",
    "Call",
    "Caller",
    "File",
    "Message",
    "Notes",
    "OnDelta",
    "Participant",
    "cancel_after_first_delta",
    "load_participant",
]

Notes = Callable[[str], None]
"""How a served agent reports what happens to its run (`run started`, `run cancelled`, ...)."""

OnDelta = Callable[[str], None]
"""Told each piece of text as a streamed answer arrives."""


@dataclass(frozen=True)
class File:
    """A file a caller sends."""

    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class Message:
    """What a caller says: text, and optionally a file."""

    text: str
    file: File | None = None


@dataclass
class Answer:
    """What a caller got back for one message, in neutral terms.

    `data` is a structured answer as the caller's framework handed it over (a dict, not a
    string); `native` names the type the framework returned; `error` is the text of an
    exception the caller's framework raised; `chat` is an orchestrating agent's own chat.
    """

    text: str = ""
    data: Any = None
    deltas: list[str] = field(default_factory=list)
    error: str | None = None
    state: str | None = None
    native: str = ""
    chat: list[dict[str, Any]] | None = None
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready data."""
        return {
            "text": self.text,
            "data": self.data,
            "deltas": self.deltas,
            "error": self.error,
            "state": self.state,
            "native": self.native,
            "chat": self.chat,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


@dataclass(frozen=True)
class Call:
    """One message a caller says: to which agent, in which conversation, and how."""

    url: str
    message: Message
    thread: str
    stream: bool = False
    output: str | None = None
    on_delta: OnDelta | None = None


class Caller(ABC):
    """A participant that calls served agents through its framework's native remote type."""

    def __init__(self, name: str, behaviour: str, headers: Mapping[str, str]) -> None:
        self.name = name
        self.behaviour = behaviour
        self.headers = dict(headers)

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
        """Say `message` in conversation `thread` with the agent at `url`; return the answer.

        `output` names a structured answer to ask for (`verdict`, `handoff`); `on_delta` is
        told each piece of a streamed answer.
        """
        return await self.answer(Call(url, message, thread, stream, output, on_delta))

    @abstractmethod
    async def answer(self, call: Call) -> Answer:
        """Carry one `Call` out through the framework's native remote type."""

    async def cancel(self, url: str, message: Message, *, thread: str) -> Answer:
        """Stream `message`, and cancel the run the native way once its first text arrives:
        by default, by cancelling the asyncio task that awaits the framework's call."""
        return await cancel_after_first_delta(
            lambda on_delta: self.send(url, message, thread=thread, stream=True, on_delta=on_delta)
        )

    async def orchestrate(self, remotes: Mapping[str, str], message: Message) -> Answer:
        """Run this participant's own agent on `message`, with the agents at `remotes`."""
        raise ValueError(f"{type(self).__name__} has no orchestrating behaviour {self.behaviour!r}")

    @abstractmethod
    async def aclose(self) -> None:
        """Close every connection."""


class Participant(ABC):
    """A framework's scripted agents and native callers."""

    short: ClassVar[str]
    """A short name for the framework, in participants' names (`pai-agent`)."""
    takes_models: ClassVar[bool] = False
    """Whether a real model (`--model provider:name`) can replace the script."""
    asks: ClassVar[bool] = False
    """Whether its agents can ask their caller something (A2A input-required)."""
    needs: ClassVar[Mapping[str, str]] = {}
    """Behaviour → a package it needs beyond the framework's adapter."""
    text_only: ClassVar[bool] = False
    """Whether its messages are text only: its agents answer, and its callers get, structured
    answers as JSON text."""

    @abstractmethod
    def server(self, name: str, behaviour: str, notes: Notes, model: str | None = None) -> Any:
        """The native agent to serve: it follows `behaviour`'s script, or runs on `model`."""

    @abstractmethod
    def caller(self, name: str, behaviour: str, headers: Mapping[str, str]) -> Caller:
        """A caller that sends `headers` with every request."""


def load_participant(reference: str) -> Participant:
    """The participant `module:attr` names."""
    module, _, attr = reference.partition(":")
    participant = getattr(importlib.import_module(module), attr or "participant")
    if not isinstance(participant, Participant):
        raise TypeError(f"{reference} is not a Participant")
    return participant


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

"""The contract between the generic executor and each framework's runner."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from a2a_bridges.conversation import Conversation, DataPart, Part, Turn, parts_text

__all__ = ["Event", "InputRequired", "Reply", "Runner", "TextDelta"]


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer's text, as the agent produces it."""

    text: str


@dataclass(frozen=True)
class Reply:
    """The final answer; on the client side it also says where the remote task ended."""

    parts: tuple[Part, ...]
    context_id: str | None = None
    task_id: str | None = None
    state: str | None = None
    metadata: Mapping[str, Any] | None = None
    """A runner's notes on its answer, kept with it in the conversation's memory (so a runner
    started afresh finds them in `Conversation.turns`); never sent to the caller."""

    @property
    def text(self) -> str:
        """The text parts joined by newlines."""
        return parts_text(self.parts)

    @property
    def data(self) -> object | None:
        """The first data part's value, if any."""
        return next((p.data for p in self.parts if isinstance(p, DataPart)), None)

    @property
    def input_required(self) -> bool:
        """Whether the remote task waits for the caller's answer."""
        return self.state == "input-required"


@dataclass(frozen=True)
class InputRequired:
    """The agent asks the caller something; the caller's next message in the task answers it."""

    parts: tuple[Part, ...]
    metadata: Mapping[str, Any] | None = None
    """As `Reply.metadata`: kept with the question in memory, never sent."""

    @property
    def text(self) -> str:
        """The question's text."""
        return parts_text(self.parts)


Event: TypeAlias = TextDelta | Reply | InputRequired


class Runner(Protocol):
    """Runs one framework's agent for one request.

    `run` is an async generator over the conversation so far (the request is its last turn).
    It yields `TextDelta`s as text is produced and ends with one `Reply`; when it yields no
    `Reply`, the joined deltas are the answer. To ask the caller something it yields
    `InputRequired`; the executor parks the generator and resumes it with `asend(turn)`, the
    caller's answer, when the next message in the same task arrives (after a restart, the
    runner is started afresh with the question and the answer in the conversation instead).
    Raising fails the task with a short message; cancellation arrives as `CancelledError`.

    A runner may also define `direct(turn) -> bool`: the messages (each the first of a task)
    it answers with one A2A Message and no task, as stateless agents do. Such a run is not
    streamed; one that asks or fails gets a failed task instead.
    """

    def run(self, conversation: Conversation) -> AsyncGenerator[Event, Turn | None]:
        """Answer the conversation's last turn."""
        ...

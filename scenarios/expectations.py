"""What must hold at the end of a step: checks on the answers and on the recorded exchanges."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from a2a_bridges.scenarios.transcript import Exchange, Note
from a2a_bridges.testing.participant import Answer

__all__ = [
    "Calls",
    "Contains",
    "DataEquals",
    "ErrorMentions",
    "Expectation",
    "FinalState",
    "NoteSeen",
    "Outcome",
    "SameContext",
    "SameTask",
    "States",
    "Streamed",
]


@dataclass
class Outcome:
    """What a step produced: the caller's answers, and what the servers recorded meanwhile."""

    answers: list[Answer]
    exchanges: list[Exchange] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def answer(self, at: int) -> Answer:
        """The answer to message `at` (negative counts from the end)."""
        return self.answers[at]

    def messages(self, server: str | None = None) -> list[Exchange]:
        """The exchanges that sent a message, to `server` or to any."""
        return [e for e in self.exchanges if e.is_message and server in (None, e.server)]


class Expectation:
    """A check on a step's outcome. `deterministic` ones only hold for scripted agents."""

    deterministic: bool = False

    def describe(self) -> str:
        """What must hold, in words."""
        raise NotImplementedError

    def check(self, outcome: Outcome) -> str | None:
        """None when it holds; otherwise what went wrong."""
        raise NotImplementedError


def _quote(text: str | None, limit: int = 160) -> str:
    text = (text or "").replace("\n", " ")
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _answer_or_missing(outcome: Outcome, at: int) -> Answer | str:
    try:
        return outcome.answer(at)
    except IndexError:
        return f"no answer #{at}: the step got {len(outcome.answers)}"


@dataclass(frozen=True)
class Contains(Expectation):
    """The answer's text contains `text`."""

    text: str
    at: int = -1
    deterministic: bool = False

    def describe(self) -> str:
        return f"answer contains {self.text!r}"

    def check(self, outcome: Outcome) -> str | None:
        answer = _answer_or_missing(outcome, self.at)
        if isinstance(answer, str):
            return answer
        if answer.error is not None:
            return f"the caller got an error: {_quote(answer.error)}"
        return None if self.text in answer.text else f"the answer was {_quote(answer.text)}"


@dataclass(frozen=True)
class DataEquals(Expectation):
    """The caller got `value` as structured data; or, when `json_text_ok` (a framework whose
    messages are text only), as JSON text that parses to it."""

    value: Any
    json_text_ok: bool = False
    at: int = -1
    deterministic: bool = False

    def describe(self) -> str:
        how = "as data or JSON text" if self.json_text_ok else "as structured data"
        return f"the structured answer arrives intact {how}"

    def check(self, outcome: Outcome) -> str | None:
        answer = _answer_or_missing(outcome, self.at)
        if isinstance(answer, str):
            return answer
        if answer.error is not None:
            return f"the caller got an error: {_quote(answer.error)}"
        if answer.data is not None:
            if answer.data == self.value:
                return None
            return f"the data differs: {_quote(json.dumps(answer.data, default=str), 300)}"
        if not self.json_text_ok:
            return f"no structured data, only text: {_quote(answer.text)}"
        try:
            parsed = json.loads(answer.text)
        except ValueError:
            return f"the text is not one JSON value: {_quote(answer.text, 300)}"
        return None if parsed == self.value else f"the JSON differs: {_quote(answer.text, 300)}"


@dataclass(frozen=True)
class ErrorMentions(Expectation):
    """The caller saw a readable error mentioning `text`, raised or as a reply, no traceback."""

    text: str
    at: int = 0

    def describe(self) -> str:
        return f"the caller gets a readable error mentioning {self.text!r}"

    def check(self, outcome: Outcome) -> str | None:
        answer = _answer_or_missing(outcome, self.at)
        if isinstance(answer, str):
            return answer
        seen = answer.error if answer.error is not None else answer.text
        if self.text not in seen:
            return f"the caller got {_quote(seen)}"
        return "the error shows a traceback" if "Traceback" in seen else None


@dataclass(frozen=True)
class Streamed(Expectation):
    """The answer arrived in at least `min_chunks` pieces, in order."""

    min_chunks: int = 2
    at: int = -1

    def describe(self) -> str:
        return f"the answer streams in at least {self.min_chunks} pieces, in order"

    def check(self, outcome: Outcome) -> str | None:
        answer = _answer_or_missing(outcome, self.at)
        if isinstance(answer, str):
            return answer
        if len(answer.deltas) < self.min_chunks:
            return f"{len(answer.deltas)} piece(s) arrived"
        joined = "".join(answer.deltas)
        if answer.text and not answer.text.startswith(joined.strip()):
            return f"the pieces {_quote(joined)} do not add up to {_quote(answer.text)}"
        return None


@dataclass(frozen=True)
class FinalState(Expectation):
    """The server's last task of the step ended in `state`."""

    state: str
    server: str | None = None

    def describe(self) -> str:
        return f"the remote task ends {self.state}"

    def check(self, outcome: Outcome) -> str | None:
        tasks = [e for e in outcome.exchanges if e.final_state and self.server in (None, e.server)]
        if not tasks:
            return "no task state was recorded"
        last = tasks[-1].final_state
        return None if last == self.state else f"it ended {last} ({' → '.join(tasks[-1].states)})"


@dataclass(frozen=True)
class States(Expectation):
    """The messages sent to the server ended in these states, in order."""

    states: Sequence[str]
    server: str | None = None

    def describe(self) -> str:
        return f"the messages end {' then '.join(self.states)}"

    def check(self, outcome: Outcome) -> str | None:
        seen = [e.final_state or "none" for e in outcome.messages(self.server)]
        return (
            None if seen == list(self.states) else f"they ended {' then '.join(seen) or 'nothing'}"
        )


@dataclass(frozen=True)
class SameTask(Expectation):
    """Every message after the first continues the first one's task."""

    server: str | None = None

    def describe(self) -> str:
        return "the answer continues the same task"

    def check(self, outcome: Outcome) -> str | None:
        sent = outcome.messages(self.server)
        if len(sent) < 2:
            return f"{len(sent)} message(s) were sent"
        first = sent[0].result_task_id
        others = [e.task_id for e in sent[1:]]
        return None if all(t == first for t in others) else f"task {first}, then {others}"


@dataclass(frozen=True)
class SameContext(Expectation):
    """Every message to the server belongs to one conversation (contextId)."""

    server: str | None = None

    def describe(self) -> str:
        return "every message stays in one remote conversation"

    def check(self, outcome: Outcome) -> str | None:
        sent = outcome.messages(self.server)
        contexts = {e.result_context_id for e in sent}
        if not sent:
            return "no message was sent"
        return (
            None
            if len(contexts) == 1
            else f"{len(contexts)} contexts: {sorted(map(str, contexts))}"
        )


@dataclass(frozen=True)
class Calls(Expectation):
    """The server got exactly `count` messages."""

    server: str
    count: int

    def describe(self) -> str:
        return f"{self.server} gets {self.count} message(s)"

    def check(self, outcome: Outcome) -> str | None:
        got = len(outcome.messages(self.server))
        return None if got == self.count else f"it got {got}"


@dataclass(frozen=True)
class NoteSeen(Expectation):
    """The served agent's own code reported `text` (or, with `absent`, never did)."""

    server: str
    text: str
    absent: bool = False

    def describe(self) -> str:
        return f"{self.server}'s run {'never reports' if self.absent else 'reports'} {self.text!r}"

    def check(self, outcome: Outcome) -> str | None:
        seen = any(n.participant == self.server and n.text == self.text for n in outcome.notes)
        if seen != self.absent:
            return None
        notes = [n.text for n in outcome.notes if n.participant == self.server]
        return f"its reports were {notes}"

"""How each check of `check` went, judged from what the caller got and what crossed the wire:
the protocol, never the agent's words. Each verdict is a status, why in one line, and the
known quirk behind it (`a2a_bridges.scenarios.diagnosis`) when there is one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from a2a_bridges.scenarios.diagnosis import (
    MISNAMED,
    Seen,
    card_quirks,
    carries_history,
    seen,
    text_of,
)
from a2a_bridges.scenarios.diagram import one_line
from a2a_bridges.scenarios.results import Status
from a2a_bridges.scenarios.transcript import Exchange
from a2a_bridges.testing.participant import Answer

__all__ = ["JUDGES", "Attempt", "Verdict", "ended", "judge_card", "judge_history", "said"]


def said(text: str | None, limit: int = 140) -> str:
    """An error or a text, on one line of `limit` characters at most."""
    return one_line(text or "", limit)


@dataclass
class Attempt:
    """What one check's calls produced: the answers, the error that stopped them, what the
    server recorded meanwhile, and the quirks it showed."""

    answers: list[Answer] = field(default_factory=list)
    error: str | None = None
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def messages(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.is_message]

    @property
    def quirks(self) -> list[Seen]:
        return [q for e in self.exchanges for q in seen(e)] + card_quirks(self.exchanges)

    def quirk(self, *names: str) -> str | None:
        """The first of `names` seen (any seen, when none is named)."""
        found = [q.quirk for q in self.quirks]
        return next((q for q in found if not names or q in names), None)


Verdict = tuple[Status, str, str | None]
"""How a check went, why (one line), and the known quirk behind it."""


def _answer_problem(answer: Answer) -> tuple[str, str | None] | None:
    """What keeps the caller from reading an answer, and the quirk behind it if known."""
    if answer.error is not None:
        quirk = "naive-timestamps" if "timestamp" in answer.error else None
        if MISNAMED in answer.error:
            quirk = "loopback-card"
        return f"the caller got an error: {said(answer.error)}", quirk
    if answer.state in ("submitted", "working"):
        return f"the answer came back while the task was still {answer.state}", "non-blocking"
    if not answer.text and answer.data is None and answer.state not in ("input-required",):
        return "no answer: the caller got no text and no data", None
    return None


def _twice(attempt: Attempt, answer: Answer) -> tuple[str, str | None] | None:
    """Whether the caller shows a text the server sent twice, twice."""
    for q in attempt.quirks:
        if q.twice and answer.text.count(q.twice.strip()) >= 2:
            return "the answer arrived twice", q.quirk
    return None


def _judge_answers(attempt: Attempt, wanted: int) -> Verdict | None:
    """A failed verdict when a call broke off or an answer cannot be read; else None."""
    if attempt.error is not None:
        if MISNAMED in attempt.error:
            return "failed", f"the caller got an error: {said(attempt.error)}", "loopback-card"
        return "failed", said(attempt.error), attempt.quirk()
    if len(attempt.answers) < wanted:
        return "failed", f"{len(attempt.answers)} of {wanted} answers came", attempt.quirk()
    for answer in attempt.answers:
        problem = _answer_problem(answer) or _twice(attempt, answer)
        if problem is not None:
            return "failed", problem[0], problem[1] or attempt.quirk()
    return None


def _judge_single(attempt: Attempt) -> Verdict:
    verdict = _judge_answers(attempt, 1)
    if verdict is not None:
        return verdict
    state = attempt.answers[0].state or (
        attempt.messages[-1].final_state if attempt.messages else None
    )
    return "passed", f"answered{f' ({state})' if state else ''}", None


def _judge_memory(attempt: Attempt) -> Verdict:
    verdict = _judge_answers(attempt, 2)
    if verdict is not None:
        return verdict
    sent = attempt.messages
    if len(sent) < 2:
        return "passed", "answered twice (the exchanges were not recorded)", None
    first, second = sent[0].result_context_id, sent[-1]
    if not first:
        return "failed", "the first answer names no contextId: no conversation can go on", None
    if second.context_id != first:
        return (
            "failed",
            f"the caller sent the second message in {second.context_id}, not {first}",
            None,
        )
    if second.result_context_id != first:
        return (
            "failed",
            f"the server answered the second message in a new context ({second.result_context_id}):"
            " it keeps no conversation",
            None,
        )
    return "passed", f"both turns in context {first}", None


def _pieces(attempt: Attempt) -> int:
    """How many pieces of text the server streamed (artifact chunks or status messages)."""
    return sum(
        1
        for e in attempt.messages
        for ev in e.events
        if ev.kind in ("artifact", "status") and text_of(ev.parts)
    )


def _judge_stream(attempt: Attempt) -> Verdict:
    verdict = _judge_answers(attempt, 1)
    if verdict is not None:
        return verdict
    answer = attempt.answers[0]
    joined = "".join(answer.deltas)
    if answer.deltas and joined.strip() != answer.text.strip():
        return (
            "failed",
            f"the streamed pieces ({len(answer.text)} chars) do not add up to the answer "
            f"({len(joined)} chars)",
            attempt.quirk(),
        )
    pieces = _pieces(attempt)
    if pieces >= 2 and len(answer.deltas) <= 1:
        return (
            "failed",
            f"the server streamed {pieces} pieces; the caller saw the answer only at the end",
            attempt.quirk("status-stream"),
        )
    return "passed", f"{len(answer.deltas)} piece(s), joined into the answer", None


def _clean(attempt: Attempt) -> Verdict | None:
    """How the server behaved on what it may refuse: None when it did not answer at all."""
    if attempt.error is not None and attempt.error.startswith("no answer within"):
        return "failed", attempt.error, attempt.quirk()
    words = " ".join(
        [attempt.error or "", *(e.error or "" for e in attempt.messages)]
        + [a.error or a.text for a in attempt.answers]
    )
    if "Traceback" in words:
        return "failed", "the error shows a traceback", None
    if not attempt.messages:
        return None
    e = attempt.messages[-1]
    if e.status >= 500 and e.status != 502 and not e.events:
        return "failed", f"HTTP {e.status}: {said(e.error)}", None
    if e.status == 502 and MISNAMED in (e.error or ""):
        return "failed", "no agent at the address the card names", "loopback-card"
    if e.status == 502:
        return "failed", f"the connection broke: {said(e.error)}", attempt.quirk()
    if e.error:
        return "passed", f"refused: {said(e.error)}", None
    if e.final_state:
        return "passed", f"answered {e.final_state}", None
    return None


def _judge_refusable(attempt: Attempt) -> Verdict:
    verdict = _clean(attempt)
    if verdict is not None:
        return verdict
    if attempt.error is not None:  # nothing reached the server
        return "skipped", f"the caller sent nothing: {said(attempt.error)}", None
    return _judge_single(attempt)


def _judge_data(attempt: Attempt) -> Verdict:
    last = attempt.messages[-1] if attempt.messages else None
    if last is not None and last.final_state == "failed":
        answer = attempt.answers[0] if attempt.answers else Answer()
        return "failed", f"the task failed on a data part: {said(answer.error)}", None
    if last is not None and (last.error or last.final_state == "rejected"):
        return "passed", f"refused cleanly: {said(last.error or 'rejected')}", None
    return _judge_single(attempt)


def ended(exchanges: Sequence[Exchange]) -> bool:
    """Whether the last message's task ended (in any final state)."""
    states = [e.final_state for e in exchanges if e.is_message]
    return bool(states) and states[-1] in ("completed", "failed", "canceled", "rejected")


def _judge_cancel(attempt: Attempt) -> Verdict:
    cancels = [e for e in attempt.exchanges if e.is_cancel]
    answer = attempt.answers[0] if attempt.answers else Answer()
    if cancels:
        c = cancels[-1]
        if c.final_state == "canceled":
            return "passed", "canceled", None
        if c.error and any(w in c.error.lower() for w in ("not cancel", "terminal", "cannot be")):
            return "passed", f"the task had ended before the cancel: {said(c.error)}", None
        if c.final_state in ("completed", "failed", "rejected"):
            return "passed", f"the task had ended ({c.final_state}) before the cancel", None
        return "failed", f"CancelTask answered {said(c.error or c.final_state)}", attempt.quirk()
    if any(e.final_state == "canceled" for e in attempt.messages) or answer.state == "canceled":
        return "passed", "canceled", None
    if ended(attempt.messages) and attempt.error is None and answer.error is None:
        return "skipped", "the answer was complete before it could be cancelled", None
    if attempt.quirk("message-reply"):
        return "skipped", "answers with a Message: there is no task to cancel", "message-reply"
    if attempt.error is not None or answer.error is not None:
        return "failed", said(attempt.error or answer.error), attempt.quirk()
    if answer.state == "cancelled by the caller" and attempt.messages:
        return "failed", "the caller stopped listening, but no CancelTask reached the server", None
    return "skipped", "the answer was complete before it could be cancelled", None


def judge_history(attempt: Attempt, verdict: Verdict) -> Verdict:
    """The memory check of a server whose card says it keeps no conversation but what each
    message carries: the second message must carry it."""
    sent = attempt.messages
    if verdict[0] != "passed" or len(sent) < 2 or carries_history(sent[-1]):
        return verdict
    why = "the second message carried no history, and the card says the agent knows no other"
    return "failed", why, "inline-history"


def judge_card(first: Verdict, attempts: Sequence[Attempt]) -> Verdict:
    if first[0] == "failed":
        return first
    exchanges = [e for a in attempts for e in a.exchanges]
    cards = [e for e in exchanges if e.method == "card"]
    if cards and all(e.status != 200 for e in cards):
        return "failed", f"the card answered HTTP {cards[-1].status}", None
    if card_quirks(exchanges):
        return "failed", "the caller went where the card says, and found no agent", "loopback-card"
    if not any(e.is_message and not e.error for e in exchanges) and exchanges:
        return "failed", "the caller never reached the agent", None
    return "passed", "read, and the agent reached at an address it names", None


JUDGES: dict[str, Callable[[Attempt], Verdict]] = {
    "single": _judge_single,
    "memory": _judge_memory,
    "stream": _judge_stream,
    "data": _judge_data,
    "cancel": _judge_cancel,
    "empty": _judge_refusable,
    "oversized": _judge_refusable,
}
"""Each check's judge (the card's, `judge_card`, takes every attempt)."""

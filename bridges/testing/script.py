"""The deterministic brain behind every scripted participant, whatever its framework.

Each framework's participant turns its native input into a `Request`, asks `respond` what a
behaviour does, and carries the `Action` out the native way (a streamed model response, an
output tool call, a human-input request, an exception). So every framework answers the same
message the same way, and a difference in what a caller gets is the bridge's doing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

# Pydantic validates only typing_extensions' TypedDict on Python 3.11.
from typing_extensions import TypedDict

__all__ = [
    "BEHAVIOURS",
    "FAILURE",
    "HANDOFF",
    "PIXEL",
    "PROVIDER_KEYS",
    "QUESTION",
    "REVIEW",
    "VERDICT",
    "Action",
    "Ask",
    "ChecklistItem",
    "Fail",
    "FileSeen",
    "Give",
    "Handoff",
    "Request",
    "Say",
    "Stall",
    "Verdict",
    "after_answer",
    "chunks",
    "describe_file",
    "lead_answer",
    "respond",
    "reviewer_says",
    "stall",
]


class Verdict(TypedDict):
    """The structured answer of the `data` command."""

    verdict: str
    score: int
    confidence: float
    tags: list[str]
    details: dict[str, Any]


VERDICT: Verdict = {
    "verdict": "approved",
    "score": 7,
    "confidence": 0.75,
    "tags": ["interop", "a2a"],
    "details": {"reviewed": True, "blockers": None, "lines": [1, 2, 3]},
}


class ChecklistItem(TypedDict):
    """One item of a handoff's checklist."""

    step: str
    done: bool


class Handoff(TypedDict):
    """The structured answer of the `planner` behaviour."""

    ticket: str
    title: str
    priority: int
    estimate_hours: float
    assignees: list[str]
    blocked: bool
    notes: str | None
    checklist: list[ChecklistItem]


HANDOFF: Handoff = {
    "ticket": "OPS-1432",
    "title": "Café ☕ rollout, phase 2",
    "priority": 2,
    "estimate_hours": 3.5,
    "assignees": ["ana", "bo"],
    "blocked": False,
    "notes": None,
    "checklist": [{"step": "migrate", "done": True}, {"step": "verify", "done": False}],
}

PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)
"""A 1x1 PNG: binary, so a file that survives the trip proves bytes were not mangled."""


@dataclass(frozen=True)
class FileSeen:
    """A file as an agent received it."""

    media_type: str
    data: bytes


@dataclass(frozen=True)
class Request:
    """A message as an agent sees it: its text, files and data, and the turns before it."""

    text: str
    history: tuple[tuple[str, str], ...] = ()  # (role, text): role is "user" or "agent"
    files: tuple[FileSeen, ...] = ()
    data: tuple[Any, ...] = field(default_factory=tuple)

    @property
    def command(self) -> str:
        """The first word, lowercased."""
        return self.text.split()[0].lower() if self.text.split() else ""

    @property
    def rest(self) -> str:
        """The text after the first word."""
        return self.text.partition(" ")[2].strip()


@dataclass(frozen=True)
class Say:
    """Answer with text (streamed word by word where the framework streams)."""

    text: str


@dataclass(frozen=True)
class Give:
    """Answer with a structured value; `schema` names its type (`verdict`, `handoff`)."""

    value: Any
    schema: str


@dataclass(frozen=True)
class Ask:
    """Ask the caller a question; `after_answer` says what comes once it is answered."""

    question: str


@dataclass(frozen=True)
class Fail:
    """Raise an error with this message."""

    message: str


@dataclass(frozen=True)
class Stall:
    """Say `first`, then work for `seconds` (a run for the caller to cancel)."""

    first: str
    seconds: float = 30.0


Action: TypeAlias = Say | Give | Ask | Fail | Stall

PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google-gla": "GEMINI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
}
"""The environment variable holding each provider's key, for a real model (`provider:name`)
that replaces a participant's script."""

FAILURE = "the build broke"
QUESTION = "Which city should I plan for?"


def chunks(text: str) -> list[str]:
    """Text in word-sized pieces whose concatenation is the text."""
    return [c for c in re.split(r"(?<=\s)", text) if c]


def describe_file(file: FileSeen) -> str:
    """What an agent reports about a file, so the caller can check it arrived intact."""
    digest = hashlib.sha256(file.data).hexdigest()[:12]
    return f"file {file.media_type} {len(file.data)} bytes sha256 {digest}"


def _recall(request: Request) -> str:
    for role, text in reversed(request.history):
        words = text.split()
        if role == "user" and words and words[0].lower() == "remember":
            return f"You asked me to remember {' '.join(words[1:])}."
    return "I remember nothing."


def _assistant(request: Request) -> Action:
    command = request.command
    if command == "echo":
        return Say(f"echo: {request.rest}")
    if command == "remember":
        return Say(f"I will remember {request.rest}.")
    if command == "recall":
        return Say(_recall(request))
    if command == "stream":
        return Say("Four frameworks, one protocol, streamed word by word.")
    if command == "data":
        return Give(VERDICT, "verdict")
    if command == "file":
        seen = [describe_file(f) for f in request.files]
        return Say("; ".join(seen) if seen else "no file arrived")
    if command == "fail":
        return Fail(FAILURE)
    if command == "slow":
        return Stall("working on it")
    if command == "plan":
        return Ask(QUESTION)
    return Say(f"I do not know how to {command or 'answer that'}.")


def _coder(request: Request) -> Action:
    """Writes `add`, applying every change the reviewer asked for so far (its memory)."""
    asked = " ".join(text.lower() for role, text in request.history if role == "user")
    asked += " " + request.text.lower()
    typed = "type hints" in asked
    signature = "def add(a: int, b: int) -> int:" if typed else "def add(a, b):"
    lines = [signature]
    if "docstring" in asked:
        lines.append('    """Return the sum of a and b."""')
    lines.append("    return a + b")
    if "test" in asked:
        lines += ["", "", "def test_add() -> None:", "    assert add(2, 3) == 5"]
    return Say("```python\n" + "\n".join(lines) + "\n```")


def _scout(request: Request) -> Action:
    return Say(f"Scout notes on {request.text}: A2A lets agents of any framework trade tasks.")


def _checker(request: Request) -> Action:
    return Say(f"Checked {request.text}: the claim holds, two independent sources agree.")


def _planner(request: Request) -> Action:
    return Give(HANDOFF, "handoff")


BEHAVIOURS = {
    "assistant": _assistant,
    # The assistant, served in a shape that can ask its caller (for LangChain, a LangGraph
    # graph whose node calls `interrupt()`; the other frameworks' agents ask as they are).
    "clarifier": _assistant,
    "coder": _coder,
    "scout": _scout,
    "checker": _checker,
    "planner": _planner,
}


def respond(behaviour: str, request: Request) -> Action:
    """What `behaviour` does with `request`."""
    try:
        return BEHAVIOURS[behaviour](request)
    except KeyError:
        raise ValueError(f"no scripted behaviour {behaviour!r}") from None


def after_answer(question: str, answer: str) -> str:
    """The answer given once the caller answered `question`."""
    return f"Planned three days in {answer.strip()}."


# --- the orchestrating callers' scripts ---

REVIEW = (
    "Please write a Python function add that returns the sum of two numbers.",
    "Add type hints.",
    "Now add a docstring.",
)


def reviewer_says(code_replies: int, code: str) -> str:
    """The reviewer's next message after the coder's `code_replies`-th answer."""
    if code_replies < len(REVIEW):
        return REVIEW[code_replies]
    return "LGTM, merging." if "->" in code and '"""' in code else "Still not right."


def lead_answer(topic: str, findings: Sequence[tuple[str, str]]) -> str:
    """The lead researcher's final answer, quoting each remote agent it asked."""
    quoted = " ".join(f"[{tool}] {text}" for tool, text in findings)
    return f"Report on {topic}: {quoted}"


async def stall(
    action: Stall,
    notes: Callable[[str], None],
    say: Callable[[str], Awaitable[object]] | None = None,
) -> str:
    """Work for `action.seconds`, telling `notes` when the run starts, and whether it was
    cancelled or finished; `say`, when given, says the first words once the run started (a
    caller may cancel as soon as it sees them). Returns the words that end the answer."""
    notes("run started")
    try:
        if say is not None:
            await say(action.first)
        await asyncio.sleep(action.seconds)
    except asyncio.CancelledError:
        notes("run cancelled")
        raise
    notes("run finished")
    return " and done"

"""What a scenario is made of: participants, the steps they take, what they get back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from a2a_bridges.scenarios.expectations import Expectation
from a2a_bridges.scenarios.frameworks import frameworks
from a2a_bridges.testing.participant import Message

__all__ = [
    "Mode",
    "Participant",
    "Role",
    "Scenario",
    "Step",
    "messages",
]

Role: TypeAlias = Literal["server", "caller"]
Mode: TypeAlias = Literal["send", "stream", "cancel", "orchestrate"]


@dataclass(frozen=True)
class Participant:
    """One agent of a scenario.

    A `server` is served as a real A2A server; a `caller` talks to servers through its own
    framework's native remote type. `framework` is a registered adapter's name. `behaviour`
    names its deterministic script (see `a2a_bridges.testing.script`); `model` names a real
    model that replaces the script where the framework supports it and the provider's key is
    set; `open_ended` says whether a real model may replace it at all.
    """

    name: str
    framework: str
    role: Role
    behaviour: str = "assistant"
    model: str | None = None
    open_ended: bool = False

    def __post_init__(self) -> None:
        known = frameworks()
        if self.framework not in known:
            raise ValueError(
                f"unknown framework {self.framework!r}: choose one of {', '.join(known)}"
            )


@dataclass(frozen=True)
class Step:
    """A caller's messages to one server (or, orchestrating, to several), and what must hold.

    `send` sends each message in one conversation; `stream` does the same, streaming; `cancel`
    streams the first message and cancels it once the first text arrives; `orchestrate` runs
    the caller's own agent (its behaviour) on the first message, with the servers as its
    remote agents. `output` names a structured output the caller asks for (`verdict`,
    `handoff`). `label` is what the step checks, e.g. `memory`; the matrix is keyed by it.
    """

    caller: str
    servers: tuple[str, ...]
    messages: tuple[Message, ...]
    mode: Mode = "send"
    output: str | None = None
    expect: tuple[Expectation, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class Scenario:
    """A cast of participants and the steps they take."""

    name: str
    title: str
    description: str
    participants: tuple[Participant, ...]
    steps: tuple[Step, ...]

    def participant(self, name: str) -> Participant:
        """The participant called `name`."""
        for p in self.participants:
            if p.name == name:
                return p
        raise KeyError(f"scenario {self.name!r} has no participant {name!r}")

    def frameworks(self) -> tuple[str, ...]:
        """The frameworks the participants are written in, in report order."""
        used = {p.framework for p in self.participants}
        return tuple(f for f in frameworks() if f in used)

    def __post_init__(self) -> None:
        names = [p.name for p in self.participants]
        for step in self.steps:
            for name in (step.caller, *step.servers):
                if name not in names:
                    raise ValueError(f"step names unknown participant {name!r}")


def messages(*items: str | Message) -> tuple[Message, ...]:
    """Messages from plain strings or `Message`s."""
    return tuple(m if isinstance(m, Message) else Message(m) for m in items)

"""The bundled scenarios.

The matrix scenarios (`mesh`, `clarify`, `cancel`, `failure`) take every registered framework,
so a framework joins them by registering its adapter; the story scenarios name the frameworks
their story is about, and their steps are skipped when one is missing.
"""

from __future__ import annotations

import functools
import hashlib

from a2a_bridges.scenarios.expectations import (
    Calls,
    Contains,
    DataEquals,
    ErrorMentions,
    FinalState,
    NoteSeen,
    SameContext,
    SameTask,
    States,
    Streamed,
)
from a2a_bridges.scenarios.frameworks import frameworks, missing, participant, short
from a2a_bridges.scenarios.model import Participant, Scenario, Step, messages
from a2a_bridges.testing.participant import File, Message
from a2a_bridges.testing.script import FAILURE, HANDOFF, PIXEL, QUESTION, REVIEW, VERDICT

__all__ = [
    "PIXEL_FILE",
    "bundled",
    "cancel",
    "clarify",
    "code_review",
    "failure",
    "mesh",
    "research_relay",
    "structured_handoff",
]

PIXEL_FILE = File("pixel.png", "image/png", PIXEL)


def _server(framework: str, behaviour: str = "assistant") -> Participant:
    return Participant(f"{short(framework)}-agent", framework, "server", behaviour=behaviour)


def _caller(framework: str) -> Participant:
    return Participant(f"{short(framework)}-caller", framework, "caller")


def _everyone() -> tuple[list[Participant], list[Participant]]:
    """An assistant served by every framework, and a caller of every framework."""
    return [_server(fw) for fw in frameworks()], [_caller(fw) for fw in frameworks()]


def _asks(framework: str) -> bool:
    return missing(framework) is None and participant(framework).asks


def _text_only(*names: str) -> bool:
    """Whether a structured answer between these frameworks can only travel as JSON text."""
    return any(missing(f) is None and participant(f).text_only for f in names)


def code_review() -> Scenario:
    """An AG2 reviewer drives a Pydantic AI coder for several turns; the coder remembers."""
    return Scenario(
        name="code-review",
        title="Code review: AG2 reviewer, Pydantic AI coder",
        description=(
            "The AG2 A2A documentation's example across frameworks: a local AG2 reviewer holds "
            "a three-turn chat with a Pydantic AI coder served over A2A, through "
            "A2AConversableAgent. The last request only says 'add a docstring', so code that "
            "still has the type hints asked for earlier proves the coder remembers."
        ),
        participants=(
            Participant("reviewer", "ag2", "caller", behaviour="reviewer"),
            Participant("coder", "pydantic_ai", "server", behaviour="coder", open_ended=True),
        ),
        steps=(
            Step(
                "reviewer",
                ("coder",),
                messages(REVIEW[0]),
                mode="orchestrate",
                label="review",
                expect=(
                    Calls("coder", 3),
                    SameContext("coder"),
                    States(["completed"] * 3, "coder"),
                    Contains("def add(a: int, b: int) -> int:", deterministic=True),
                    Contains('"""Return the sum of a and b."""', deterministic=True),
                ),
            ),
        ),
    )


def research_relay() -> Scenario:
    """A LangChain agent uses a Pydantic AI agent and an AG2 agent as tools, and streams."""
    return Scenario(
        name="research-relay",
        title="Research relay: LangChain lead, Pydantic AI and AG2 as tools",
        description=(
            "A LangChain tool-calling agent gets A2ARunnable(...).as_tool() for a Pydantic AI "
            "scout and an AG2 fact checker, calls both in one run, and streams an answer that "
            "quotes each of them."
        ),
        participants=(
            Participant("lead", "langchain", "caller", behaviour="lead"),
            Participant("scout", "pydantic_ai", "server", behaviour="scout", open_ended=True),
            Participant("checker", "ag2", "server", behaviour="checker", open_ended=True),
        ),
        steps=(
            Step(
                "lead",
                ("scout", "checker"),
                messages("A2A interoperability"),
                mode="orchestrate",
                label="relay",
                expect=(
                    Calls("scout", 1),
                    Calls("checker", 1),
                    FinalState("completed", "scout"),
                    FinalState("completed", "checker"),
                    Streamed(3),
                    Contains("Report on A2A interoperability"),
                    Contains("Scout notes on", deterministic=True),
                    Contains("Checked A2A interoperability", deterministic=True),
                ),
            ),
        ),
    )


def structured_handoff() -> Scenario:
    """A typed Pydantic AI output reaches LangChain as a dict and AG2 as JSON, intact."""
    callers = {"langchain": "dispatcher", "ag2": "clerk", "pydantic_ai": "archivist"}
    return Scenario(
        name="structured-handoff",
        title="Structured handoff: a typed Pydantic AI output to LangChain, AG2, Pydantic AI",
        description=(
            "A Pydantic AI planner whose output_type is a pydantic model hands the same record "
            "to a LangChain caller (a dict in the AIMessage), an AG2 caller (JSON text, AG2 "
            "messages being text) and a Pydantic AI caller (validated into its own output "
            "type). Integers stay integers, nulls stay null, nothing is stringified or lost."
        ),
        participants=(
            Participant("planner", "pydantic_ai", "server", behaviour="planner"),
            *(Participant(name, fw, "caller") for fw, name in callers.items()),
        ),
        steps=tuple(
            Step(
                name,
                ("planner",),
                messages("handoff the rollout ticket"),
                output="handoff",
                label="handoff",
                expect=(DataEquals(HANDOFF, json_text_ok=_text_only(fw, "pydantic_ai")),),
            )
            for fw, name in callers.items()
        ),
    )


def clarify() -> Scenario:
    """A served agent asks; the caller answers in the same task; the task completes."""
    servers = [_server(fw, "clarifier") for fw in frameworks() if _asks(fw)]
    callers = [_caller(fw) for fw in frameworks()]
    return Scenario(
        name="clarify",
        title="Clarify: input-required, answered in the same task",
        description=(
            "Each framework whose agents can ask their caller (A2A input-required) serves an "
            "agent asked to plan a trip, which asks in its framework's own way; each "
            "framework's caller gets the question natively, answers it, and the same task "
            "completes. Frameworks whose agents cannot ask through their adapter are not "
            "served here: clarify does not apply to them."
        ),
        participants=(*servers, *callers),
        steps=tuple(
            Step(
                c.name,
                (s.name,),
                messages("plan a weekend trip", "Lisbon"),
                label="clarify",
                expect=(
                    Contains(QUESTION, at=0),
                    Contains("Planned three days in Lisbon.", at=1),
                    States(["input-required", "completed"]),
                    SameTask(),
                ),
            )
            for s in servers
            for c in callers
        ),
    )


def cancel() -> Scenario:
    """A caller cancels a slow remote run; the remote framework's run really stops."""
    servers, callers = _everyone()
    return Scenario(
        name="cancel",
        title="Cancel: every caller stops every framework's slow run",
        description=(
            "Each served agent starts a 30-second run and says so; each caller cancels the "
            "native way once the first words arrive (by default, cancelling the asyncio task "
            "that awaits its framework's call). The remote task must end canceled and the "
            "agent's own code must see the cancellation, never finishing."
        ),
        participants=(*servers, *callers),
        steps=tuple(
            Step(
                c.name,
                (s.name,),
                messages("slow please"),
                mode="cancel",
                label="cancel",
                expect=(
                    Streamed(1),
                    FinalState("canceled"),
                    NoteSeen(s.name, "run cancelled"),
                    NoteSeen(s.name, "run finished", absent=True),
                ),
            )
            for s in servers
            for c in callers
        ),
    )


def failure() -> Scenario:
    """A remote agent raises; the caller gets a readable error; the server keeps serving."""
    servers, callers = _everyone()
    return Scenario(
        name="failure",
        title="Failure: readable errors, and the server keeps serving",
        description=(
            "Each served agent raises inside its framework's own code (its model, its reply "
            "function, the function itself). Each caller must get a readable error in its own "
            "framework's terms, without a traceback, and the next message must be answered."
        ),
        participants=(*servers, *callers),
        steps=tuple(
            Step(
                c.name,
                (s.name,),
                messages("fail now", "echo still serving"),
                label="failure",
                expect=(
                    ErrorMentions(FAILURE, at=0),
                    Contains("echo: still serving", at=1),
                    States(["failed", "completed"]),
                ),
            )
            for s in servers
            for c in callers
        ),
    )


def _mesh_steps(server: Participant, caller: Participant) -> list[Step]:
    text_only = _text_only(server.framework, caller.framework)
    digest = hashlib.sha256(PIXEL).hexdigest()[:12]
    pair = (caller.name, (server.name,))
    return [
        Step(
            *pair,
            messages(f"echo hello from {caller.framework}"),
            label="single",
            expect=(Contains(f"echo: hello from {caller.framework}"), FinalState("completed")),
        ),
        Step(
            *pair,
            messages("remember kiwi", "recall"),
            label="memory",
            expect=(Contains("You asked me to remember kiwi."), SameContext()),
        ),
        Step(
            *pair,
            messages("stream"),
            mode="stream",
            label="stream",
            expect=(Streamed(3), Contains("Four frameworks, one protocol, streamed word by word.")),
        ),
        Step(
            *pair,
            messages("data"),
            output="verdict",
            label="data",
            expect=(DataEquals(VERDICT, json_text_ok=text_only),),
        ),
        Step(
            *pair,
            (Message("file", PIXEL_FILE),),
            label="file",
            expect=(Contains(f"image/png {len(PIXEL)} bytes sha256 {digest}"),),
        ),
    ]


def mesh() -> Scenario:
    """Every framework as server, every framework as caller: the interop matrix."""
    servers, callers = _everyone()
    return Scenario(
        name="mesh",
        title="Mesh: every framework serves, every framework calls",
        description=(
            "Each registered framework's agent is served, and each framework calls each of "
            "them through its native remote type: a single turn, a second turn that needs the "
            "first (memory), a streamed answer, a structured answer, and a binary file part. "
            "The results are the interoperability matrix."
        ),
        participants=(*servers, *callers),
        steps=tuple(step for s in servers for c in callers for step in _mesh_steps(s, c)),
    )


@functools.cache
def bundled() -> dict[str, Scenario]:
    """Every bundled scenario by name, in the order they run."""
    made = (code_review, research_relay, structured_handoff, clarify, cancel, failure, mesh)
    return {s.name: s for s in (make() for make in made)}

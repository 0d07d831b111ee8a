"""Cross-framework scenarios: agents of different frameworks talking over A2A, end to end.

`a2a_bridges.scenarios.run("mesh")` serves each server on its own loopback port, drives each
caller through its own framework's native remote type, records every exchange and checks what
must hold; the `Report` it returns holds the transcripts and the interoperability matrix, and
`write_report` writes it as JSON, Markdown and HTML. `a2a_bridges.scenarios.check(url)`
points every framework's caller, and the bare a2a-sdk client, at a server nobody here wrote.

The names below load on first use, so `a2a-bridges --help` (which loads this package for its
`scenarios` subcommand) imports no scenario machinery and no framework.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from a2a_bridges.scenarios.bundle import bundled
    from a2a_bridges.scenarios.checker import acheck, check
    from a2a_bridges.scenarios.expectations import (
        Calls,
        Contains,
        DataEquals,
        ErrorMentions,
        Expectation,
        FinalState,
        NoteSeen,
        Outcome,
        SameContext,
        SameTask,
        States,
        Streamed,
    )
    from a2a_bridges.scenarios.model import Participant, Scenario, Step
    from a2a_bridges.scenarios.report import write_report
    from a2a_bridges.scenarios.results import (
        CastMember,
        Cell,
        Check,
        Finding,
        Problem,
        Report,
        ScenarioResult,
        StepResult,
    )
    from a2a_bridges.scenarios.runner import arun, run
    from a2a_bridges.testing.participant import Answer, File, Message

_WHERE = {
    "Answer": "a2a_bridges.testing.participant",
    "Calls": "a2a_bridges.scenarios.expectations",
    "CastMember": "a2a_bridges.scenarios.results",
    "Cell": "a2a_bridges.scenarios.results",
    "Check": "a2a_bridges.scenarios.results",
    "Contains": "a2a_bridges.scenarios.expectations",
    "DataEquals": "a2a_bridges.scenarios.expectations",
    "ErrorMentions": "a2a_bridges.scenarios.expectations",
    "Expectation": "a2a_bridges.scenarios.expectations",
    "File": "a2a_bridges.testing.participant",
    "FinalState": "a2a_bridges.scenarios.expectations",
    "Finding": "a2a_bridges.scenarios.results",
    "Message": "a2a_bridges.testing.participant",
    "NoteSeen": "a2a_bridges.scenarios.expectations",
    "Outcome": "a2a_bridges.scenarios.expectations",
    "Participant": "a2a_bridges.scenarios.model",
    "Problem": "a2a_bridges.scenarios.results",
    "Report": "a2a_bridges.scenarios.results",
    "SameContext": "a2a_bridges.scenarios.expectations",
    "SameTask": "a2a_bridges.scenarios.expectations",
    "Scenario": "a2a_bridges.scenarios.model",
    "ScenarioResult": "a2a_bridges.scenarios.results",
    "States": "a2a_bridges.scenarios.expectations",
    "Step": "a2a_bridges.scenarios.model",
    "StepResult": "a2a_bridges.scenarios.results",
    "Streamed": "a2a_bridges.scenarios.expectations",
    "acheck": "a2a_bridges.scenarios.checker",
    "arun": "a2a_bridges.scenarios.runner",
    "bundled": "a2a_bridges.scenarios.bundle",
    "check": "a2a_bridges.scenarios.checker",
    "run": "a2a_bridges.scenarios.runner",
    "write_report": "a2a_bridges.scenarios.report",
}

__all__ = [
    "Answer",
    "Calls",
    "CastMember",
    "Cell",
    "Check",
    "Contains",
    "DataEquals",
    "ErrorMentions",
    "Expectation",
    "File",
    "FinalState",
    "Finding",
    "Message",
    "NoteSeen",
    "Outcome",
    "Participant",
    "Problem",
    "Report",
    "SameContext",
    "SameTask",
    "Scenario",
    "ScenarioResult",
    "States",
    "Step",
    "StepResult",
    "Streamed",
    "acheck",
    "arun",
    "bundled",
    "check",
    "run",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'a2a_bridges.scenarios' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

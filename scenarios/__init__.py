"""Cross-framework scenarios: agents of different frameworks talking over A2A, end to end.

`scenarios.run("mesh")` serves each server on its own loopback port, drives each caller through
its own framework's native remote type, records every exchange and checks what must hold;
the `Report` it returns holds the transcripts and the interoperability matrix, and writes the
JSON, Markdown and HTML reports.
"""

from scenarios.bundled import bundled
from scenarios.expectations import (
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
from scenarios.model import FRAMEWORKS, Answer, File, Message, Participant, Scenario, Step
from scenarios.results import Cell, Check, Report, ScenarioResult, StepResult
from scenarios.runner import arun, run

__all__ = [
    "FRAMEWORKS",
    "Answer",
    "Calls",
    "Cell",
    "Check",
    "Contains",
    "DataEquals",
    "ErrorMentions",
    "Expectation",
    "File",
    "FinalState",
    "Message",
    "NoteSeen",
    "Outcome",
    "Participant",
    "Report",
    "SameContext",
    "SameTask",
    "Scenario",
    "ScenarioResult",
    "States",
    "Step",
    "StepResult",
    "Streamed",
    "arun",
    "bundled",
    "run",
]

"""An agent that behaves as the A2A conformance kit expects, chosen by each message's id.

The kit (a2a-tck, branch 1.0-dev, A2A 1.0) names the behaviour it wants in the messageId it
sends: `tck-complete-task-<run>`, `tck-input-required-<run>`, ... (its Gherkin scenarios,
`scenarios/*.feature`, list them). This agent is a plain async generator function, so it runs
through the library's one executor like any served function:

    a2a-bridges serve a2a_bridges.testing.conformance:agent --grpc-port 50051

`tck-message-response` is answered with a direct Message (no task), through the runner's
`direct`; a rejection (`tck-reject-task`) comes as a failed task, the nearest the executor
expresses. A data answer also carries its JSON rendering as text, before the data part, as
every answer of the executor does. docs/conformance.md has the kit's results.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from a2a_bridges.conversation import Conversation, DataPart, FilePart, Part, TextPart, Turn
from a2a_bridges.errors import AgentError
from a2a_bridges.runner import InputRequired, Reply

__all__ = [
    "ANSWERS",
    "ASK",
    "DIRECT",
    "FILE",
    "FILE_URL",
    "QUESTION",
    "REJECT",
    "SLOW",
    "SLOW_SECONDS",
    "ConformanceAgent",
    "agent",
    "behaviour",
]

FILE = FilePart(bytes=b"tck", media_type="text/plain", name="output.txt")
FILE_URL = FilePart(
    uri="https://example.com/output.txt", media_type="text/plain", name="output.txt"
)

ANSWERS: dict[str, tuple[str | Part, ...]] = {
    "tck-complete-task": (TextPart("Hello from TCK"),),
    "tck-artifact-text": (TextPart("Generated text content"),),
    "tck-artifact-file": (FILE,),
    "tck-artifact-file-url": (FILE_URL,),
    "tck-artifact-data": (DataPart({"key": "value", "count": 42}),),
    "tck-message-response": (TextPart("Direct message response"),),
    "tck-stream-001": (TextPart("Stream hello from TCK"),),
    "tck-stream-002": (),
    "tck-stream-003": (TextPart("Stream task lifecycle"),),
    "tck-stream-ordering-001": (TextPart("Ordered output"),),
    "tck-stream-artifact-text": (TextPart("Streamed text content"),),
    "tck-stream-artifact-file": (FILE,),
    "tck-stream-artifact-chunked": ("chunk-1 ", "chunk-2"),
}
"""What each prefix answers: parts make the whole answer at once; strings stream, in order."""

ASK = "tck-input-required"
"""Asks the caller; the next message in the task is read by its own prefix again."""
REJECT = "tck-reject-task"
"""Fails the task."""
SLOW = "test-resubscribe-message-id"
"""Works for `SLOW_SECONDS` before it completes: a task to subscribe to, or to cancel."""
SLOW_SECONDS = 4.0
QUESTION = "Input required: send the next message in this task."


def behaviour(message_id: str) -> str | None:
    """The prefix of `message_id` that names a behaviour (the longest, as `tck-artifact-file`
    is a prefix of `tck-artifact-file-url`), or None."""
    known = (*ANSWERS, ASK, REJECT, SLOW)
    return max((p for p in known if message_id.startswith(p)), key=len, default=None)


DIRECT = "tck-message-response"
"""Answered with a Message, not a task."""


class ConformanceAgent:
    """Behaves as the A2A conformance kit's scenarios ask, by messageId prefix."""

    def direct(self, turn: Turn) -> bool:
        """Whether `turn` is answered with a direct Message."""
        return behaviour(turn.message_id) == DIRECT

    async def __call__(
        self, conversation: Conversation
    ) -> AsyncGenerator[str | Reply | InputRequired, Turn]:
        turn = conversation.last
        while (prefix := behaviour(turn.message_id)) == ASK:
            turn = yield InputRequired((TextPart(QUESTION),))
        if prefix == REJECT:
            raise AgentError("rejected")
        if prefix == SLOW:
            await asyncio.sleep(SLOW_SECONDS)
            return
        unknown = (TextPart(f"Unhandled messageId prefix: {turn.message_id}"),)
        answer = ANSWERS.get(prefix or "", unknown)
        parts = [p for p in answer if not isinstance(p, str)]
        for piece in answer:
            if isinstance(piece, str):
                yield piece
        if parts:
            yield Reply(tuple(parts))


agent = ConformanceAgent()

"""Folds a peer's events into one answer, wherever the peer put it, and tells which text is new."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from a2a.types import Artifact, Message, StreamResponse, TaskState

from a2a_bridges import quirks
from a2a_bridges.conversation import Part, TextPart, part_from_a2a, without_renderings
from a2a_bridges.runner import Reply

__all__ = ["INTERRUPTED", "TERMINAL", "Answer", "state_name"]

TERMINAL = frozenset({"completed", "failed", "canceled", "rejected"})
INTERRUPTED = frozenset({"input-required", "auth-required"})


def state_name(state: int) -> str:
    """`TASK_STATE_INPUT_REQUIRED` → `input-required`, as A2A 0.3 spells it."""
    name: str = TaskState.Name(state)
    return name.removeprefix("TASK_STATE_").lower().replace("_", "-")


def _joined(parts: Sequence[Part], more: Sequence[Part]) -> list[Part]:
    """Parts with `more` appended, adjacent text joined (streamed chunks are one text); a data
    part's JSON rendering stays a part of its own, so that callers can leave it out."""
    out = list(parts)
    for i, p in enumerate(more):
        rendering = len(without_renderings(more[i : i + 2])) < len(more[i : i + 2])
        if out and isinstance(p, TextPart) and isinstance(out[-1], TextPart) and not rendering:
            out[-1] = TextPart(out[-1].text + p.text, metadata=out[-1].metadata)
        else:
            out.append(p)
    return out


def _text(parts: Sequence[Part]) -> str:
    return "".join(p.text for p in parts if isinstance(p, TextPart))


@dataclass
class Answer:
    """One remote task's answer, as its events arrive."""

    task_id: str | None = None
    context_id: str | None = None
    state: str | None = None
    artifacts: dict[str, list[Part]] = field(default_factory=dict)
    status_parts: list[Part] = field(default_factory=list)
    status_stream: str = ""  # text streamed as WORKING status messages (langgraph-a2a)

    def _streamed(self) -> str:
        return "".join(_text(parts) for parts in self.artifacts.values()) or self.status_stream

    def _new(self, before: str) -> str:
        after = self._streamed()
        return after[len(before) :] if after.startswith(before) else ""

    def _status(self, state: int, message: Message | None) -> None:
        self.state = state_name(state)
        if message is None or not message.parts:
            return
        parts = [part_from_a2a(p) for p in message.parts]
        if self.state == "working" and not self.artifacts:
            # langgraph-a2a 0.1.6 streams its tokens as WORKING status messages.
            self.status_stream += _text(parts)
        else:
            self.status_parts = parts

    def _artifact(self, artifact: Artifact, append: bool, last_chunk: bool) -> None:
        new = [part_from_a2a(p) for p in artifact.parts]
        known = artifact.artifact_id in self.artifacts
        if quirks.repeats_streamed(
            _text(new), self._streamed(), append=append, last_chunk=last_chunk
        ):
            self.artifacts.clear()
            self.status_stream = ""
            self.artifacts[artifact.artifact_id] = new
        elif append and known:
            self.artifacts[artifact.artifact_id] = _joined(
                self.artifacts[artifact.artifact_id], new
            )
        else:
            self.artifacts[artifact.artifact_id] = new

    def fold(self, event: StreamResponse) -> str:
        """Take one event; return the text it adds to the answer."""
        before = self._streamed()
        kind = event.WhichOneof("payload")
        if kind == "task":
            task = event.task
            self.task_id, self.context_id = task.id, task.context_id
            status = task.status
            self._status(status.state, status.message if status.HasField("message") else None)
            if task.artifacts:
                stored = [[part_from_a2a(p) for p in a.parts] for a in task.artifacts]
                ids = [a.artifact_id for a in task.artifacts]
                kept = quirks.without_repeats(stored)
                # A stored artifact that was streamed holds one text part per chunk.
                self.artifacts = {
                    i: _joined([], parts) for i, parts in zip(ids[-len(kept) :], kept, strict=True)
                }
        elif kind == "status_update":
            update = event.status_update
            self.task_id, self.context_id = update.task_id, update.context_id
            status = update.status
            self._status(status.state, status.message if status.HasField("message") else None)
        elif kind == "artifact_update":
            update = event.artifact_update
            self.task_id, self.context_id = update.task_id, update.context_id
            self._artifact(update.artifact, update.append, update.last_chunk)
        elif kind == "message":
            message = event.message
            self.context_id = message.context_id or self.context_id
            self.task_id = message.task_id or self.task_id
            self.state = "completed"
            self.status_parts = [part_from_a2a(p) for p in message.parts]
            return _text(self.status_parts)
        return self._new(before)

    def reply(self) -> Reply:
        """The answer as it stands."""
        parts = [quirks.unwrapped(p) for artifact in self.artifacts.values() for p in artifact]
        if self.state in INTERRUPTED | {"failed", "rejected"}:
            parts = self.status_parts
        elif not parts:
            parts = self.status_parts or (
                [TextPart(self.status_stream)] if self.status_stream else []
            )
        return Reply(
            tuple(parts), context_id=self.context_id, task_id=self.task_id, state=self.state
        )

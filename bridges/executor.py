"""One a2a-sdk `AgentExecutor` that drives any `Runner`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from a2a.helpers.proto_helpers import new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.owner_resolver import resolve_user_scope
from a2a.server.tasks import TaskUpdater
from a2a.types import Message, TaskState
from a2a.types import Part as A2APart
from a2a.utils.errors import InvalidParamsError

from bridges.conversation import (
    Conversation,
    Part,
    TextPart,
    Turn,
    message_from_turn,
    part_to_a2a,
    turn_from_message,
)
from bridges.memory import Memory
from bridges.runner import Event, InputRequired, Reply, Runner, TextDelta

__all__ = ["BridgeExecutor", "failure_text"]

logger = logging.getLogger("bridges.executor")

MAX_ERROR_CHARS = 300


def failure_text(exc: BaseException) -> str:
    """A short, readable description of an error: its type and first line, never a traceback."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


@dataclass
class _Run:
    """What one task's run has streamed so far."""

    updater: TaskUpdater
    artifact_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    streamed: list[str] = field(default_factory=list)

    async def delta(self, text: str) -> None:
        await self.updater.add_artifact(
            [A2APart(text=text)],
            artifact_id=self.artifact_id,
            name="answer",
            append=bool(self.streamed),
            last_chunk=False,
        )
        self.streamed.append(text)

    async def close(self, parts: Sequence[Part]) -> None:
        """Send the whole answer as the artifact's last chunk.

        It replaces the streamed chunks (append=false), so the stored task holds the answer as
        one clean part instead of one part per delta.
        """
        if parts:
            await self.updater.add_artifact(
                [part_to_a2a(p) for p in parts],
                artifact_id=self.artifact_id,
                name="answer",
                append=False,
                last_chunk=True,
            )


def _streamed_parts(run: _Run) -> tuple[Part, ...]:
    text = "".join(run.streamed)
    return (TextPart(text),) if text else ()


class BridgeExecutor(AgentExecutor):
    """Protocol-shaped work for every runner: task events, streaming, memory, input, cancel."""

    def __init__(self, runner: Runner, memory: Memory) -> None:
        self.runner = runner
        self.memory = memory
        self._parked: dict[str, AsyncGenerator[Event, Turn | None]] = {}
        self._parked_in: dict[str, str] = {}  # contextId → the task waiting for input there
        self._inflight: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        # A follow-up that names only the task gets a fresh context id: trust the stored task.
        task_id = task.id if task else context.task_id
        context_id = task.context_id if task else context.context_id
        assert task_id and context_id and context.message is not None
        try:
            turn = turn_from_message(context.message)
        except ValueError as exc:
            # Refused before any task exists, so the caller gets -32602 and nothing is stored.
            raise InvalidParamsError(message=f"invalid message: {exc}") from None
        if task is None:
            await event_queue.enqueue_event(
                new_task(
                    task_id, context_id, TaskState.TASK_STATE_SUBMITTED, history=[context.message]
                )
            )
        updater = TaskUpdater(event_queue, task_id, context_id)
        await updater.start_work()

        inner = asyncio.create_task(self._drive(context, updater, turn))
        finished = asyncio.Event()
        self._inflight[task_id] = (inner, finished)
        try:
            await inner
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if me is not None and me.cancelling():
                inner.cancel()
                raise
            # Only the run was cancelled, by `cancel`: say so on the queue subscribers read.
            await updater.cancel()
        finally:
            self._inflight.pop(task_id, None)
            finished.set()

    async def _drive(self, context: RequestContext, updater: TaskUpdater, turn: Turn) -> None:
        task_id, context_id = updater.task_id, updater.context_id
        owner = resolve_user_scope(context.call_context)
        user = context.call_context.user
        gen = self._parked.pop(task_id, None)
        # A caller that answers a question in a new task (AG2's client does) abandons the old
        # one; its waiting run is closed, not kept forever.
        waiting = self._parked_in.pop(context_id, None)
        if waiting is not None and waiting != task_id and (old := self._parked.pop(waiting, None)):
            await old.aclose()
        # Read before writing the new turn, so the conversation is exactly history + turn.
        history = () if gen is not None else tuple(await self.memory.load(owner, context_id))
        await self.memory.append(owner, context_id, [turn])
        if gen is not None:
            step = gen.asend(turn)
        else:
            conversation = Conversation(
                context_id=context_id,
                task_id=task_id,
                turns=(*history, turn),
                user=user.user_name if user.is_authenticated else None,
                metadata=context.metadata,
            )
            gen = self.runner.run(conversation)
            step = gen.__anext__()

        run = _Run(updater)
        reply: Reply | None = None
        try:
            while True:
                try:
                    event = await step
                except StopAsyncIteration:
                    break
                if isinstance(event, TextDelta):
                    if event.text:
                        await run.delta(event.text)
                elif isinstance(event, Reply):
                    reply = event
                elif isinstance(event, InputRequired):
                    await run.close(_streamed_parts(run))
                    await self._ask(gen, updater, owner, event)
                    return
                step = gen.__anext__()
        except asyncio.CancelledError:
            await gen.aclose()
            raise
        except Exception as exc:
            logger.exception("agent failed on task %s", task_id)
            await gen.aclose()
            await run.close(_streamed_parts(run))
            await updater.failed(updater.new_agent_message([A2APart(text=failure_text(exc))]))
            return
        await self._complete(run, reply, owner)

    async def _ask(
        self,
        gen: AsyncGenerator[Event, Turn | None],
        updater: TaskUpdater,
        owner: str,
        event: InputRequired,
    ) -> None:
        self._parked[updater.task_id] = gen
        self._parked_in[updater.context_id] = updater.task_id
        question = Turn("agent", event.parts)
        await self.memory.append(owner, updater.context_id, [question])
        await updater.requires_input(self._message(question, updater))

    async def _complete(self, run: _Run, reply: Reply | None, owner: str) -> None:
        parts = reply.parts if reply and reply.parts else _streamed_parts(run)
        await run.close(parts)
        answer = Turn("agent", parts)
        await self.memory.append(owner, run.updater.context_id, [answer])
        await run.updater.complete(self._message(answer, run.updater))

    @staticmethod
    def _message(turn: Turn, updater: TaskUpdater) -> Message:
        return message_from_turn(turn, context_id=updater.context_id, task_id=updater.task_id)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        if (running := self._inflight.get(task_id)) is not None:
            inner, finished = running
            inner.cancel()
            # `execute` writes CANCELED once the runner has really stopped.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), timeout=10)
            return
        if (parked := self._parked.pop(task_id, None)) is not None:
            await parked.aclose()
        await TaskUpdater(event_queue, task_id, context.context_id or "").cancel()

"""One a2a-sdk `AgentExecutor` that drives any `Runner`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from a2a.helpers.proto_helpers import new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.agent_execution.active_task import TERMINAL_TASK_STATES
from a2a.server.events import EventQueue
from a2a.server.owner_resolver import resolve_user_scope
from a2a.server.tasks import TaskUpdater
from a2a.types import Message, TaskState
from a2a.types import Part as A2APart
from a2a.utils.errors import InvalidParamsError

from a2a_bridges import quirks
from a2a_bridges.conversation import (
    Conversation,
    DataPart,
    Part,
    TextPart,
    Turn,
    message_from_turn,
    part_to_a2a,
    turn_from_message,
    with_renderings,
)
from a2a_bridges.errors import AgentError
from a2a_bridges.runner import Event, InputRequired, Reply, Runner, TextDelta
from a2a_bridges.server.memory import Memory

if TYPE_CHECKING:
    from a2a_bridges.server.stores import TaskWatch

__all__ = [
    "MAX_ERROR_CHARS",
    "MAX_ID_CHARS",
    "STREAMING_METHODS",
    "BridgeExecutor",
    "Limits",
    "failure_text",
    "told",
]

logger = logging.getLogger("a2a_bridges.executor")

MAX_ERROR_CHARS = 300

STREAMING_METHODS = frozenset({"SendStreamingMessage", "message/stream"})
"""JSON-RPC methods whose caller reads the events as they come."""

MAX_ID_CHARS = 36
"""The longest taskId or contextId the a2a-sdk's SQL stores keep (a UUID's length)."""


@dataclass(frozen=True)
class Limits:
    """What one server takes on: parts per message; tasks running at once, and messages
    waiting for one of them to end (more are refused); how long each may run (None: as long
    as it takes)."""

    max_parts: int = 100
    max_tasks: int = 64
    max_waiting: int = 4096
    task_timeout: float | None = 900.0
    debug: bool = False  # callers are told every error's message


def told(exc: BaseException, *, debug: bool) -> str:
    """What the caller is told of an agent's error: the message of an `AgentError` (anywhere
    in its chain), or in debug mode the error's type and first line; otherwise its type and a
    reference the server log carries with the whole error."""
    seen: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in seen:
        if isinstance(cause, AgentError):
            return _short(str(cause) or type(cause).__name__)
        seen.append(cause)
        cause = cause.__cause__ or cause.__context__
    if debug:
        return failure_text(exc)
    reference = uuid.uuid4().hex[:12]
    logger.error("the agent failed, reference %s", reference, exc_info=exc)
    return f"{type(exc).__name__} (reference {reference})"


def _short(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= MAX_ERROR_CHARS else first[: MAX_ERROR_CHARS - 1] + "…"


def failure_text(exc: BaseException) -> str:
    """A short, readable description of an error: its type and first line, never a traceback."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _streaming(context: RequestContext) -> bool:
    """Whether the caller reads this request's events as they come (SSE), or only the end."""
    state = context.call_context.state
    return state.get("method") in STREAMING_METHODS or bool(state.get("streaming"))


def _text(parts: Sequence[Part]) -> str:
    return "".join(p.text for p in parts if isinstance(p, TextPart))


async def _next(step: object) -> Event | None:
    """The event a runner's step gives, or None once its generator ends."""
    try:
        return await step  # type: ignore[misc, no-any-return]
    except StopAsyncIteration:
        return None


_Parked: TypeAlias = tuple[AsyncGenerator[Event, Turn | None], str]
"""A run waiting for the caller's answer, and the id of the message that asked."""


@dataclass
class _Run:
    """One task's answer as it is produced.

    A caller that streams gets each delta as an artifact chunk (append=true) and a last chunk
    that adds only what the deltas lacked: clients that join every chunk (ag2 1.x's does) show
    the answer once. A caller that waits for the end gets the answer as one artifact.
    """

    updater: TaskUpdater
    streaming: bool
    replaces: bool = False  # the caller needs the whole answer to replace the chunks
    text_only: bool = False  # the caller needs data as its JSON rendering alone
    artifact_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    streamed: list[str] = field(default_factory=list)
    turn: Turn | None = None  # the message being answered, until it is remembered
    asked: str = ""  # the id of the question the stored task waited on, if it did

    async def _send(self, parts: Sequence[Part], *, append: bool, last: bool) -> None:
        if self.text_only:
            parts = [p for p in parts if not isinstance(p, DataPart)] or [TextPart("")]
        await self.updater.add_artifact(
            [part_to_a2a(p) for p in parts],
            artifact_id=self.artifact_id,
            name="answer",
            append=append,
            last_chunk=last,
        )

    async def delta(self, text: str) -> None:
        if self.streaming:
            await self._send([TextPart(text)], append=bool(self.streamed), last=False)
        self.streamed.append(text)

    def streamed_parts(self) -> tuple[Part, ...]:
        text = "".join(self.streamed)
        return (TextPart(text),) if text else ()

    def answer(self, reply: Reply | None) -> Turn:
        """The turn that answers: the reply's parts, or the joined deltas when it has none."""
        parts = reply.parts if reply and reply.parts else self.streamed_parts()
        return Turn("agent", parts, metadata=reply.metadata if reply is not None else None)

    async def close(self, parts: Sequence[Part]) -> None:
        """Send the whole answer: what the chunks lacked, or all of it."""
        shown = "".join(self.streamed) if self.streaming else ""
        if shown and _text(parts) == shown and not self.replaces:
            # What was streamed may have been a data part's rendering (a proxy streams what
            # its remote sent): a rendering is added only where the parts lack one.
            rest = [
                p for p in with_renderings(parts) if not isinstance(p, TextPart) or p not in parts
            ]
            # A2A 1.0 requires parts in every artifact: an empty text adds nothing to join.
            await self._send(rest or [TextPart("")], append=True, last=True)
        elif parts:
            # Nothing streamed, or the answer is not what was streamed: it replaces the chunks.
            await self._send(with_renderings(parts), append=False, last=True)


class BridgeExecutor(AgentExecutor):
    """Protocol-shaped work for every runner: task events, streaming, memory, input, cancel."""

    def __init__(
        self,
        runner: Runner,
        memory: Memory,
        limits: Limits | None = None,
        watch: TaskWatch | None = None,
    ) -> None:
        self.runner = runner
        self.memory = memory
        self.limits = limits or Limits()
        self.watch = watch  # in a cluster: what other replicas do to the tasks held here
        self._watcher: asyncio.Task[None] | None = None
        self._stopping: str | None = None
        self.stopped: set[str] = set()  # the tasks `stop` failed
        self._parked: dict[str, _Parked] = {}
        self._parked_in: dict[tuple[str, str], str] = {}  # (owner, contextId) → waiting task
        self._inflight: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self._slots = asyncio.Semaphore(self.limits.max_tasks)
        self._waiting = 0
        self._dropped: set[str] = set()  # tasks cancelled before they ran
        self._direct: Callable[[Turn], bool] | None = getattr(runner, "direct", None)

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        # A follow-up that names only the task gets a fresh context id: trust the stored task.
        task_id = task.id if task else context.task_id
        context_id = task.context_id if task else context.context_id
        assert task_id and context_id and context.message is not None
        # Refused before any task exists, so the caller gets -32602 and nothing is stored.
        self._check(task_id, context_id, context.message)
        try:
            turn = turn_from_message(context.message)
        except ValueError as exc:
            raise InvalidParamsError(message=f"invalid message: {exc}") from None
        direct = task is None and self._direct is not None and self._direct(turn)
        if task is None and not direct:
            await self._submitted(event_queue, task_id, context_id, context.message)
        updater = TaskUpdater(event_queue, task_id, context_id)
        self._waiting += 1
        try:
            await self._slots.acquire()  # a task waits SUBMITTED for a slot, and runs WORKING
        finally:
            self._waiting -= 1
        try:
            if task_id in self._dropped:
                self._dropped.discard(task_id)
                return
            if direct:
                await self._answer(context, event_queue, updater, turn)
            else:
                await self._execute(context, updater, turn)
        finally:
            self._slots.release()

    @staticmethod
    async def _submitted(
        event_queue: EventQueue, task_id: str, context_id: str, message: Message
    ) -> None:
        task = new_task(task_id, context_id, TaskState.TASK_STATE_SUBMITTED, history=[message])
        await event_queue.enqueue_event(task)

    async def _answer(
        self, context: RequestContext, event_queue: EventQueue, updater: TaskUpdater, turn: Turn
    ) -> None:
        """Answer with one Message and no task, as the runner's `direct` asked: the whole
        reply, remembered as any other. A run that fails, asks or outlives the task timeout
        still can have a task (nothing was sent yet): it gets a failed one that says why."""
        owner = resolve_user_scope(context.call_context)
        run = _Run(updater, streaming=False)
        answer: Turn | None = None
        failure: str | None = None
        try:
            async with (
                asyncio.timeout(self.limits.task_timeout),
                self.memory.turn(owner, updater.context_id),
            ):
                gen, step = await self._start(context, run, turn, owner)
                try:
                    answer = await self._whole(gen, step, run)
                except Exception as exc:
                    answer, failure = None, told(exc, debug=self.limits.debug)
                finally:
                    await gen.aclose()
                await self._remember(run, owner, *([answer] if answer else []))
        except TimeoutError:
            failure = self._timed_out()
        if failure is None and answer is not None:
            # A2A 1.0 requires parts in every message: an empty answer is one empty text.
            parts = with_renderings(answer.parts) or [TextPart("")]
            sent = Turn("agent", tuple(parts))
            await event_queue.enqueue_event(message_from_turn(sent, context_id=updater.context_id))
            return
        assert context.message is not None
        await self._submitted(event_queue, updater.task_id, updater.context_id, context.message)
        message = failure or "the agent asked for input on a message it answers directly"
        await updater.failed(updater.new_agent_message([A2APart(text=message)]))

    @staticmethod
    async def _whole(
        gen: AsyncGenerator[Event, Turn | None], step: object, run: _Run
    ) -> Turn | None:
        """The run's whole answer, read to its end; None if it asks."""
        reply: Reply | None = None
        while (event := await _next(step)) is not None:
            if isinstance(event, InputRequired):
                return None
            if isinstance(event, TextDelta):
                await run.delta(event.text)
            else:
                reply = event
            step = gen.__anext__()
        return run.answer(reply)

    def _timed_out(self) -> str:
        return (
            f"the agent did not finish within {self.limits.task_timeout:g}s "
            "(the server's task_timeout)"
        )

    async def _execute(self, context: RequestContext, updater: TaskUpdater, turn: Turn) -> None:
        task_id = updater.task_id
        # Read before the SDK, seeing the first event, moves the question into the history.
        task = context.current_task
        asked = task.status.message.message_id if task else ""
        await updater.start_work()
        ids = {"task_id": task_id, "context_id": updater.context_id}
        logger.info("task %s started", task_id, extra=ids)
        inner = asyncio.create_task(self._drive(context, updater, turn, asked))
        finished = asyncio.Event()
        self._inflight[task_id] = (inner, finished)
        self._watching()
        started = time.monotonic()
        try:
            await inner
            seconds = time.monotonic() - started
            logger.info("task %s ran %.3fs", task_id, seconds, extra={**ids, "seconds": seconds})
        except asyncio.CancelledError:
            logger.info("task %s cancelled", task_id, extra=ids)
            me = asyncio.current_task()
            if me is not None and me.cancelling():
                inner.cancel()
                raise
            # Only the run was cancelled, by `cancel` or `stop`: say so where subscribers read.
            if self._stopping is not None:
                await updater.failed(updater.new_agent_message([A2APart(text=self._stopping)]))
            else:
                await updater.cancel()
        finally:
            self._inflight.pop(task_id, None)
            finished.set()

    async def stop(self, reason: str, timeout: float = 5.0) -> None:
        """Fail every running task with `reason` (the server is going away), once its run
        stopped; new ones are failed at once. `stopped` names them."""
        self._stopping = reason
        if self._watcher is not None:
            self._watcher.cancel()
        self.stopped.update(self._inflight)
        running = list(self._inflight.values())
        for inner, _ in running:
            inner.cancel()
        if running:
            await asyncio.wait(
                [asyncio.ensure_future(f.wait()) for _, f in running], timeout=timeout
            )

    def running(self) -> int:
        """How many tasks run now."""
        return len(self._inflight)

    def busy(self) -> bool:
        """Whether as many messages wait for a slot as the limits allow."""
        return self._waiting >= self.limits.max_waiting

    def _check(self, task_id: str, context_id: str, message: Message) -> None:
        for name, value in (("taskId", task_id), ("contextId", context_id)):
            if len(value) > MAX_ID_CHARS:
                raise InvalidParamsError(
                    message=f"{name} is {len(value)} characters long; at most {MAX_ID_CHARS}"
                )
        if len(message.parts) > self.limits.max_parts:
            raise InvalidParamsError(
                message=f"the message has {len(message.parts)} parts; "
                f"at most {self.limits.max_parts} are accepted"
            )

    def _watching(self) -> None:
        """In a cluster, follow the tasks held here in the shared store, with one watcher."""
        if self.watch is not None and (self._watcher is None or self._watcher.done()):
            self._watcher = asyncio.create_task(self._watch(self.watch))

    async def _watch(self, watch: TaskWatch) -> None:
        """Stop a run cancelled on another replica (which only records CANCELED), and drop a
        parked run whose task another replica ended."""
        while self._inflight or self._parked:
            await asyncio.sleep(watch.interval)
            try:
                statuses = await watch.statuses({*self._inflight, *self._parked})
            except Exception:
                logger.warning("cannot read the states of running tasks", exc_info=True)
                continue
            for task_id, status in statuses.items():
                if status.state == TaskState.TASK_STATE_CANCELED and task_id in self._inflight:
                    self._inflight[task_id][0].cancel()  # `execute` ends it once it stopped
                if status.state in TERMINAL_TASK_STATES and task_id in self._parked:
                    await self._parked.pop(task_id)[0].aclose()

    async def _drive(
        self, context: RequestContext, updater: TaskUpdater, turn: Turn, asked: str
    ) -> None:
        owner = resolve_user_scope(context.call_context)
        # One turn of a conversation at a time (across replicas, in a cluster): a second
        # message waits for the first's answer, so both never see the same history.
        run = _Run(
            updater,
            _streaming(context),
            quirks.reads_last_part(turn),
            quirks.takes_text_only(turn),
            asked=asked,
        )
        try:
            turn_held = self.memory.turn(owner, updater.context_id)
            async with asyncio.timeout(self.limits.task_timeout), turn_held:
                gen, step = await self._start(context, run, turn, owner)
                await self._follow(gen, step, run, owner)
        except TimeoutError:
            await updater.failed(updater.new_agent_message([A2APart(text=self._timed_out())]))

    async def _start(
        self, context: RequestContext, run: _Run, turn: Turn, owner: str
    ) -> tuple[AsyncGenerator[Event, Turn | None], object]:
        """The runner's generator for this message, and its first step: a parked run resumed
        with the answer, or a new run on the conversation so far."""
        task_id, context_id = run.updater.task_id, run.updater.context_id
        gen = await self._resumed(self._parked.pop(task_id, None), run.asked)
        waiting = self._parked_in.pop((owner, context_id), None)
        if quirks.answers_in_new_task(waiting, task_id) and (
            old := self._parked.pop(waiting or "", None)
        ):
            await old[0].aclose()
        inline = quirks.inline_history(turn) if gen is None else None
        stored = await self.memory.load(owner, context_id) if gen is None else []
        if inline is not None:
            history = (*inline[0], *quirks.dropped_question(turn, stored))
            turn = inline[1]
        else:
            history = tuple(stored)
        run.turn = turn  # remembered with what the run ends on, in one write
        if gen is not None:
            return gen, gen.asend(turn)
        user = context.call_context.user
        conversation = Conversation(
            context_id=context_id,
            task_id=task_id,
            turns=(*history, turn),
            user=user.user_name if user.is_authenticated else None,
            metadata=context.metadata,
            streaming=_streaming(context),
            # From memory even when the caller sent its own history, which never holds them.
            notes=next(
                (t.metadata for t in reversed(stored) if t.role == "agent" and t.metadata), None
            ),
        )
        gen = self.runner.run(conversation)
        return gen, gen.__anext__()

    @staticmethod
    async def _resumed(
        parked: _Parked | None, asked: str
    ) -> AsyncGenerator[Event, Turn | None] | None:
        """The parked run, if the stored task still waited on its question: in a cluster,
        another replica may have taken the answer and asked again meanwhile."""
        if parked is None:
            return None
        gen, question = parked
        if asked == question:
            return gen
        await gen.aclose()
        return None

    async def _follow(
        self, gen: AsyncGenerator[Event, Turn | None], step: object, run: _Run, owner: str
    ) -> None:
        updater = run.updater
        reply: Reply | None = None
        try:
            while (event := await _next(step)) is not None:
                if isinstance(event, TextDelta):
                    if event.text:
                        await run.delta(event.text)
                elif isinstance(event, Reply):
                    reply = event
                elif isinstance(event, InputRequired):
                    await run.close(run.streamed_parts())
                    await self._ask(gen, run, owner, event)
                    return
                step = gen.__anext__()
        except asyncio.CancelledError:
            await gen.aclose()
            await asyncio.shield(self._remember(run, owner))
            raise
        except Exception as exc:
            text = told(exc, debug=self.limits.debug)
            ids = {"task_id": updater.task_id, "context_id": updater.context_id}
            logger.info("agent failed on task %s: %s", updater.task_id, text, extra=ids)
            await gen.aclose()
            await run.close(run.streamed_parts())
            await self._remember(run, owner)
            await updater.failed(updater.new_agent_message([A2APart(text=text)]))
            return
        answer = run.answer(reply)
        await run.close(answer.parts)
        await self._remember(run, owner, answer)
        await updater.complete()

    async def _remember(self, run: _Run, owner: str, *answer: Turn) -> None:
        """Write the run's turn, and what answered it, to the conversation."""
        turns = [t for t in (run.turn, *answer) if t is not None]
        run.turn = None
        await self.memory.append(owner, run.updater.context_id, turns)

    async def _ask(
        self,
        gen: AsyncGenerator[Event, Turn | None],
        run: _Run,
        owner: str,
        event: InputRequired,
    ) -> None:
        updater = run.updater
        question = Turn("agent", event.parts, metadata=event.metadata)
        # The notes stay here; the caller gets the question, under the same message id.
        sent = Turn("agent", event.parts, message_id=question.message_id)
        message = self._message(sent, updater)
        self._parked[updater.task_id] = (gen, message.message_id)
        self._parked_in[(owner, updater.context_id)] = updater.task_id
        await self._remember(run, owner, question)
        await updater.requires_input(message)

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
            await parked[0].aclose()
        else:
            self._dropped.add(task_id)  # if it waits for a slot, it never runs
        await TaskUpdater(event_queue, task_id, context.context_id or "").cancel()

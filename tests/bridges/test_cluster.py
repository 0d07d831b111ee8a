"""Cluster mode: several replicas serve one agent from one PostgreSQL database.

Each test has a database of its own (the `postgres_url` fixture); a replica is a `to_a2a` app
with `cluster=True` served on a loopback port, or a real `a2a-bridges serve --cluster` process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.server.cluster import TaskVersion, VersionedDatabaseTaskStore
from a2a.server.context import ServerCallContext
from a2a.types import (
    GetTaskRequest,
    SubscribeToTaskRequest,
    Task,
    TaskState,
    TaskStatus,
)
from a2a.utils.constants import TransportProtocol

from a2a_bridges import Conversation, InputRequired, RemoteAgent, TextPart, Turn, to_a2a
from a2a_bridges.cli import main
from a2a_bridges.errors import RemoteAgentError
from a2a_bridges.testing import running
from tests.bridges.conftest import sdk_client

pytestmark = pytest.mark.anyio


@contextlib.contextmanager
def replicas(store: str, *agents: Any, **options: Any) -> Iterator[list[str]]:
    """Each agent served by a replica of its own, all on one store; their URLs."""
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(running(to_a2a(agent, store=store, cluster=True, **options)))
            for agent in agents
        ]


async def waited(event: threading.Event, timeout: float = 10) -> bool:
    """Wait, without blocking the test's loop, for an event a served agent sets."""
    return await asyncio.to_thread(event.wait, timeout)


async def named_task(chat: Any) -> str:
    """The id of the task a conversation's message started, as soon as the server names it."""
    for _ in range(500):
        if chat.task_id is not None:
            return str(chat.task_id)
        await asyncio.sleep(0.01)
    raise AssertionError("the server never named the task")


def history(conversation: Conversation) -> str:
    return " | ".join(t.text for t in conversation.turns if t.role == "user")


async def test_a_task_running_on_one_replica_is_read_and_subscribed_on_another(
    postgres_url: str,
) -> None:
    gate = threading.Event()

    async def agent(conversation: Conversation) -> AsyncIterator[str]:
        yield "first "
        await asyncio.to_thread(gate.wait, 20)
        yield "second"

    with replicas(postgres_url, agent) as (a,):
        async with RemoteAgent(a) as on_a:
            chat = on_a.conversation()
            sending = asyncio.ensure_future(chat.send("go"))
            task_id = await named_task(chat)
            # A replica that starts while the task runs elsewhere leaves it running.
            with replicas(postgres_url, agent) as (b,):
                client, http = await sdk_client(b, TransportProtocol.JSONRPC, "1.0")
                try:
                    task = await client.get_task(GetTaskRequest(id=task_id))
                    assert task.status.state == TaskState.TASK_STATE_WORKING
                    events = client.subscribe(SubscribeToTaskRequest(id=task_id))
                    async with asyncio.timeout(20):
                        snapshot = await anext(events)
                        assert snapshot.task.id == task_id
                        gate.set()
                        rest = [event async for event in events]
                finally:
                    await client.close()
                    await http.aclose()
            assert (await sending).text == "first second"
    assert rest[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
    chunks = [
        p.text
        for e in rest
        if e.HasField("artifact_update")
        for p in e.artifact_update.artifact.parts
    ]
    assert "second" in chunks


async def test_a_cancel_on_another_replica_stops_the_run(postgres_url: str) -> None:
    started, cancelled, finished = threading.Event(), threading.Event(), threading.Event()

    async def slow(conversation: Conversation) -> str:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        finished.set()
        return "too late"

    with replicas(postgres_url, slow, slow) as (a, b):
        async with RemoteAgent(a) as on_a, RemoteAgent(b) as on_b:
            chat = on_a.conversation()
            sending = asyncio.ensure_future(chat.send("work"))
            task_id = await named_task(chat)
            assert await waited(started)
            assert await on_b.cancel(task_id) == "canceled"
            # The runner's coroutine on A really stops, within the replicas' poll interval.
            assert await waited(cancelled, timeout=5)
            with pytest.raises(RemoteAgentError) as raised:
                await sending
            assert raised.value.state == "canceled"
            for remote in (on_a, on_b):
                task = await remote.get_task(task_id)
                assert task.status.state == TaskState.TASK_STATE_CANCELED
    assert not finished.is_set()


async def test_alternating_turns_across_replicas_remember(postgres_url: str) -> None:
    with replicas(postgres_url, history, history) as (a, b):
        async with RemoteAgent(a) as on_a, RemoteAgent(b) as on_b:
            first = await on_a.send("one")
            context = first.context_id
            assert (await on_b.send("two", context_id=context)).text == "one | two"
            assert (await on_a.send("three", context_id=context)).text == "one | two | three"
            assert (await on_b.send("four", context_id=context)).text == "one | two | three | four"
            assert (await on_b.send("alone")).text == "alone"


async def test_concurrent_turns_across_replicas_are_serialized(postgres_url: str) -> None:
    async def counting(conversation: Conversation) -> str:
        users = [t for t in conversation.turns if t.role == "user"]
        answers = [t.text for t in conversation.turns if t.role == "agent"]
        await asyncio.sleep(0.5)  # long enough for the other replica's turn to overlap
        return f"#{len(users)} after {answers[-1] if answers else 'nothing'}"

    with replicas(postgres_url, counting, counting) as (a, b):
        async with RemoteAgent(a) as on_a, RemoteAgent(b) as on_b:
            context = (await on_a.send("one")).context_id
            began = time.monotonic()
            replies = await asyncio.gather(
                on_a.send("two", context_id=context), on_b.send("three", context_id=context)
            )
            took = time.monotonic() - began
    # The second turn, on whichever replica, saw the first one's answer.
    assert sorted(r.text for r in replies) == [
        "#2 after #1 after nothing",
        "#3 after #2 after #1 after nothing",
    ]
    assert took >= 1.0


def booking(replica: str, seen: list[tuple[str, int]], closed: threading.Event) -> Any:
    """An agent that asks two questions; started afresh, it finds the answers given so far
    in the conversation. It notes which replica started it, and how many answers it found."""
    questions = ("Which city?", "Which day?")

    async def book(conversation: Conversation) -> AsyncGenerator[object, Turn]:
        turns = conversation.turns
        answers = {
            asked.text: answer.text
            for asked, answer in itertools.pairwise(turns)
            if asked.role == "agent" and asked.text in questions
        }
        seen.append((replica, len(answers)))
        try:
            for question in questions:
                if question not in answers:
                    answers[question] = (yield InputRequired((TextPart(question),))).text
        except GeneratorExit:
            closed.set()
            raise
        yield f"Booked {answers['Which city?']} on {answers['Which day?']}"

    return book


async def test_a_question_asked_on_one_replica_is_answered_on_another(postgres_url: str) -> None:
    seen: list[tuple[str, int]] = []
    closed = {"a": threading.Event(), "b": threading.Event()}
    agents = [booking(name, seen, closed[name]) for name in ("a", "b")]
    with replicas(postgres_url, *agents) as (a, b):
        async with RemoteAgent(a) as on_a, RemoteAgent(b) as on_b:
            asked = await on_a.send("a room")
            assert asked.input_required and asked.text == "Which city?"
            ids = {"context_id": asked.context_id, "task_id": asked.task_id}
            # B starts the agent afresh, with the question and its answer in the conversation.
            again = await on_b.send("Faro", **ids)
            assert again.input_required and again.text == "Which day?"
            # A's parked run waits on a question already answered: A starts afresh too.
            done = await on_a.send("Monday", **ids)
            assert done.text == "Booked Faro on Monday"
            assert seen == [("a", 0), ("b", 1), ("a", 2)]
            # B drops its parked run once the task ended elsewhere.
            assert await waited(closed["b"], timeout=5)

            # Answered where it was asked, the parked run goes on, even after the SDK let
            # go of the waiting task.
            seen.clear()
            asked = await on_a.send("a table")
            await asyncio.sleep(1.5)
            ids = {"context_id": asked.context_id, "task_id": asked.task_id}
            assert (await on_a.send("Porto", **ids)).text == "Which day?"
            assert (await on_a.send("Friday", **ids)).text == "Booked Porto on Friday"
            assert seen == [("a", 0)]


async def test_an_ag2_question_asked_on_one_replica_is_answered_on_another(
    postgres_url: str,
) -> None:
    pytest.importorskip("autogen")
    from tests.adapters.test_ag2 import booker_agent

    with replicas(postgres_url, booker_agent(), booker_agent()) as (a, b):
        async with RemoteAgent(a) as on_a, RemoteAgent(b) as on_b:
            asked = await on_a.send("a weekend")
            assert asked.input_required and asked.text == "Which city?"
            done = await on_b.send("Faro", context_id=asked.context_id, task_id=asked.task_id)
    assert done.text == "Booked Faro for a weekend"


async def running_task(store: VersionedDatabaseTaskStore, task_id: str, age: timedelta) -> None:
    """A task some replica left WORKING, its status last set `age` ago."""
    status = TaskStatus(state=TaskState.TASK_STATE_WORKING)
    status.timestamp.FromDatetime(datetime.now(UTC).replace(tzinfo=None) - age)
    task = Task(id=task_id, context_id=f"{task_id}-context", status=status)
    missing = TaskVersion.MISSING
    await store.save(task, event=None, prev=None, prev_version=missing, context=ServerCallContext())


async def test_a_replica_starting_fails_only_tasks_no_replica_can_still_run(
    postgres_url: str,
) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(postgres_url)
    store = VersionedDatabaseTaskStore(engine)
    try:
        await running_task(store, "left-long-ago", timedelta(hours=2))
        await running_task(store, "running-now", timedelta(seconds=5))
        # Without a task timeout, nothing tells a dead replica's task from a live one's.
        with replicas(postgres_url, history, task_timeout=None) as (a,):
            async with RemoteAgent(a) as remote:
                old = await remote.get_task("left-long-ago")
                assert old.status.state == TaskState.TASK_STATE_WORKING
        # With one, a task older than it (and a margin) cannot be running anywhere.
        with replicas(postgres_url, history, task_timeout=600) as (a,):
            async with RemoteAgent(a) as remote:
                old = await remote.get_task("left-long-ago")
                new = await remote.get_task("running-now")
    finally:
        await engine.dispose()
    assert old.status.state == TaskState.TASK_STATE_FAILED
    assert "the server stopped while this task ran" in old.status.message.parts[0].text
    assert new.status.state == TaskState.TASK_STATE_WORKING


def test_cluster_mode_needs_postgresql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for store in (f"sqlite:///{tmp_path / 'tasks.db'}", None):
        with pytest.raises(ValueError, match="cluster mode needs a PostgreSQL store"):
            to_a2a(history, store=store, cluster=True)
    agent = tmp_path / "agent.py"
    agent.write_text("def agent(text: str) -> str:\n    return text\n")
    store = f"sqlite:///{tmp_path / 'tasks.db'}"
    assert main(["serve", f"{agent}:agent", "--store", store, "--cluster"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cluster mode needs a PostgreSQL store" in err


AGENT = """
import asyncio, os
from pathlib import Path

async def agent(conversation):
    marks = Path(os.environ["MARKS"])
    if conversation.text == "slow":
        (marks / f"started-{os.getpid()}").touch()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            (marks / f"cancelled-{os.getpid()}").touch()
            raise
        return "too late"
    return " | ".join(t.text for t in conversation.turns if t.role == "user")
"""


SERVE = [sys.executable, "-m", "a2a_bridges", "serve", "--cluster"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(tmp_path: Path, store: str, count: int) -> Iterator[list[str]]:
    """`count` real `a2a-bridges serve --cluster` processes, started at once on one store."""
    (tmp_path / "agent.py").write_text(textwrap.dedent(AGENT))
    env = {**os.environ, "MARKS": str(tmp_path)}
    ports = [free_port() for _ in range(count)]
    procs = [
        subprocess.Popen(
            [*SERVE, f"{tmp_path / 'agent.py'}:agent", "--port", str(port), "--store", store],
            env=env,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, proc in zip(urls, procs, strict=True):
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.communicate()[1].decode())
                time.sleep(0.1)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
            assert proc.stderr is not None
            proc.stderr.close()


async def test_serve_cluster_processes_share_conversations_and_cancel(
    tmp_path: Path, postgres_url: str
) -> None:
    with serving(tmp_path, postgres_url, 2) as (a, b):
        async with RemoteAgent(a) as on_a, RemoteAgent(b) as on_b:
            context = (await on_a.send("one")).context_id
            assert (await on_b.send("two", context_id=context)).text == "one | two"
            chat = on_a.conversation()
            sending = asyncio.ensure_future(chat.send("slow"))
            task_id = await named_task(chat)
            while not list(tmp_path.glob("started-*")):
                await asyncio.sleep(0.05)
            assert await on_b.cancel(task_id) == "canceled"
            with pytest.raises(RemoteAgentError):
                await sending
            assert len(list(tmp_path.glob("cancelled-*"))) == 1
            assert (await on_a.get_task(task_id)).status.state == TaskState.TASK_STATE_CANCELED

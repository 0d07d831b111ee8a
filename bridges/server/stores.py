"""Task stores and conversation memory, chosen by a URL.

Tables. A server creates the tables it needs at start (SQLAlchemy's `create_all`, which leaves
existing tables alone): a2a-sdk's `tasks`, and in cluster mode `task_versions` and `task_events`,
and `a2a_bridges_turns` for the conversations. On PostgreSQL this runs under an advisory lock,
so replicas (or uvicorn workers) starting together never race to create a table. The SDK's own
schema changes between its versions (new columns on `tasks`, for one) are not made by
`create_all`: after upgrading a2a-sdk, run its migrations on the database, with the `a2a-db`
command of its extra `db-cli` (`pip install 'a2a-sdk[db-cli]'`;
`a2a-db --database-url postgresql+asyncpg://...`). Its revision `b5e3d1c8a2f7` creates the two
cluster tables; a server started in cluster mode creates them too, so a new database needs no
migration step.

Cluster mode (PostgreSQL only) uses a2a-sdk's cluster stores on one engine:
`VersionedDatabaseTaskStore` (each write checks the version it read, so two replicas never
overwrite each other's task) and `DatabaseTaskEventStream` (every event is logged in
`task_events`, and a replica that does not run a task follows it by polling that log: how
SubscribeToTask works on any replica). A cancel on a replica that does not run the task only
records CANCELED; `TaskWatch` is how the replica that runs it learns of it (see the executor).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from a2a.auth.user import User
from a2a.server.context import ServerCallContext
from a2a.server.tasks import InMemoryTaskStore, TaskStore
from a2a.types import (
    ListTasksRequest,
    Message,
    Part,
    Role,
    Task,
    TaskState,
    TaskStatus,
    TaskStatusUpdateEvent,
)

from a2a_bridges.server.memory import InMemoryMemory, Memory, SqlMemory

if TYPE_CHECKING:
    from a2a.server.cluster import TaskEventStream, VersionedDatabaseTaskStore
    from a2a.server.tasks import DatabaseTaskStore
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "INTERRUPTED_MARGIN",
    "WATCH_INTERVAL",
    "Stores",
    "TaskWatch",
    "check_cluster",
    "open_stores",
]

WATCH_INTERVAL = 0.5
"""How often, in seconds, a replica reads what other replicas did to the tasks it holds."""

INTERRUPTED_MARGIN = 60.0
"""How long past its task_timeout a task is left WORKING before a cluster fails it (seconds);
it covers a little clock skew between replicas."""

_SCHEMA_LOCK = 0x0A2AB81D6E5  # the advisory lock under which a PostgreSQL server creates tables
_RUNNING = (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING)


@dataclass
class TaskWatch:
    """The stored status of the tasks a replica holds, read in one query every `interval`
    seconds: how a run learns that another replica cancelled it, and a parked run that its
    task ended elsewhere."""

    store: VersionedDatabaseTaskStore
    interval: float = WATCH_INTERVAL

    async def statuses(self, task_ids: Collection[str]) -> dict[str, TaskStatus]:
        """Each task's stored status (task ids are unique across owners)."""
        from google.protobuf.json_format import ParseDict
        from sqlalchemy import select

        tasks = self.store.as_task_store
        assert isinstance(tasks, _database_store())
        model = tasks.task_model
        query = select(model.id, model.status).where(model.id.in_(list(task_ids)))
        async with tasks.async_session_maker() as session:
            rows = (await session.execute(query)).all()
        return {task_id: ParseDict(status, TaskStatus()) for task_id, status in rows}


@dataclass
class Stores:
    """Where tasks and conversations are kept; `events` and `watch` only in cluster mode."""

    tasks: TaskStore | VersionedDatabaseTaskStore
    memory: Memory
    engine: AsyncEngine | None = None
    events: TaskEventStream | None = None
    watch: TaskWatch | None = None

    async def open(self) -> None:
        """Create the tables before the first request, so concurrent first requests never race
        to create them; on PostgreSQL, one server (replica, worker) at a time."""
        if self.engine is None or self.engine.dialect.name != "postgresql":
            await self._create_tables()
            return
        from sqlalchemy import func, select

        async with self.engine.begin() as conn:  # the lock lasts until this transaction ends
            await conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            await self._create_tables()

    async def _create_tables(self) -> None:
        for store in (self.tasks, self.events):
            if (initialize := getattr(store, "initialize", None)) is not None:
                await initialize()
        await self.memory.setup()

    async def fail_interrupted(self, task_timeout: float | None = None) -> int:
        """Fail the tasks a stopped server left running, saying why; return how many.

        One server: every SUBMITTED or WORKING task found at start was left by an earlier run,
        and would otherwise stay WORKING forever. A cluster cannot tell a dead replica's task
        from one a live replica runs, so there only WORKING tasks whose status is older than
        `task_timeout` (plus `INTERRUPTED_MARGIN`) fail: every replica ends its runs at that
        timeout, so none can still be running them (replicas must share one task_timeout).
        A SUBMITTED task may still wait for a slot, and without a timeout nothing is known:
        those stay, and a caller can cancel them on any replica. Each write there checks the
        task's version, so a replica writing the task at that moment wins.
        """
        tasks = self._database()
        if tasks is None:
            return 0  # in memory, nothing outlived the process
        if self.watch is None:
            found = await _tasks_in(tasks, _RUNNING)
            for task, context in found:
                task.status.CopyFrom(_interrupted(task))
                await tasks.save(task, context)
            return len(found)
        if task_timeout is None:
            return 0
        age = timedelta(seconds=task_timeout + INTERRUPTED_MARGIN)
        cutoff = datetime.now(UTC).replace(tzinfo=None) - age
        found = await _tasks_in(tasks, (TaskState.TASK_STATE_WORKING,))
        return sum([await self._fail_shared(t, c) for t, c in found if _older(t.status, cutoff)])

    def _database(self) -> DatabaseTaskStore | None:
        """The SQL task store (in a cluster, the one under the versioned store), if any."""
        if self.watch is not None:
            return self.watch.store.as_task_store  # type: ignore[return-value]
        return self.tasks if isinstance(self.tasks, _database_store()) else None

    async def _fail_shared(self, task: Task, context: ServerCallContext) -> int:
        """Fail one task of a cluster's, unless a replica writes it meanwhile; 1 if failed."""
        from a2a.server.cluster import ConcurrentTaskModificationError

        assert self.watch is not None
        store = self.watch.store
        stored = await store.get(task.id, context)
        if stored is None or stored.task.status.state not in _RUNNING:
            return 0
        failed = Task()
        failed.CopyFrom(stored.task)
        failed.status.CopyFrom(_interrupted(task))
        event = TaskStatusUpdateEvent(
            task_id=task.id, context_id=task.context_id, status=failed.status
        )
        try:
            await store.save(
                failed, event=event, prev=stored.task, prev_version=stored.version, context=context
            )
        except ConcurrentTaskModificationError:
            return 0
        return 1

    async def aclose(self) -> None:
        """Release the database connections, if any."""
        await self.memory.aclose()
        if self.engine is not None:
            await self.engine.dispose()


async def _tasks_in(
    tasks: DatabaseTaskStore, states: Sequence[TaskState]
) -> list[tuple[Task, ServerCallContext]]:
    """Every stored task in these states, whoever owns it, with a context to write it as its
    owner."""
    from sqlalchemy import select

    model = tasks.task_model
    async with tasks.async_session_maker() as session:
        owners = (await session.execute(select(model.owner).distinct())).scalars().all()
    found = []
    for owner in owners:
        context = ServerCallContext(user=_Owner(owner or ""))
        for state in states:
            token = ""
            while True:
                request = ListTasksRequest(status=state, page_size=100, page_token=token)
                page = await tasks.list(request, context)
                found += [(task, context) for task in page.tasks]
                if not (token := page.next_page_token):
                    break
    return found


def _older(status: TaskStatus, cutoff: datetime) -> bool:
    """Whether a status was set before `cutoff` (naive UTC); never, if it has no time."""
    return status.HasField("timestamp") and bool(status.timestamp.ToDatetime() < cutoff)


class _Owner(User):
    """The owner a stored task belongs to, as a user, to read and write it as its owner."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def is_authenticated(self) -> bool:
        return bool(self.name)

    @property
    def user_name(self) -> str:
        return self.name


def _interrupted(task: Task) -> TaskStatus:
    text = "the server stopped while this task ran; send the message again"
    status = TaskStatus(
        state=TaskState.TASK_STATE_FAILED,
        message=Message(
            message_id=uuid.uuid4().hex,
            role=Role.ROLE_AGENT,
            parts=[Part(text=text)],
            context_id=task.context_id,
            task_id=task.id,
        ),
    )
    status.timestamp.GetCurrentTime()
    return status


def _database_store() -> type[DatabaseTaskStore]:
    from a2a.server.tasks import DatabaseTaskStore

    return DatabaseTaskStore


def _engine_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a store URL: {url!r} (try sqlite:///tasks.db)")
    if scheme == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    if scheme in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        return url
    raise ValueError(
        f"unsupported store {scheme!r}: use sqlite:///path.db or postgresql+asyncpg://..."
    )


def check_cluster(url: str | None) -> None:
    """Refuse cluster mode on a store other replicas cannot share (only PostgreSQL can)."""
    if url is None or url == "memory" or not _engine_url(url).startswith("postgresql"):
        raise ValueError(
            f"cluster mode needs a PostgreSQL store (postgresql+asyncpg://...), not {url!r}"
        )


def open_stores(url: str | None, *, cluster: bool = False) -> Stores:
    """None → in memory; `sqlite:///path.db` or `postgresql+asyncpg://...` → that database;
    `cluster` (PostgreSQL only): shared by several replicas (a2a-sdk's cluster stores)."""
    if cluster:
        check_cluster(url)
    if url is None or url == "memory":
        return Stores(InMemoryTaskStore(), InMemoryMemory())
    engine_url = _engine_url(url)
    try:
        from a2a.server.tasks import DatabaseTaskStore
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError(f"{url!r} needs SQLAlchemy: pip install 'a2a-bridges[postgres]'") from exc
    if engine_url.startswith("postgresql"):
        try:
            import asyncpg  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                "a PostgreSQL store needs asyncpg: pip install 'a2a-bridges[postgres]'"
            ) from exc
    engine = _engine(engine_url)
    if not cluster:
        return Stores(DatabaseTaskStore(engine), SqlMemory(engine), engine)
    from a2a.server.cluster import DatabaseTaskEventStream, VersionedDatabaseTaskStore

    tasks = VersionedDatabaseTaskStore(engine)
    events = DatabaseTaskEventStream(engine, poll_interval_s=WATCH_INTERVAL)
    memory = SqlMemory(engine, cluster=True)
    return Stores(tasks, memory, engine, events, TaskWatch(tasks))


def _engine(url: str) -> AsyncEngine:
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    # Many concurrent conversations wait for a connection rather than fail at once.
    pool = {"pool_size": 10, "max_overflow": 20, "pool_timeout": 120}
    if not url.startswith("sqlite"):
        return create_async_engine(url, **pool)
    from a2a_bridges.server import sqlite

    engine = create_async_engine(url, **pool)

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        # The dialect's own arguments, on a connection whose calls skip aiosqlite's thread.
        return dialect.loaded_dbapi.connect(*cargs, async_creator_fn=sqlite.connect, **cparams)

    return engine

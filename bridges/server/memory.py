"""Conversation memory keyed by (owner, contextId), kept beside the task store."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from a2a_bridges.conversation import (
    DataPart,
    FilePart,
    Part,
    TextPart,
    Turn,
    turn_from_dict,
    turn_to_dict,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["CACHED_BYTES", "CACHED_CONVERSATIONS", "InMemoryMemory", "Memory", "SqlMemory"]

CACHED_CONVERSATIONS = 512
"""How many conversations a SQL memory keeps parsed in this process, the most recent ones."""

CACHED_BYTES = 32 * 1024 * 1024
"""How much stored JSON those conversations may hold in all; the oldest go first past it."""

logger = logging.getLogger("a2a_bridges.server")


class Memory(Protocol):
    """Where the turns of each conversation live."""

    async def setup(self) -> None:
        """Make ready what the memory needs (tables), before the first request."""
        ...

    def turn(self, owner: str, context_id: str) -> AbstractAsyncContextManager[None]:
        """Hold one conversation for a turn (load, run, append): another turn of it waits
        until this one ends, so it sees this one's answer."""
        ...

    async def load(self, owner: str, context_id: str) -> list[Turn]:
        """The turns of one conversation, oldest first."""
        ...

    async def append(self, owner: str, context_id: str, turns: Sequence[Turn]) -> None:
        """Add turns to the end of one conversation."""
        ...

    async def aclose(self) -> None:
        """Release what the memory holds (connections), when the server stops."""
        ...


_Packed: TypeAlias = tuple[Any, ...]

_KINDS: tuple[type[Any], ...] = (TextPart, DataPart, FilePart)
assert all(fields(kind)[-1].name == "metadata" for kind in _KINDS)  # what _pack_part expects
_FIELDS = {kind: (i, attrgetter(*(f.name for f in fields(kind)))) for i, kind in enumerate(_KINDS)}


def _pack(turn: Turn) -> _Packed:
    """A turn as tuples of plain values: once the garbage collector has seen them, it tracks
    them no more, so turns kept by the thousand cost no collection time (a Turn and its parts
    are objects it walks on every full collection, seven a message). A mapping is kept as its
    items, since a tuple holding a dict stays tracked; a DataPart's JSON stays as it is."""
    parts = tuple([_pack_part(p) for p in turn.parts])  # made before the tuple that holds them
    return (turn.role, parts, turn.name, _items(turn.metadata), turn.message_id)


def _pack_part(part: Part) -> Any:
    found = _FIELDS.get(type(part))
    if found is None:
        return part  # a subclass of ours, kept as it is
    kind, values = found
    *rest, metadata = values(part)
    return (kind, *rest, _items(metadata))


def _items(metadata: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...] | None:
    return None if metadata is None else tuple(metadata.items())


def _unpack(packed: _Packed) -> Turn:
    role, parts, name, metadata, message_id = packed
    return Turn(role, tuple(map(_unpack_part, parts)), name, _dict(metadata), message_id)


def _unpack_part(packed: Any) -> Part:
    if not isinstance(packed, tuple):
        return packed  # type: ignore[no-any-return]
    kind, *rest, metadata = packed
    part: Part = _KINDS[kind](*rest, _dict(metadata))
    return part


def _dict(items: tuple[tuple[str, Any], ...] | None) -> dict[str, Any] | None:
    return None if items is None else dict(items)


class _Turns:
    """One turn of each conversation at a time, in this process."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def lock(self, owner: str, context_id: str) -> asyncio.Lock:
        lock = self._locks.get((owner, context_id))
        if lock is None:
            lock = self._locks[(owner, context_id)] = asyncio.Lock()
        return lock


class InMemoryMemory:
    """Memory for one process; gone when it stops."""

    def __init__(self) -> None:
        # Packed (`_pack`), since this keeps every conversation for as long as the process
        # runs; a tuple a conversation, made anew at each append: a list would be one more
        # object the collector tracks per conversation, and copying references is cheap.
        # Unpacking costs about 1.7 us a turn a load, which the SQL memory's cache, bounded
        # in size, does not pay: it keeps its turns parsed.
        self._turns: dict[tuple[str, str], tuple[_Packed, ...]] = {}
        self._held = _Turns()

    async def setup(self) -> None:
        return None

    def turn(self, owner: str, context_id: str) -> AbstractAsyncContextManager[None]:
        return self._held.lock(owner, context_id)

    async def aclose(self) -> None:
        return None

    async def load(self, owner: str, context_id: str) -> list[Turn]:
        return list(map(_unpack, self._turns.get((owner, context_id), ())))

    async def append(self, owner: str, context_id: str, turns: Sequence[Turn]) -> None:
        key = (owner, context_id)
        self._turns[key] = self._turns.get(key, ()) + tuple([_pack(t) for t in turns])


@dataclass
class _Cached:
    turns: list[Turn] = field(default_factory=list)
    seq: int = 0  # the last row read
    size: int = 0  # the stored JSON of its turns, in characters


class SqlMemory:
    """Memory in a SQL database (SQLite or PostgreSQL), shared by every replica that uses it.

    Each load reads only the rows after the last one this process read for the conversation,
    so a turn costs the same whatever the conversation's length; rows other replicas added
    come with it. That holds because the turns of one conversation are appended one turn at a
    time (`turn`), each committed before the next begins: with `cluster`, across replicas too,
    through a PostgreSQL advisory lock per conversation.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        table_name: str = "a2a_bridges_turns",
        cached: int = CACHED_CONVERSATIONS,
        *,
        cluster: bool = False,
    ) -> None:
        from sqlalchemy import JSON, BigInteger, Column, Index, Integer, MetaData, String, Table

        self._engine = engine
        self._metadata = MetaData()
        self._table = Table(
            table_name,
            self._metadata,
            # SQLite only autoincrements an INTEGER primary key.
            Column(
                "seq",
                BigInteger().with_variant(Integer, "sqlite"),
                primary_key=True,
                autoincrement=True,
            ),
            Column("owner", String(255), nullable=False),
            Column("context_id", String(255), nullable=False),
            Column("turn", JSON, nullable=False),
            Index(f"ix_{table_name}_conversation", "owner", "context_id", "seq"),
        )
        self._cached = cached
        self._cache: OrderedDict[tuple[str, str], _Cached] = OrderedDict()
        self._size = 0  # of every cached conversation
        self._held = _Turns()
        self._shared = _AdvisoryLocks(engine) if cluster else None

    async def setup(self) -> None:
        async with self._engine.begin() as conn:
            await conn.run_sync(self._metadata.create_all)

    @contextlib.asynccontextmanager
    async def turn(self, owner: str, context_id: str) -> AsyncIterator[None]:
        async with self._held.lock(owner, context_id):
            if self._shared is None:
                yield
                return
            key = _lock_key(owner, context_id)
            await self._shared.acquire(key)
            try:
                yield
            finally:
                await self._shared.release(key)

    async def aclose(self) -> None:
        if self._shared is not None:
            await self._shared.aclose()

    def _entry(self, key: tuple[str, str]) -> _Cached:
        entry = self._cache.pop(key, None) or _Cached()
        self._cache[key] = entry  # the most recently used goes last
        return entry

    def _trim(self) -> None:
        # Bounded by count and by size: a few huge conversations must not hold the process.
        while len(self._cache) > self._cached or (
            self._size > CACHED_BYTES and len(self._cache) > 1
        ):
            _, dropped = self._cache.popitem(last=False)
            self._size -= dropped.size

    async def load(self, owner: str, context_id: str) -> list[Turn]:
        from sqlalchemy import select

        entry = self._entry((owner, context_id))
        t = self._table
        query = (
            select(t.c.seq, t.c.turn)
            .where(t.c.owner == owner, t.c.context_id == context_id, t.c.seq > entry.seq)
            .order_by(t.c.seq)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        for seq, turn in rows:
            entry.turns.append(turn_from_dict(_object(turn)))
            entry.seq = seq
            size = len(turn) if isinstance(turn, str) else len(json.dumps(turn))
            entry.size += size
            self._size += size
        self._trim()
        return list(entry.turns)

    async def append(self, owner: str, context_id: str, turns: Sequence[Turn]) -> None:
        if not turns:
            return
        rows = [{"owner": owner, "context_id": context_id, "turn": turn_to_dict(t)} for t in turns]
        async with self._engine.begin() as conn:
            await conn.execute(self._table.insert(), rows)


def _lock_key(owner: str, context_id: str) -> int:
    """A conversation's advisory lock: 64 bits of a hash (a collision only serializes two)."""
    digest = hashlib.blake2b(f"{owner}\0{context_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _AdvisoryLocks:
    """PostgreSQL advisory locks every replica on one database sees, held by this process on
    one connection of its own: taken with `pg_try_advisory_lock` and retried, so a turn
    waiting for another never blocks the connection, and never holds one from the pool.

    Session locks count: a process taking a key twice holds it until released twice, which
    keeps a release that lands after the next turn's acquire (both queued here) correct.
    If the connection breaks, its locks are gone: a warning says so, and the next acquire
    opens a new one.
    """

    def __init__(self, engine: AsyncEngine, poll: float = 0.2) -> None:
        self._engine = engine
        self._poll = poll
        self._conn: AsyncConnection | None = None
        self._use = asyncio.Lock()  # one statement at a time on the connection
        self._pending: set[asyncio.Task[bool]] = set()

    async def _call(self, function: str, key: int) -> bool:
        from sqlalchemy import func, select

        statement = select(getattr(func, function)(key))
        async with self._use:
            if self._conn is None:
                conn = await self._engine.connect()
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                return bool((await self._conn.execute(statement)).scalar())
            except Exception:
                logger.warning("the conversation locks' connection failed; its locks are gone")
                conn, self._conn = self._conn, None
                with contextlib.suppress(Exception):
                    await conn.invalidate()
                    await conn.close()
                raise

    def _shielded(self, call: Coroutine[Any, Any, bool]) -> asyncio.Task[bool]:
        """`call` as a task that a cancelled caller does not stop, kept until done."""
        task = asyncio.ensure_future(call)
        self._pending.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[bool]) -> None:
        self._pending.discard(task)
        if not task.cancelled():
            task.exception()  # seen here, when no caller awaits it any more

    async def acquire(self, key: int) -> None:
        delay = 0.01
        while True:
            attempt = self._shielded(self._call("pg_try_advisory_lock", key))
            try:
                if await asyncio.shield(attempt):
                    return
            except asyncio.CancelledError:
                # Given up while asking: a lock it got must not stay held.
                attempt.add_done_callback(lambda done: self._undo(done, key))
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._poll)

    def _undo(self, attempt: asyncio.Task[bool], key: int) -> None:
        if not attempt.cancelled() and attempt.exception() is None and attempt.result():
            self._shielded(self._call("pg_advisory_unlock", key))

    async def release(self, key: int) -> None:
        with contextlib.suppress(Exception):  # a broken connection released it already
            await asyncio.shield(self._shielded(self._call("pg_advisory_unlock", key)))

    async def aclose(self) -> None:
        if self._pending:
            await asyncio.wait(self._pending, timeout=5)
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


def _object(value: Any) -> dict[str, Any]:
    # Some drivers hand JSON columns back as text.
    return value if isinstance(value, dict) else dict(json.loads(value))

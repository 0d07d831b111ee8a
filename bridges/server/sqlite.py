"""SQLite connections for the stores: each call runs on the event loop's thread.

aiosqlite runs every call (a cursor, a statement, a fetch, a commit) in a thread of its own
and hands the result back through the event loop. For the small statements of a task store
that hop costs more than the statement: a bare a2a-sdk request on SQLite makes about a hundred
of them. Here a call runs where it is awaited, with SQLite's busy timeout at zero, so it never
waits on the event loop's thread; a call that finds the database locked by another connection
(another process on the same file, or a transaction still open across an await) runs again in
the connection's thread, which waits up to `LOCK_WAIT` for the lock while the loop goes on.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import aiosqlite

__all__ = ["LOCK_WAIT", "connect"]

LOCK_WAIT = 60.0
"""How long, in seconds, a statement waits for another connection's lock before it fails."""

# Calls that fail on a lock before they change anything, so running them again is safe; a
# fetch that meets a lock midway (rare in WAL mode) fails instead of skipping rows.
_RETRIED = frozenset({"cursor", "execute", "executemany", "executescript", "commit", "rollback"})


class _InlineConnection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        # Calls handed to the connection's thread and not yet done there: while there are any,
        # later calls queue behind them, so the two threads never use the connection at once
        # (a caller cancelled while its call waits for a lock leaves that call running).
        self._queued = 0
        self._queue_lock = threading.Lock()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        connection = self._connection
        if connection is None or not self._running:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if self._queued:
            return await self._in_thread(fn, *args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or getattr(fn, "__name__", "") not in _RETRIED:
                raise
        return await self._in_thread(_waiting, connection, fn, args, kwargs)

    async def _in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._queue_lock:
            self._queued += 1
        return await super()._execute(self._counted, fn, args, kwargs)  # type: ignore[no-untyped-call]

    def _counted(self, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            with self._queue_lock:
                self._queued -= 1


def _locked(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _waiting(connection: sqlite3.Connection, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """`fn` with SQLite's busy timeout on, in the connection's own thread."""
    connection.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT * 1000)}")
    try:
        return fn(*args, **kwargs)
    finally:
        connection.execute("PRAGMA busy_timeout=0")


def connect(database: str, **kwargs: Any) -> aiosqlite.Connection:
    """An aiosqlite connection to `database` whose calls run inline (SQLAlchemy's
    `async_creator_fn`; `kwargs` go to `sqlite3.connect`), in WAL mode: readers go on while a
    writer writes, and a commit does not wait for the disk (synchronous=NORMAL)."""

    def connector() -> sqlite3.Connection:
        # Runs in the connection's thread, so it may wait for a lock (WAL mode takes one).
        options = {**kwargs, "timeout": LOCK_WAIT, "check_same_thread": False}
        connection: sqlite3.Connection = sqlite3.connect(database, **options)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=0")
        return connection

    inline = _InlineConnection(connector, 64)
    # Its thread must not keep the process alive (aiosqlite before 0.22 was the thread).
    thread: Any = getattr(inline, "_thread", inline)
    thread.daemon = True
    return inline

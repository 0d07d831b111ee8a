"""The SQLite store's connections: calls run on the event loop's thread, and a locked database
is waited for off it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from a2a_bridges.server import sqlite
from a2a_bridges.server.stores import open_stores

pytestmark = pytest.mark.anyio


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    stores = open_stores(f"sqlite:///{tmp_path / 'tasks.db'}")
    assert stores.engine is not None
    async with stores.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (text TEXT)"))
    yield stores.engine
    await stores.aclose()


@asynccontextmanager
async def another_process(engine: AsyncEngine) -> AsyncIterator[None]:
    """The write lock, held by a connection of its own, as another process on the file."""
    connection = sqlite3.connect(str(engine.url.database), isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT INTO notes VALUES ('theirs')")
    try:
        yield
    finally:
        connection.execute("COMMIT")
        connection.close()


@asynccontextmanager
async def open_transaction(engine: AsyncEngine) -> AsyncIterator[None]:
    """The write lock, held by a transaction of the same engine that is open across awaits."""
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO notes VALUES ('theirs')"))
        yield


Holder = Callable[[AsyncEngine], AbstractAsyncContextManager[None]]


async def insert(engine: AsyncEngine, note: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO notes VALUES (:note)"), {"note": note})


async def notes(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return sorted((await conn.execute(text("SELECT text FROM notes"))).scalars())


@pytest.mark.parametrize("holder", [another_process, open_transaction])
async def test_a_write_waits_for_a_lock_while_the_loop_goes_on(
    engine: AsyncEngine, holder: Holder
) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(tick())
    async with holder(engine):
        waiting = asyncio.create_task(insert(engine, "ours"))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # it waits for the lock...
        assert ticks >= 10  # ...and the event loop runs meanwhile
    await asyncio.wait_for(waiting, 10)
    ticking.cancel()
    assert await notes(engine) == ["ours", "theirs"]


async def test_a_write_given_up_while_it_waits_never_stops_the_loop(engine: AsyncEngine) -> None:
    async with another_process(engine):
        waiting = asyncio.create_task(insert(engine, "ours"))
        await asyncio.sleep(0.3)
        # Its call goes on waiting in the connection's thread: what the connection does next
        # (the rollback as it goes back to the pool) must queue there, not wait on the loop.
        waiting.cancel()
        started = time.monotonic()
        await asyncio.sleep(0.2)
        assert time.monotonic() - started < 0.5
        assert await asyncio.wait_for(notes(engine), 5) == []  # another connection reads
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 10)
    assert await notes(engine) == ["theirs"]  # the write given up was rolled back
    await insert(engine, "ours")
    assert await notes(engine) == ["ours", "theirs"]


async def test_a_lock_held_past_the_wait_fails_clearly(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "LOCK_WAIT", 0.2)
    async with another_process(engine):
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            await insert(engine, "ours")
        assert time.monotonic() - started < 5
    assert await notes(engine) == ["theirs"]  # and the lock's holder lost nothing
    await insert(engine, "ours")  # the connection is usable again, with no wait left on
    assert await notes(engine) == ["ours", "theirs"]


async def test_statements_run_on_the_event_loops_thread(engine: AsyncEngine) -> None:
    # A hop to aiosqlite's thread for each call cost more than the statements themselves.
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        raw.driver_connection._conn.create_function("thread", 0, threading.get_ident)
        assert (await conn.execute(text("SELECT thread()"))).scalar() == threading.get_ident()


async def test_the_database_is_in_wal_mode_without_a_busy_wait(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 0

"""Persistent stores keep tasks and conversations across restarts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridges import RemoteAgent, to_a2a
from bridges.stores import open_stores
from bridges.testing import running

pytestmark = pytest.mark.anyio


async def history(conversation) -> str:  # type: ignore[no-untyped-def]
    return " | ".join(t.text for t in conversation.turns if t.role == "user")


async def restart_keeps_conversation(store: str) -> None:
    with running(to_a2a(history, store=store)) as url:
        async with RemoteAgent(url) as remote:
            assert (await remote.send("one")).text == "one"
            context_id, task_id = remote.context_id, remote.task_id
    # A new server on the same store: the task and the conversation are still there.
    with running(to_a2a(history, store=store)) as url:
        async with RemoteAgent(url, context_id=context_id) as remote:
            assert (await remote.get_task(task_id)).status.message.parts[0].text == "one"
            assert (await remote.send("two")).text == "one | two"
        async with RemoteAgent(url) as other:
            assert (await other.send("three")).text == "three"


async def test_sqlite_store_survives_restart(tmp_path: Path) -> None:
    await restart_keeps_conversation(f"sqlite:///{tmp_path / 'tasks.db'}")


async def test_postgres_store_survives_restart() -> None:
    pytest.importorskip("asyncpg")
    import asyncpg

    dsn = os.environ.get("A2A_BRIDGES_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        conn = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"no PostgreSQL at {dsn}: {exc}")
    await conn.execute("DROP TABLE IF EXISTS tasks, a2a_bridges_turns")
    await conn.close()
    await restart_keeps_conversation(dsn.replace("postgresql://", "postgresql+asyncpg://"))


def test_bad_store_url() -> None:
    with pytest.raises(ValueError, match="unsupported store 'redis'"):
        open_stores("redis://127.0.0.1")
    with pytest.raises(ValueError, match="not a store URL"):
        open_stores("tasks.db")

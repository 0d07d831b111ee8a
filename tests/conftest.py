"""Shared fixtures: the async backend, and a PostgreSQL database of the test's own."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

POSTGRES = os.environ.get(
    "A2A_BRIDGES_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def anyio_backend() -> str:
    # a2a-sdk runs on asyncio only.
    return "asyncio"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh database on the PostgreSQL server (never one that exists), dropped afterwards;
    the test skips, saying why, when no server answers."""
    asyncpg = pytest.importorskip("asyncpg")
    try:
        admin = await asyncpg.connect(POSTGRES, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"no PostgreSQL at {POSTGRES}: {exc}")
    name = f"a2a_bridges_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES.rpartition("/")
    try:
        yield f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

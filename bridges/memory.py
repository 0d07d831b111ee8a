"""Conversation memory keyed by (owner, contextId), kept beside the task store."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from bridges.conversation import Turn, turn_from_dict, turn_to_dict

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["InMemoryMemory", "Memory", "SqlMemory"]


class Memory(Protocol):
    """Where the turns of each conversation live."""

    async def load(self, owner: str, context_id: str) -> list[Turn]:
        """The turns of one conversation, oldest first."""
        ...

    async def append(self, owner: str, context_id: str, turns: Sequence[Turn]) -> None:
        """Add turns to the end of one conversation."""
        ...


class InMemoryMemory:
    """Memory for one process; gone when it stops."""

    def __init__(self) -> None:
        self._turns: defaultdict[tuple[str, str], list[Turn]] = defaultdict(list)

    async def load(self, owner: str, context_id: str) -> list[Turn]:
        return list(self._turns.get((owner, context_id), ()))

    async def append(self, owner: str, context_id: str, turns: Sequence[Turn]) -> None:
        self._turns[(owner, context_id)].extend(turns)


class SqlMemory:
    """Memory in a SQL database (SQLite or PostgreSQL), shared by every replica that uses it."""

    def __init__(self, engine: AsyncEngine, table_name: str = "a2a_bridges_turns") -> None:
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
        self._ready = False

    async def _ensure_table(self) -> None:
        if not self._ready:
            async with self._engine.begin() as conn:
                await conn.run_sync(self._metadata.create_all)
            self._ready = True

    async def load(self, owner: str, context_id: str) -> list[Turn]:
        from sqlalchemy import select

        await self._ensure_table()
        t = self._table
        query = (
            select(t.c.turn)
            .where(t.c.owner == owner, t.c.context_id == context_id)
            .order_by(t.c.seq)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).scalars().all()
        return [turn_from_dict(r if isinstance(r, dict) else json.loads(r)) for r in rows]

    async def append(self, owner: str, context_id: str, turns: Sequence[Turn]) -> None:
        if not turns:
            return
        await self._ensure_table()
        rows = [{"owner": owner, "context_id": context_id, "turn": turn_to_dict(t)} for t in turns]
        async with self._engine.begin() as conn:
            await conn.execute(self._table.insert(), rows)

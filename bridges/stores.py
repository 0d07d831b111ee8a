"""Task stores and conversation memory, chosen by a URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from a2a.server.tasks import InMemoryTaskStore, TaskStore

from bridges.memory import InMemoryMemory, Memory, SqlMemory

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["Stores", "open_stores"]


@dataclass
class Stores:
    """Where tasks and conversations are kept."""

    tasks: TaskStore
    memory: Memory
    engine: AsyncEngine | None = None

    async def aclose(self) -> None:
        """Release the database connections, if any."""
        if self.engine is not None:
            await self.engine.dispose()


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


def open_stores(url: str | None) -> Stores:
    """None → in memory; `sqlite:///path.db` or `postgresql+asyncpg://...` → that database."""
    if url is None or url == "memory":
        return Stores(InMemoryTaskStore(), InMemoryMemory())
    engine_url = _engine_url(url)
    try:
        from a2a.server.tasks import DatabaseTaskStore
        from sqlalchemy.ext.asyncio import create_async_engine
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError(f"{url!r} needs SQLAlchemy: pip install 'a2a-bridges[postgres]'") from exc
    if engine_url.startswith("postgresql"):
        try:
            import asyncpg  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                "a PostgreSQL store needs asyncpg: pip install 'a2a-bridges[postgres]'"
            ) from exc
    engine = create_async_engine(engine_url)
    return Stores(DatabaseTaskStore(engine), SqlMemory(engine), engine)

"""Blocking calls into async code, with or without a running event loop in the caller's thread."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

__all__ = ["background_loop", "iterate_sync", "run_sync"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """One daemon thread's event loop, shared by every blocking call of the process.

    A loop that lives as long as the process keeps connections made by blocking calls usable
    from one call to the next, and nothing is left to print "Event loop is closed".
    """
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="a2a-bridges-sync", daemon=True).start()
        return _loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion on the background loop and return its result."""
    return asyncio.run_coroutine_threadsafe(coro, background_loop()).result()


_DONE = object()


def iterate_sync(agen: AsyncIterator[T]) -> Iterator[T]:
    """Iterate an async iterator from blocking code, item by item as they arrive."""
    items: queue.Queue[Any] = queue.Queue()

    async def pump() -> None:
        try:
            async for item in agen:
                items.put(item)
        except BaseException as exc:  # handed to the consuming thread, which re-raises it
            items.put(_Raised(exc))
        finally:
            items.put(_DONE)

    future = asyncio.run_coroutine_threadsafe(pump(), background_loop())
    try:
        while (item := items.get()) is not _DONE:
            if isinstance(item, _Raised):
                raise item.exc
            yield item
    finally:
        future.cancel()


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

"""Blocking calls into async code: one anyio blocking portal, in a daemon thread, for the process.

Connections made by blocking calls live on the portal's event loop, which lives as long as the
process, so they stay usable from one call to the next and nothing is left to print "Event loop
is closed". A daemon thread, so an interpreter that exits never waits for it; at exit its loop
is ended as a loop should be, which closes those connections (no "unclosed transport").
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

import anyio
from anyio.from_thread import BlockingPortal

__all__ = ["iterate_sync", "portal", "run_sync"]

_T = TypeVar("_T")

_lock = threading.Lock()
_portal: BlockingPortal | None = None
_thread: threading.Thread | None = None


def portal() -> BlockingPortal:
    """The process's blocking portal, started on first use."""
    global _portal, _thread
    with _lock:
        if _portal is None:
            ready: Future[BlockingPortal] = Future()

            async def serve() -> None:
                async with BlockingPortal() as started:
                    ready.set_result(started)
                    await started.sleep_until_stopped()

            _thread = threading.Thread(
                target=anyio.run, args=(serve,), name="a2a-bridges-portal", daemon=True
            )
            _thread.start()
            _portal = ready.result()
            atexit.register(_stop)
        return _portal


def _stop() -> None:
    """End the portal's loop: it closes the async generators that hold connections."""
    if _portal is None or _thread is None:
        return
    with contextlib.suppress(Exception):
        _portal.call(_portal.stop, True)
    _thread.join(timeout=5)


def run_sync(fn: Callable[..., Awaitable[_T]], *args: Any) -> _T:
    """`await fn(*args)` on the portal's loop, blocking until it is done."""
    return portal().call(fn, *args)


async def _next(items: AsyncIterator[_T]) -> tuple[bool, _T | None]:
    try:
        return True, await items.__anext__()
    except StopAsyncIteration:
        return False, None


async def _close(items: AsyncIterator[Any]) -> None:
    aclose = getattr(items, "aclose", None)
    if aclose is not None:
        await aclose()


def iterate_sync(items: AsyncIterator[_T]) -> Iterator[_T]:
    """Iterate an async iterator from blocking code, item by item as they arrive.

    The iterator runs on the portal's loop; leaving the loop early closes it there.
    """
    done = False
    try:
        while True:
            more, item = run_sync(_next, items)
            if not more:
                done = True
                return
            yield item  # type: ignore[misc]
    finally:
        if not done:
            run_sync(_close, items)

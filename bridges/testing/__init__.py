"""Serving an app on a loopback port for the length of a test or a scenario."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["running"]


@contextlib.contextmanager
def running(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    startup_timeout: float = 15.0,
    keep_alive: int = 5,
) -> Iterator[str]:
    """Run `app` under uvicorn on an ephemeral port in a background thread; yield its URL.
    `keep_alive` is how many seconds an idle connection stays open (uvicorn's default)."""
    # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on sockets that say so, and without it
    # every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=keep_alive,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

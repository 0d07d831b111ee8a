"""Serves one participant in a process of its own: `python -m a2a_bridges.scenarios.process SPEC`.

SPEC is JSON: the participant's fields, the real `model` it runs on (or null), and `record`,
the JSON-lines file its exchanges and notes are recorded into. The URL is printed on the first
line of stdout once the server listens; SIGTERM stops it.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import uvicorn

from a2a_bridges.scenarios.model import Participant
from a2a_bridges.scenarios.serving import serve_app

__all__ = ["main"]
from a2a_bridges.scenarios.transcript import JsonlSink


def main(argv: list[str]) -> int:
    """Serve the participant until terminated."""
    spec = json.loads(argv[0])
    sink = JsonlSink(Path(spec.pop("record")))
    model = spec.pop("model")
    app = serve_app(Participant(**spec), model, sink)
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    # The parent reads the URL only once the socket listens, so its first request connects.
    sock.listen(128)
    print(f"http://127.0.0.1:{port}", flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

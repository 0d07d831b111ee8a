"""The shape every interop driver shares, and how a cell is judged.

A driver is a small script run by one peer's own virtualenv (one a2a-sdk per environment, and
never a2a-bridges itself, so the peer is tested alone). It names its `Peer`: the clients it
drives and the servers it serves, each with what the peer itself cannot do. Its command line:

    python -m interop.peers.NAME describe                 # versions, clients, servers (JSON)
    python -m interop.peers.NAME serve SERVER PORT GRPC_PORT  # first prints `describe`'s line
    python -m interop.peers.NAME call CLIENT[,CLIENT...] URL...  # the same, then a cell a line

(from the repository's root, as a module, so that a driver's file shadows no package).

Only the standard library here: the peers' environments have nothing else in common. The
scripted behaviour every served agent follows is the project's own (a2a_bridges.testing.script),
loaded from its file so that every peer's agent answers each message exactly as ours do.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import sys
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = [
    "FEATURES",
    "TALKS",
    "Client",
    "Peer",
    "Seen",
    "Server",
    "Talk",
    "judge",
    "main",
    "script",
]

ROOT = Path(__file__).resolve().parent.parent


def _load_script() -> ModuleType:
    path = ROOT / "bridges" / "testing" / "script.py"
    spec = importlib.util.spec_from_file_location("interop_script", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


script = _load_script()
"""The deterministic script (`respond`, `chunks`, `FAILURE`, `VERDICT`)."""


@dataclass(frozen=True)
class Talk:
    """What a caller says for one feature, in one conversation."""

    texts: tuple[str, ...]
    stream: bool = False
    data: bool = False  # the caller asks for a structured answer


TALKS: dict[str, Talk] = {
    "single turn": Talk(("echo hello",)),
    "multi-turn": Talk(("remember kiwi", "recall")),
    "streaming": Talk(("stream",), stream=True),
    "agent error": Talk(("fail now",)),
    "data part": Talk(("data",), data=True),
}
FEATURES = tuple(TALKS)
STREAMED = "Four frameworks, one protocol, streamed word by word."


@dataclass
class Seen:
    """What a caller got back for one message, as its user would see it: the text shown, a
    structured value, the streamed pieces, or the error raised."""

    text: str = ""
    data: Any = None
    deltas: list[str] = field(default_factory=list)
    error: str | None = None


Ask = Callable[[str, Talk], Awaitable[list[Seen]]]
"""Says `talk.texts` in one new conversation with the agent at the URL; one `Seen` each."""


@dataclass(frozen=True)
class Client:
    """A peer's client, and the features it cannot do at all (feature -> why)."""

    ask: Ask
    cannot: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Server:
    """A peer's server: `make(url, grpc)` gives the ASGI app whose card names `url` (and the
    gRPC address `grpc`, where it serves gRPC); `cannot` as for a client."""

    make: Callable[[str, str], Any]
    cannot: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Peer:
    """One peer: the distributions whose versions the matrix names, its clients, its servers."""

    packages: Sequence[str]
    clients: Mapping[str, Client] = field(default_factory=dict)
    servers: Mapping[str, Server] = field(default_factory=dict)
    notes: Sequence[str] = ()
    """What the matrix should say about how the peer was driven."""


def _line(text: str, limit: int = 160) -> str:
    first = " ".join(text.split())
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _got(seen: Seen) -> str:
    if seen.error is not None:
        return f"raised {_line(seen.error, 120)}"
    if seen.data is not None:
        return f"got data {_line(json.dumps(seen.data, default=str), 120)}"
    # repr, not one line: how the text is broken up is often the finding.
    return f"got {seen.text[:120]!r}" if seen.text else "got no text"


def _once(seen: Seen, expected: str) -> str | None:
    """Why `expected` was not shown exactly once, or None."""
    if seen.error is not None or expected not in seen.text:
        return _got(seen)
    if (n := seen.text.count(expected)) > 1:
        return f"the answer is shown {n} times: {_line(seen.text, 120)!r}"
    return None


def judge(feature: str, seen: Sequence[Seen]) -> str | None:
    """Why the cell failed, in one line, or None when it passed."""
    last = seen[-1]
    if feature == "single turn":
        return _once(last, "echo: hello")
    if feature == "multi-turn":
        return _once(last, "You asked me to remember kiwi.")
    if feature == "streaming":
        if (why := _once(last, STREAMED)) is not None:
            return why
        if len(last.deltas) < 2:
            return f"not streamed: {len(last.deltas)} piece(s) before the end"
        joined = "".join(last.deltas).strip()
        return None if joined == STREAMED else f"the streamed pieces join to {_line(joined)!r}"
    if feature == "agent error":
        # A caller whose framework answers only in text (AG2's chats) shows the failure as text.
        shown = last.error if last.error is not None else last.text
        if last.error is None and script.FAILURE not in shown:
            return f"no error reported: {_got(last)}"
        if "Traceback" in shown:
            return f"a traceback reached the caller: {_line(shown)}"
        return None if script.FAILURE in shown else f"the reason is lost: {_line(shown)}"
    if feature == "data part":
        if last.error is None and last.data == script.VERDICT:
            return None
        try:
            if last.error is None and json.loads(last.text) == script.VERDICT:
                return None
        except ValueError:
            pass
        return _got(last)
    raise ValueError(f"no feature {feature!r}")


async def _cell(client: Client, url: str, feature: str) -> tuple[str, str]:
    if feature in client.cannot:
        return "n/a", client.cannot[feature]
    try:
        seen = await asyncio.wait_for(client.ask(url, TALKS[feature]), timeout=45)
    except TimeoutError:
        return "failed", "no answer in 45 s"
    except Exception as exc:  # what a peer raises is the cell's finding
        seen = [Seen(error=f"{type(exc).__name__}: {exc}")]
    why = judge(feature, seen)
    return ("passed", "") if why is None else ("failed", why)


async def _call(clients: Mapping[str, Client], urls: Sequence[str]) -> None:
    """Each client calls each URL in turn, the clients at the same time."""

    async def one(name: str, client: Client) -> None:
        for url in urls:
            for feature in FEATURES:
                result, reason = await _cell(client, url, feature)
                cell = {"client": name, "url": url, "feature": feature, "result": result}
                print(json.dumps({**cell, "reason": reason}), flush=True)

    await asyncio.gather(*(one(name, client) for name, client in clients.items()))


def _versions(packages: Sequence[str]) -> dict[str, str]:
    found = {}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _describe(peer: Peer) -> dict[str, Any]:
    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "versions": _versions(peer.packages),
        "clients": {name: dict(c.cannot) for name, c in peer.clients.items()},
        "servers": {name: dict(s.cannot) for name, s in peer.servers.items()},
        "notes": list(peer.notes),
    }


def _serve(server: Server, port: int, grpc_port: int) -> None:
    import uvicorn  # every peer's environment has it (interop/peers.py adds it)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    app = server.make(f"http://127.0.0.1:{port}", f"127.0.0.1:{grpc_port}")
    config = uvicorn.Config(app, log_level="error", lifespan="auto")
    uvicorn.Server(config).run(sockets=[sock])


def main(peer: Peer, argv: Sequence[str] | None = None) -> int:
    """Run a driver's command line (see the module's docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args else ""
    try:
        if command == "describe":
            print(json.dumps(_describe(peer)))
        elif command == "serve":
            name, port, grpc_port = args
            print(json.dumps({"describe": _describe(peer)}), flush=True)
            _serve(peer.servers[name], int(port), int(grpc_port))
        elif command == "call":
            names, *urls = args
            clients = {n: peer.clients[n] for n in names.split(",")}
            print(json.dumps({"describe": _describe(peer)}), flush=True)
            asyncio.run(_call(clients, urls))
        else:
            usage = "describe | serve SERVER PORT GRPC_PORT | call CLIENT[,CLIENT...] URL..."
            print(f"usage: {sys.argv[0]} {usage}", file=sys.stderr)
            return 2
    except (KeyError, ValueError) as exc:
        print(f"{sys.argv[0]}: {type(exc).__name__}: {exc}", file=sys.stderr)
        traceback.print_exc()
        return 2
    return 0

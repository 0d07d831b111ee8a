"""The interoperability matrix: every peer's client against our servers, our clients against
every peer's server, each pair over every feature; docs/interop.json and docs/interop.md.

`nox -s interop` runs it. Each peer gets a virtualenv of its own under the nox folder, built
from the package index and kept for the next run; every server and every client is a process
of its own on 127.0.0.1. A failing cell is the peer's own (not applicable) when the same peer
fails it against the bare a2a-sdk 1.x counterpart too.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interop.driver import FEATURES

ROOT = Path(__file__).resolve().parent.parent

OURS = "a2a-bridges"
BARE = "a2a-sdk 1.x"


@dataclass(frozen=True)
class Peer:
    """A peer: its driver (interop/peers/DRIVER.py), what its virtualenv needs, and the names
    its driver gives the clients and servers it brings (`NAME KEY` in the matrix)."""

    name: str
    driver: str
    requires: tuple[str, ...]
    clients: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()

    def label(self, key: str) -> str:
        return f"{self.name} {key}"


PEERS = [
    Peer(
        BARE,
        "a2a_sdk",
        ("a2a-sdk[http-server,grpc]>=1.3,<2",),
        clients=("JSON-RPC", "HTTP+JSON", "gRPC"),
        servers=("JSON-RPC", "HTTP+JSON", "gRPC"),
    ),
    Peer(
        "a2a-sdk 0.3",
        "a2a_sdk_03",
        ("a2a-sdk[http-server]>=0.3,<0.4",),
        clients=("JSON-RPC",),
        servers=("JSON-RPC",),
    ),
    Peer(
        "AG2 classic",
        "autogen",
        ("autogen[a2a]>=0.14", "a2a-sdk[http-server]>=1.3,<2"),
        clients=("A2aRemoteAgent",),
        servers=("A2aAgentServer",),
    ),
    Peer(
        "ag2 1.x",
        "ag2",
        ("ag2[a2a]>=1.2", "a2a-sdk[http-server]>=1.3,<2"),
        clients=("A2AConfig",),
        servers=("A2AServer",),
    ),
    Peer(
        "fasta2a",
        "fasta2a",
        ("fasta2a[pydantic-ai]>=2.1", "httpx>=0.28"),  # its client needs httpx, unlisted
        clients=("A2AClient",),
        servers=("agent_to_a2a",),
    ),
    Peer("langgraph-a2a", "langgraph_a2a", ("langgraph-a2a>=0.1",), servers=("graph",)),
    Peer(
        "google-adk",
        "google_adk",
        ("google-adk[a2a]>=2.13",),
        clients=("RemoteA2aAgent",),
        servers=("to_a2a",),
    ),
    Peer(
        "strands-agents",
        "strands",
        ("strands-agents[a2a]>=1.62",),
        clients=("A2AAgent",),
        servers=("A2AServer",),
    ),
]
BARE_CLIENT = "any"  # the bare a2a-sdk 1.x client, on whatever transport the card offers first
BARE_SERVER = "all"  # the bare a2a-sdk 1.x server, on every transport and both versions
BARE_LABEL = f"{BARE} (bare)"


@dataclass(frozen=True)
class Cell:
    direction: str  # "to us" (a peer's client, our server) or "from us"
    client: str
    server: str
    feature: str
    result: str  # passed, failed, n/a
    reason: str = ""


# --- environments ---


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise SystemExit("interop needs uv (pip install uv)")
    return found


def build_env(peer: Peer, envs: Path, *, upgrade: bool) -> tuple[str, str | None]:
    """The peer's Python, and why its environment could not be built (or None)."""
    env = envs / peer.driver
    python = env / "bin" / "python"
    if not python.exists():
        made = subprocess.run(
            [_uv(), "venv", "-q", "--python", sys.executable, str(env)],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            return str(python), _tail(made.stderr)
    command = [_uv(), "pip", "install", "-q", "--python", str(python), "uvicorn>=0.30"]
    done = subprocess.run(
        [*command, *peer.requires, *(["--upgrade"] if upgrade else [])],
        capture_output=True,
        text=True,
    )
    return str(python), _tail(done.stderr) if done.returncode != 0 else None


def _tail(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


# --- processes ---


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _card(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{url}/.well-known/agent-card.json", timeout=2) as response:
            card: dict[str, Any] = json.loads(response.read())
            return card
    except (OSError, ValueError):
        return None


def _module(driver: str) -> list[str]:
    """How to run a driver: as a module, so that its file's name shadows no package."""
    return ["-m", "interop.ours" if driver == "ours" else f"interop.peers.{driver}"]


def _described(output: str) -> dict[str, Any] | None:
    """The `describe` line a driver prints first when it serves or calls."""
    for line in output.splitlines():
        if line.startswith('{"describe"'):
            found: dict[str, Any] = json.loads(line)["describe"]
            return found
    return None


@dataclass
class Spec:
    """A server to run: its label in the matrix, its driver, its command and its port."""

    label: str
    driver: str
    command: list[str]
    port: int
    failure: str | None = None  # why it never answered
    described: dict[str, Any] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serving(specs: Sequence[Spec], logs: Path) -> Iterator[None]:
    """Run the servers until the block ends: all start at once, then each is waited for."""
    with ExitStack() as stack:
        started = []
        for spec in specs:
            log = logs / f"server {spec.label}.log".replace("/", "_")
            with log.open("w") as out:
                command = spec.command
                process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
            stack.callback(_stop, process)
            started.append((spec, process, log))
        deadline = time.monotonic() + 240
        for spec, process, log in started:
            while _card(spec.url) is None:
                if process.poll() is not None or time.monotonic() > deadline:
                    spec.failure = f"the server did not start: {_tail(log.read_text())}"
                    break
                time.sleep(0.2)
            spec.described = _described(log.read_text())
        yield


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def call(
    python: str, driver: str, clients: Sequence[str], urls: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, str]:
    """A driver's clients' cells against each URL, what it says of itself, its error output."""
    done = subprocess.run(
        [python, *_module(driver), "call", ",".join(clients), *urls],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1200,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"client"')]
    return [json.loads(line) for line in lines], _described(done.stdout), done.stderr


# --- the run ---


@dataclass
class Side:
    """One direction: its servers, and the clients (driver, key, label) that call them."""

    direction: str
    servers: list[Spec] = field(default_factory=list)
    clients: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Found:
    """What the run found: the cells, and what each driver said of itself."""

    cells: list[Cell] = field(default_factory=list)
    described: dict[str, dict[str, Any]] = field(default_factory=dict)


def _failed_servers(side: Side) -> list[Cell]:
    return [
        Cell(side.direction, label, spec.label, feature, "failed", spec.failure)
        for _, _, label in side.clients
        for spec in side.servers
        if spec.failure is not None
        for feature in FEATURES
    ]


def _drive(side: Side, driver: str, python: str, logs: Path) -> tuple[list[Cell], Any]:
    """One driver's clients against the side's servers that answered."""
    up = {spec.url: spec.label for spec in side.servers if spec.failure is None}
    labels = {key: label for d, key, label in side.clients if d == driver}
    found, described, errors = call(python, driver, list(labels), list(up))
    (logs / f"client {driver} {side.direction}.log").write_text(errors)
    got = {(c["client"], c["url"], c["feature"]): c for c in found}
    cells = []
    for key, label in labels.items():
        for url, server in up.items():
            for feature in FEATURES:
                c = got.get((key, url, feature))
                result, reason = (c["result"], c["reason"]) if c else ("failed", _tail(errors))
                cells.append(Cell(side.direction, label, server, feature, result, reason))
    return cells, described


def _run_clients(sides: Sequence[Side], pythons: dict[str, str], logs: Path) -> Found:
    """Every driver's clients, a few drivers at a time, one process each per direction."""
    found = Found()
    jobs = [(side, d) for side in sides for d in dict.fromkeys(d for d, _, _ in side.clients)]
    for side in sides:
        found.cells += _failed_servers(side)
        for spec in side.servers:
            if spec.described is not None:
                found.described.setdefault(spec.driver, spec.described)
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = pool.map(lambda job: _drive(job[0], job[1], pythons[job[1]], logs), jobs)
        for (_, driver), (cells, described) in zip(jobs, done, strict=True):
            found.cells += cells
            if described is not None:
                found.described.setdefault(driver, described)
    return found


def attribute(cells: list[Cell], declared: dict[str, dict[str, str]]) -> list[Cell]:
    """Cells with the peer's own limitations as not applicable: those a server declares, and
    failures its bare a2a-sdk counterpart shares."""
    by_key = {(c.direction, c.client, c.server, c.feature): c for c in cells}
    out = []
    for c in cells:
        if (why := declared.get(c.server, {}).get(c.feature)) is not None:
            c = Cell(c.direction, c.client, c.server, c.feature, "n/a", why)
        elif c.result == "failed":
            if c.direction == "to us":
                other = by_key.get((c.direction, c.client, BARE_LABEL, c.feature))
                where = "against the bare a2a-sdk 1.x server"
            else:
                other = by_key.get((c.direction, BARE_LABEL, c.server, c.feature))
                where = "with the bare a2a-sdk 1.x client"
            if other is not None and other is not c and other.result == "failed":
                reason = f"fails {where} too ({other.reason})"
                if other.reason != c.reason:
                    reason += f"; here: {c.reason}"
                c = Cell(c.direction, c.client, c.server, c.feature, "n/a", reason)
        out.append(c)
    return out


def _ours() -> list[str]:
    """Our adapters that have a scripted participant (importing each adapter's framework)."""
    from a2a_bridges.registry import registered

    return [e.name for e in registered() if e.adapter is not None and e.adapter.participant]


def _sides(installed: Sequence[Peer], pythons: dict[str, str]) -> tuple[Side, Side]:
    """The peers' servers and clients, in the direction each goes."""
    to_us, from_us = Side("to us"), Side("from us")
    for peer in installed:
        servers = [(key, peer.label(key), from_us) for key in peer.servers]
        if peer.name == BARE:
            servers.append((BARE_SERVER, BARE_LABEL, to_us))
            from_us.clients.append((peer.driver, BARE_CLIENT, BARE_LABEL))
        for key, label, side in servers:
            port = _free_port()
            serve = [pythons[peer.driver], *_module(peer.driver), "serve", key, str(port)]
            side.servers.append(Spec(label, peer.driver, [*serve, str(_free_port())], port))
        to_us.clients += [(peer.driver, key, peer.label(key)) for key in peer.clients]
    return to_us, from_us


def _add_ours(to_us: Side, from_us: Side) -> None:
    ours = _ours()
    a2a_bridges = str(Path(sys.executable).parent / "a2a-bridges")
    for framework in ours:
        port = _free_port()
        command = [a2a_bridges, "serve", f"interop/ours.py:{framework}", "--port", str(port)]
        command += ["--grpc-port", str(_free_port()), "--store", "memory"]
        to_us.servers.append(Spec(f"{OURS} {framework}", "ours", command, port))
    from_us.clients += [("ours", key, f"{OURS} {key}") for key in ["RemoteAgent", *ours]]


def run(envs: Path, logs: Path, *, upgrade: bool = False) -> dict[str, Any]:
    """Build the environments, run every pair, and return the matrix as JSON-ready data."""
    started = time.monotonic()
    logs.mkdir(parents=True, exist_ok=True)
    pythons, broken = {"ours": sys.executable}, {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        built = list(pool.map(lambda peer: build_env(peer, envs, upgrade=upgrade), PEERS))
    for peer, (python, why) in zip(PEERS, built, strict=True):
        if why is None:
            pythons[peer.driver] = python
        else:
            broken[peer.name] = f"not installable here: {why}"
    installed = [peer for peer in PEERS if peer.driver in pythons]
    to_us, from_us = _sides(installed, pythons)
    with serving(from_us.servers, logs):  # the peers' servers start while ours are looked up
        _add_ours(to_us, from_us)
        with serving(to_us.servers, logs):
            found = _run_clients([to_us, from_us], pythons, logs)
    described = found.described
    declared = {
        peer.label(key): described.get(peer.driver, {}).get("servers", {}).get(key, {})
        for peer in installed
        for key in peer.servers
    }
    names = {peer.driver: peer.name for peer in installed} | {"ours": OURS}
    return {
        "generated": datetime.date.today().isoformat(),
        "command": "nox -s interop",
        "seconds": round(time.monotonic() - started),
        "versions": {
            names[d]: {"python": found["python"], **found["versions"]}
            for d, found in sorted(described.items(), key=lambda item: names[item[0]])
        },
        "not_installable": broken,
        "notes": {names[d]: found["notes"] for d, found in described.items() if found["notes"]},
        "features": list(FEATURES),
        "cells": [
            {**c.__dict__, "reference": BARE_LABEL in (c.client, c.server)}
            for c in attribute(found.cells, declared)
        ],
    }


# --- the report ---

_DIRECTIONS = {"to us": "Peer clients → our servers", "from us": "Our clients → peer servers"}


def _counts(cells: Sequence[dict[str, Any]]) -> str:
    found = {r: sum(c["result"] == r for c in cells) for r in ("passed", "failed", "n/a")}
    return ", ".join(f"{n} {r}" for r, n in found.items())


def _pair(cell: dict[str, Any]) -> str:
    return f"{cell['client']} → {cell['server']}"


_REFERENCE = "reference: a failure here makes ours not applicable"


def _table(cells: Sequence[dict[str, Any]], features: Sequence[str], notes: list[Any]) -> list[str]:
    """Pairs by features; each cell that did not pass links to its reason in `notes`."""
    lines = ["| pair | " + " | ".join(features) + " |", "|---" * (len(features) + 1) + "|"]
    pairs: dict[str, dict[str, str]] = {}
    for c in cells:
        mark = c["result"]
        if mark != "passed":
            notes.append(c)
            mark += f" [{len(notes)}](#r{len(notes)})"
        pairs.setdefault(_pair(c), {})[c["feature"]] = mark
    for pair, row in pairs.items():
        lines.append(f"| {pair} | " + " | ".join(row.get(f, "") for f in features) + " |")
    return lines


def render(matrix: dict[str, Any]) -> str:
    """docs/interop.md from the matrix's JSON."""
    features = matrix["features"]
    lines = [
        "# Interoperability matrix",
        "",
        f"Generated by `{matrix['command']}` on {matrix['generated']} from a real run "
        f"({matrix['seconds']} s): each server and each client a process of its own on "
        "127.0.0.1, each peer in a virtualenv of its own built from the package index. "
        "Do not edit: run the session again. The same cells, as data: `docs/interop.json`.",
        "",
        "A cell is *passed*, *failed* (ours to fix; the reason says what the caller got), or "
        "*n/a*: the peer itself cannot, because it says so or because it fails the same way "
        "against the bare a2a-sdk 1.x counterpart (the bare server for a peer's client, the bare "
        "client for a peer's server).",
        "",
        "## Versions",
        "",
        "| peer | versions |",
        "|---|---|",
    ]
    for peer, found in matrix["versions"].items():
        lines.append(f"| {peer} | {', '.join(f'{k} {v}' for k, v in found.items())} |")
    for peer, said in matrix["notes"].items():
        lines += ["", f"{peer}: " + " ".join(said)]
    if matrix["not_installable"]:
        lines += ["", "## Not installable here", ""]
        lines += [f"- {peer}: {why}" for peer, why in matrix["not_installable"].items()]
    notes: list[dict[str, Any]] = []
    for direction, title in _DIRECTIONS.items():
        cells = [c for c in matrix["cells"] if c["direction"] == direction]
        ours = [c for c in cells if not c["reference"]]
        lines += ["", f"## {title}", "", f"{_counts(ours)}.", ""]
        lines += _table(ours, features, notes)
        lines += ["", f"The same peers with the bare a2a-sdk 1.x counterpart ({_REFERENCE}):", ""]
        lines += _table([c for c in cells if c["reference"]], features, notes)
    lines += [
        "",
        "## Reasons",
        "",
        "| # | pair | feature | result | reason |",
        "|---|---|---|---|---|",
    ]
    for n, c in enumerate(notes, 1):
        reason = c["reason"].replace("|", "\\|")
        lines.append(
            f'| <a id="r{n}"></a>{n} | {_pair(c)} | {c["feature"]} | {c["result"]} | {reason} |'
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the matrix; write docs/interop.json and docs/interop.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=Path, default=ROOT / ".nox" / "interop-peers")
    parser.add_argument("--upgrade", action="store_true", help="upgrade the peers' packages")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    logs = args.envs.parent / "interop-logs"  # each server's and client's output, last run
    shutil.rmtree(logs, ignore_errors=True)
    matrix = run(args.envs, logs, upgrade=args.upgrade)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "interop.json").write_text(json.dumps(matrix, indent=1, ensure_ascii=False) + "\n")
    (args.out / "interop.md").write_text(render(matrix))
    for direction, title in _DIRECTIONS.items():
        cells = [c for c in matrix["cells"] if c["direction"] == direction and not c["reference"]]
        print(f"{title}: {_counts(cells)}")
    print(f"{matrix['seconds']} s; servers' and clients' output in {logs}")
    ours = [c for c in matrix["cells"] if c["result"] == "failed" and not c["reference"]]
    for c in ours:
        print(f"FAILED {_pair(c)}, {c['feature']}: {c['reason']}", file=sys.stderr)
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())

"""Instructions a request, ours beside each floor: the same ratios as `throughput`, free of the
machine's noise. Each server runs in-process under valgrind's callgrind, driven by direct ASGI
calls (no sockets, no load generator); only the measured requests are counted.

    python -m benchmarks.instructions [--out FILE] [--requests N] [--only KIND ...] [--quick]

Instructions are not time (a cache miss or a system call costs more than an instruction), but
they repeat to the last digit whatever else the machine does, so a change of 1% shows.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.agents import FRAMEWORKS, installed
from benchmarks.servers import ABLATIONS, ALL, LAYERS

PAIRS = [("bare-echo", "ours-echo", "function: ours / protocol floor")] + [
    (f"floor-{fw}", f"ours-{fw}", f"{fw}: ours / framework floor") for fw in FRAMEWORKS
]
PAIRS.append(("bare-echo@sqlite-wal", "ours-echo@sqlite", "SQLite: ours / tuned store floor"))
PAIRS += [
    ("bare-echo", f"ours-echo-without-{layer}", f"function without {layer}: ours / protocol floor")
    for layer in ABLATIONS
]
"""(floor, ours, label): the server kinds of `benchmarks.servers` compared (`KIND@STORE`: on
that store, in memory without one); the last ones take layers out of ours, one at a time and
then all, to show where ours' extra instructions go."""

WARMUP = 30


def _body() -> bytes:
    message = {"role": "ROLE_USER", "messageId": uuid.uuid4().hex, "parts": [{"text": "hello"}]}
    request = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}
    return json.dumps(request).encode()


async def _post(app: Any, body: bytes) -> None:
    """One JSON-RPC SendMessage, as uvicorn would hand it to the app; it must complete."""
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"a2a-version", b"1.0"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages, None) or await asyncio.Future()  # no disconnect: wait forever

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    answer = b"".join(m.get("body", b"") for m in sent)
    if sent[0].get("status") != 200 or b"COMPLETED" not in answer:
        raise RuntimeError(f"the server did not complete the task: {answer[:300]!r}")


async def _started(app: Any) -> asyncio.Task[None]:
    """The app's lifespan, started; the task holds it open."""
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    inbox.put_nowait({"type": "lifespan.startup"})
    ready = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            ready.set()

    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, send)
    )
    await ready.wait()
    return task


async def _child(kind: str, requests: int, mark: Path) -> None:
    """In valgrind: warm up, say so, wait for counting to start, send the counted requests."""
    from benchmarks.servers import app, store_url

    kind, _, store = kind.partition("@")
    url = store_url(store, mark.parent) if store else None
    server = app(kind, url, tuned=store == "sqlite-wal")
    _lifespan = await _started(server)  # held: an unreferenced task may be collected
    for _ in range(WARMUP):
        await _post(server, _body())
    bodies = [_body() for _ in range(requests)]
    # A full collection walks the whole heap (a hundred thousand objects, most of them
    # imports); whether one falls among the counted requests is chance, and it moved a count
    # by 4%. After this one, none does at 100 requests: what is counted is the requests' work.
    gc.collect()
    mark.touch()
    go = mark.with_suffix(".go")
    while not go.exists():
        time.sleep(0.02)
    for body in bodies:
        await _post(server, body)
    os._exit(0)  # counting ends here; the shutdown is not measured


def count(kind: str, requests: int) -> int:
    """Instructions a request for one server kind."""
    with tempfile.TemporaryDirectory() as folder:
        mark = Path(folder) / "warm"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={folder}/callgrind.out",
            sys.executable,
            "-m",
            "benchmarks.instructions",
            "--child",
            kind,
            str(requests),
            str(mark),
        ]
        log_path = Path(folder) / "valgrind.log"
        # To a file, not a pipe: a pipe nobody reads until the end can fill and stall the child.
        with log_path.open("w") as log_file:
            child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log_file)
            while not mark.exists() and child.poll() is None:
                time.sleep(0.1)
            if child.poll() is None:
                subprocess.run(
                    ["callgrind_control", "-i", "on", str(child.pid)],
                    check=True,
                    capture_output=True,
                )
                mark.with_suffix(".go").touch()
            child.wait()
        log = log_path.read_text()
    found = re.search(r"Collected : (\d+)", log)
    if child.returncode != 0 or found is None:
        raise RuntimeError(f"{kind} failed under valgrind:\n{log[-2000:]}")
    return int(found.group(1)) // requests


def run(pairs: list[tuple[str, str, str]], requests: int) -> dict[str, Any]:
    """The report: a table of instructions a request, and a ratio for each pair."""
    started = time.monotonic()
    kinds = list(dict.fromkeys(k for floor, ours, _ in pairs for k in (floor, ours)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = dict(zip(kinds, pool.map(lambda k: count(k, requests), kinds), strict=True))
    rows = [[kind, round(counts[kind] / 1e6, 3)] for kind in kinds]
    ratios = [
        {
            "label": f"{label}, instructions a request",
            "ratio": round(counts[ours] / counts[floor], 3),
            "target": None,
            "note": f"lower is better; {counts[ours]:,} vs {counts[floor]:,}",
        }
        for floor, ours, label in pairs
    ]
    return {
        "title": "Instructions a request: ours beside the floors",
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m benchmarks.instructions --requests {requests}",
        "seconds": round(time.monotonic() - started),
        "environment": {"python": sys.version.split()[0], "valgrind": _valgrind()},
        "tables": [
            {
                "caption": f"Instructions a request (millions), {requests} requests after {WARMUP}",
                "columns": ["server", "M instructions/request"],
                "rows": rows,
            }
        ],
        "ratios": ratios,
        "notes": [
            "In-process ASGI calls under callgrind: the HTTP server and the client are not "
            "counted, so these ratios are larger than those of requests/s over HTTP, where "
            "uvicorn's own work is the same on both sides.",
            "Each server collects its garbage just before the counted requests, so no full "
            "collection (a walk of the whole heap, most of it imported modules) falls among them: "
            "one landing in one count and not in the other had moved a ratio by 4%. The "
            "young-generation collections the requests' own allocations cause are counted; the "
            "share of full collections a server pays as its heap grows is not, and throughput "
            "(real servers over time) includes it.",
            "'function without LAYER' is ours-echo with one layer taken out, the bare SDK's own "
            "in its place where it has one (benchmarks.servers.ours_without): "
            + "; ".join(f"{name}: {what}" for name, what in LAYERS.items())
            + f"; '{ALL}': all of them. What a layer costs is ours' ratio minus that row's.",
        ],
    }


def _valgrind() -> str:
    return subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the report here (JSON)")
    parser.add_argument("--requests", type=int, help="requests counted a server (default 100)")
    parser.add_argument("--quick", action="store_true", help="20 requests a server: a smoke run")
    parser.add_argument("--only", nargs="+", help="only the pairs whose floor or ours is KIND")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, requests, mark = args.child
        asyncio.run(_child(kind, int(requests), Path(mark)))
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.exit(2, "benchmarks.instructions: valgrind is not installed\n")
    pairs = [p for p in PAIRS if not args.only or {p[0], p[1]} & set(args.only)]
    framework = {f"floor-{fw}": fw for fw in FRAMEWORKS}
    pairs = [p for p in pairs if p[0] not in framework or installed(framework[p[0]])]
    report = run(pairs, args.requests or (20 if args.quick else 100))
    for ratio in report["ratios"]:
        print(f"  {ratio['ratio']:.3f}  {ratio['label']}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()

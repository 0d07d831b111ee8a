"""The servers the benchmarks measure, each run in a process of its own:
`python -m benchmarks.servers KIND --port PORT [--store STORE] [--upstream URL] [--profile FILE]`,
STORE one of memory, sqlite, sqlite-wal (a bare server's SQLite tuned as ours is), postgres.

Kinds:
- `http-floor`: a bare Starlette JSON endpoint that answers a completed task (no A2A at all);
- `bare-echo` / `ours-echo`: the protocol floor (a bare a2a-sdk executor that echoes) and a
  plain function served by us; on `--store sqlite` they are the store floor and ours on SQLite;
- `bare-counter` / `ours-counter`: they answer `seen N`, the number of user turns in the
  conversation (ours from its memory, the bare one from a dict in the process);
- `floor-FW` / `ours-FW` for FW in pydantic_ai, langchain, autogen, ag2, adk: the framework
  floor (a bare a2a-sdk executor making the framework's own call on the echo agent of
  `agents.py`), and the same agent served by `to_a2a` (google-adk's, which we have no adapter
  for, as a function making that call);
- `peer-autogen` (AG2 classic's `A2aAgentServer`), `peer-ag2` (ag2 1.x's `A2AServer`),
  `peer-fasta2a` (fasta2a's `agent_to_a2a` on the Pydantic AI agent), `peer-adk` (google-adk's
  `to_a2a` on the ADK agent): peers serving the agent;
- `proxy` / `floor-proxy` (`--upstream URL`): `to_a2a(RemoteAgent(URL))`, and a bare a2a-sdk
  executor forwarding each message with the SDK's own client;
- `ours-echo-without-LAYER[+LAYER...]`, LAYER one of `LAYERS`: ours-echo with those layers
  taken out or replaced by the bare SDK's, to show what each costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import inspect
import mmap
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from a2a.helpers.proto_helpers import new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Part, TaskState
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a2a_bridges import Conversation, RemoteAgent, proxy, to_a2a
from a2a_bridges.server.guard import Guard
from a2a_bridges.server.handler import BridgeRequestHandler
from benchmarks.agents import AGENTS, FRAMEWORKS, SERVED_AS_FUNCTION, echo_text, floor_call

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get(
    "A2A_BRIDGES_BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1/postgres"
)
PEERS = ("autogen", "ag2", "fasta2a", "adk")

Answer = Callable[[RequestContext], str | Awaitable[str]]


class _Bare(AgentExecutor):
    """The bare SDK's full task lifecycle: task, working, artifact, completed."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        task = new_task(context.task_id, context.context_id, TaskState.TASK_STATE_SUBMITTED)
        await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.start_work()
        text = self.answer(context)
        if inspect.isawaitable(text):
            text = await text
        await updater.add_artifact([Part(text=text)])
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def _card() -> AgentCard:
    return AgentCard(
        name="bare",
        description="bare",
        version="1",
        supported_interfaces=[
            AgentInterface(
                url="http://127.0.0.1/", protocol_binding="JSONRPC", protocol_version="1.0"
            )
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="echo", name="echo", description="echo", tags=["echo"])],
    )


def _task_store(store: str | None, tuned: bool) -> TaskStore:
    if store is None:
        return InMemoryTaskStore()
    from a2a.server.tasks import DatabaseTaskStore
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(store)
    if tuned:  # the pragmas our own SQLite store sets (bridges/server/stores.py)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return DatabaseTaskStore(engine)


def bare_app(answer: Answer, store: str | None = None, *, tuned: bool = False) -> Starlette:
    """A bare a2a-sdk server, written the way the SDK's samples do (`tuned`: SQLite in WAL
    mode, as ours)."""
    card = _card()
    tasks = _task_store(store, tuned)
    handler = DefaultRequestHandler(agent_executor=_Bare(answer), task_store=tasks, agent_card=card)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Made at start: the SDK's lazy first-use initialization races under concurrent calls
        # ("table tasks already exists").
        initialize = getattr(tasks, "initialize", None)
        if initialize is not None:
            await initialize()
        yield

    routes = create_agent_card_routes(card) + create_jsonrpc_routes(handler, "/")
    return Starlette(routes=routes, lifespan=lifespan)


def http_floor_app() -> Starlette:
    """A bare Starlette JSON endpoint: reads the JSON-RPC request, answers a completed task."""

    async def send(request: Request) -> JSONResponse:
        body = await request.json()
        text = body["params"]["message"]["parts"][0]["text"]
        artifact = {"artifactId": uuid.uuid4().hex, "parts": [{"text": echo_text(text)}]}
        task = {
            "id": str(uuid.uuid4()),
            "contextId": str(uuid.uuid4()),
            "status": {"state": "TASK_STATE_COMPLETED"},
            "artifacts": [artifact],
        }
        return JSONResponse({"jsonrpc": "2.0", "id": body.get("id"), "result": {"task": task}})

    async def card(request: Request) -> JSONResponse:
        return JSONResponse({"name": "http-floor"})

    return Starlette(
        routes=[
            Route("/", send, methods=["POST"]),
            Route("/.well-known/agent-card.json", card, methods=["GET"]),
        ]
    )


class _Forward:
    """Answers with the upstream's answer, asked through the a2a-sdk's own client."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self._client: Any = None
        self._made = asyncio.Lock()

    async def _get(self) -> Any:
        from a2a.client import ClientConfig, create_client

        async with self._made:
            if self._client is None:
                http = httpx.AsyncClient(timeout=60)
                self._client = await create_client(self.upstream, ClientConfig(httpx_client=http))
        return self._client

    async def __call__(self, context: RequestContext) -> str:
        from a2a.types import Message, Role, SendMessageRequest

        assert context.message is not None
        client = await self._get()
        message = Message(
            role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=list(context.message.parts)
        )
        chunks: dict[str, list[str]] = {}
        async for response in client.send_message(SendMessageRequest(message=message)):
            kind = response.WhichOneof("payload")
            if kind == "task":
                for artifact in response.task.artifacts:
                    chunks[artifact.artifact_id] = [p.text for p in artifact.parts]
            elif kind == "artifact_update":
                update = response.artifact_update
                texts = [p.text for p in update.artifact.parts]
                if update.append:
                    chunks.setdefault(update.artifact.artifact_id, []).extend(texts)
                else:
                    chunks[update.artifact.artifact_id] = texts
        return "".join(t for texts in chunks.values() for t in texts)


async def echo(text: str) -> str:
    return echo_text(text)


def counter(conversation: Conversation) -> str:
    """Says how many user turns the conversation holds."""
    return f"seen {sum(t.role == 'user' for t in conversation.turns)}"


def _bare_counter() -> Callable[[RequestContext], str]:
    seen: Counter[str] = Counter()

    def answer(context: RequestContext) -> str:
        seen[context.context_id or ""] += 1
        return f"seen {seen[context.context_id or '']}"

    return answer


LAYERS = {
    "guard": "the Guard middleware (body limits, JSON sanity, credentials)",
    "checks": "the request handler's checks (ids, unknown enum numbers) and error mapping",
    "compat": "A2A 0.3 served beside 1.0",
    "executor": "BridgeExecutor (turns, conversation memory, history, limits, quirks)",
}
"""What `ours-echo-without-LAYER` takes out of ours-echo (the bare SDK's own takes its place)."""
ALL = "+".join(LAYERS)
ABLATIONS = (*LAYERS, ALL)
"""The `ours-echo-without-` kinds measured: each layer alone, then all of them."""


def ours_without(layers: set[str]) -> Starlette:
    """ours-echo, with `layers` (names in `LAYERS`) taken out or replaced by the bare SDK's."""
    if unknown := layers - set(LAYERS):
        raise ValueError(f"unknown layer(s) {', '.join(sorted(unknown))}; choose from {LAYERS}")
    served = to_a2a(echo, versions=("1.0",) if "compat" in layers else ("1.0", "0.3"))
    if "guard" in layers:  # the middleware stack is built at the first request: not yet
        served.user_middleware = [m for m in served.user_middleware if m.cls is not Guard]
    if layers & {"checks", "executor"}:
        # A new handler: the SDK hands its executor to what runs the tasks when it is made.
        jsonrpc = next(r for r in served.routes if isinstance(r, Route) and r.path == "/")
        dispatcher = jsonrpc.endpoint.__self__
        ours = dispatcher.request_handler
        options: dict[str, Any] = {
            "agent_executor": _Bare(lambda c: echo_text(c.get_user_input()))
            if "executor" in layers
            else ours.agent_executor,
            "task_store": ours.task_store,
            "agent_card": _card(),
        }
        dispatcher.request_handler = (
            DefaultRequestHandler(**options)
            if "checks" in layers
            else BridgeRequestHandler(list_tasks=False, **options)
        )
    return served


def store_url(store: str, folder: Path) -> str | None:
    """The database URL of one `--store` choice, its file in `folder`."""
    if store == "memory":
        return None
    if store.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    return POSTGRES


def _floor(framework: str, store: str | None) -> Starlette:
    call = floor_call(framework)
    return bare_app(lambda context: call(context.get_user_input()), store)


def _peer(name: str, url: str) -> Any:
    if name == "autogen":
        from autogen.a2a import A2aAgentServer

        return A2aAgentServer(AGENTS["autogen"](), url=f"{url}/").build()
    if name == "ag2":
        from ag2.a2a import A2AServer

        return A2AServer(AGENTS["ag2"]()).build_jsonrpc(url=url)
    if name == "adk":
        import warnings

        from google.adk.a2a.utils.agent_to_a2a import to_a2a as adk_to_a2a

        # ADK warns once per call site that its A2A support is experimental: noise in a run.
        warnings.filterwarnings("ignore", message=r"\[EXPERIMENTAL\]")

        parts = urlsplit(url)
        return adk_to_a2a(AGENTS["adk"](), host=parts.hostname or "", port=parts.port or 80)
    from fasta2a.pydantic_ai import agent_to_a2a

    return agent_to_a2a(AGENTS["pydantic_ai"](), url=url)


def kinds() -> list[str]:
    """Every server kind."""
    fixed = ["http-floor", "bare-echo", "ours-echo", "bare-counter", "ours-counter"]
    fixed += [f"{side}-{fw}" for fw in FRAMEWORKS for side in ("floor", "ours")]
    fixed += [f"ours-echo-without-{layers}" for layers in ABLATIONS]
    return [*fixed, *(f"peer-{p}" for p in PEERS), "proxy", "floor-proxy"]


def app(
    kind: str, store: str | None, upstream: str | None = None, url: str = "", tuned: bool = False
) -> Any:
    """The server of one kind on one store (`url`: where it listens, for the peers' cards;
    `tuned`: a bare server's SQLite in WAL mode)."""
    if kind in ("proxy", "floor-proxy"):
        if upstream is None:
            raise ValueError("a proxy needs --upstream URL")
        if kind == "floor-proxy":
            return bare_app(_Forward(upstream), store)
        return proxy.to_a2a(RemoteAgent(upstream), store=store)
    side, _, name = kind.partition("-")
    if kind == "http-floor":
        return http_floor_app()
    if kind == "bare-echo":
        return bare_app(lambda c: echo_text(c.get_user_input()), store, tuned=tuned)
    if kind == "bare-counter":
        return bare_app(_bare_counter(), store)
    if kind == "ours-echo":
        return to_a2a(echo, store=store)
    if kind == "ours-counter":
        return to_a2a(counter, store=store)
    if kind.startswith("ours-echo-without-") and store is None:
        return ours_without(set(kind.removeprefix("ours-echo-without-").split("+")))
    if side == "floor" and name in FRAMEWORKS:
        return _floor(name, store)
    if side == "ours" and name in SERVED_AS_FUNCTION:
        return to_a2a(floor_call(name), store=store)
    if side == "ours" and name in FRAMEWORKS:
        return to_a2a(AGENTS[name](), store=store)
    if side == "peer" and name in PEERS:
        return _peer(name, url)
    raise ValueError(f"unknown server kind {kind!r}; choose from {', '.join(kinds())}")


KEEP_ALIVE = 60
"""Seconds a server keeps an idle connection: longer than a load generator with a thousand
connections may take to read an answer and send the next request on the same connection
(with uvicorn's 5, a request now and then met the server closing it: a ReadError)."""


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One server process being started or running."""

    kind: str
    url: str
    proc: subprocess.Popen[bytes]
    folder: tempfile.TemporaryDirectory[str] = field(repr=False)

    def collecting(self) -> float:
        """CPU seconds the server's garbage collections took so far (`_clock_collections`)."""
        try:
            return float(struct.unpack("d", (Path(self.folder.name) / GC_CLOCK).read_bytes())[0])
        except (OSError, struct.error):
            return 0.0

    def ready(self, timeout: float = 60.0) -> None:
        """Wait until the server answers its card; raise if it died or never did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server {self.kind} exited with {self.proc.returncode}")
            try:
                httpx.get(self.url + "/.well-known/agent-card.json", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise TimeoutError(f"server {self.kind} did not start within {timeout:g}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process (killed if it does not go), and drop its folder."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self.folder.cleanup()


def start(
    kind: str, *, store: str = "memory", upstream: str | None = None, profile: str | None = None
) -> Server:
    """Start one server in a process of its own (the load generator shares nothing with it);
    `profile`: the file its pyinstrument profile goes to when it stops."""
    port = free_port()
    folder = tempfile.TemporaryDirectory(prefix="a2a-bench-")
    cmd = [sys.executable, "-m", "benchmarks.servers", kind, "--port", str(port)]
    cmd += ["--store", store, "--folder", folder.name]
    cmd += ["--upstream", upstream] if upstream else []
    cmd += ["--profile", profile] if profile else []
    proc = subprocess.Popen(cmd, cwd=ROOT)
    return Server(kind, f"http://127.0.0.1:{port}", proc, folder)


@contextlib.contextmanager
def serving(kind: str, *, store: str = "memory", upstream: str | None = None) -> Iterator[str]:
    """One server in a process of its own, for the length of the block."""
    server = start(kind, store=store, upstream=upstream)
    try:
        server.ready()
        yield server.url
    finally:
        server.stop()


GC_CLOCK = "gc-seconds"
"""The file in a server's folder that holds its garbage collections' CPU seconds so far."""


def _clock_collections(path: Path) -> None:
    """Add up the CPU time of this process's garbage collections in `path` (a double in a
    shared page: a memory write a collection, so the clock costs the server next to nothing)."""
    path.write_bytes(bytes(8))
    with path.open("r+b") as file:
        shared = mmap.mmap(file.fileno(), 8)
    started = total = 0.0

    def clock(phase: str, info: dict[str, int]) -> None:
        nonlocal started, total
        if phase == "start":
            started = time.thread_time()
        else:
            total += time.thread_time() - started
            struct.pack_into("d", shared, 0, total)

    gc.callbacks.append(clock)


def _exit_with_parent() -> None:
    """End this server when the process that started it is gone (killed, or crashed)."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=kinds())
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--store", default="memory", choices=["memory", "sqlite", "sqlite-wal", "postgres"]
    )
    parser.add_argument("--folder", default=".")
    parser.add_argument("--upstream", help="the server a proxy re-serves")
    parser.add_argument("--profile", help="write a pyinstrument profile here on exit")
    args = parser.parse_args()
    _exit_with_parent()
    _clock_collections(Path(args.folder) / GC_CLOCK)
    url = f"http://127.0.0.1:{args.port}"
    store = store_url(args.store, Path(args.folder))
    served = app(args.kind, store, args.upstream, url, tuned=args.store == "sqlite-wal")
    # A socket that asks for TCP_NODELAY, as a tuned deployment's would (see testing.running).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    config = uvicorn.Config(
        served, log_level="warning", lifespan="auto", timeout_keep_alive=KEEP_ALIVE
    )
    # uvicorn raises the signal again once it shut down: exit through Python, so `finally`s run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with _profiled(args.profile):
        uvicorn.Server(config).run(sockets=[sock])


@contextlib.contextmanager
def _profiled(path: str | None) -> Iterator[None]:
    """Profile the block with pyinstrument (installed by hand: no dependency of the project),
    writing the call tree and the functions by their own time to `path`."""
    if path is None:
        yield
        return
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer

    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    try:
        yield
    finally:
        session = profiler.stop()
        tree = ConsoleRenderer(time="percent_of_total", short_mode=True).render(session)
        flat = ConsoleRenderer(flat=True, time="percent_of_total").render(session)
        Path(path).write_text(tree + "\n\n--- by own time ---\n" + flat)
        session.save(f"{path}.pyisession")  # for `benchmarks.throughput.owners`


if __name__ == "__main__":
    main()

"""What a2a-bridges costs over a bare a2a-sdk server: both serve an echo agent, side by side.

The two servers run at once on loopback, each in its own process, and are measured in
alternating rounds, so a noisy machine slows both alike; the result that matters is the ratio,
not the absolute numbers.

    python benchmarks/overhead.py [--requests 600] [--rounds 6] [--clients 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import uvicorn
from a2a.helpers.proto_helpers import new_task
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Part,
    TaskState,
)
from starlette.applications import Starlette

from bridges import to_a2a


class Echo(AgentExecutor):
    """The bare SDK's full task lifecycle: task, working, artifact, completed."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        task = new_task(context.task_id, context.context_id, TaskState.TASK_STATE_SUBMITTED)
        await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.start_work()
        await updater.add_artifact([Part(text="echo: " + context.get_user_input())])
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def bare_app() -> Starlette:
    card = AgentCard(
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
    handler = DefaultRequestHandler(
        agent_executor=Echo(), task_store=InMemoryTaskStore(), agent_card=card
    )
    return Starlette(routes=create_agent_card_routes(card) + create_jsonrpc_routes(handler, "/"))


async def echo(text: str) -> str:
    return "echo: " + text


def body() -> dict[str, object]:
    message = {"messageId": uuid.uuid4().hex, "role": "ROLE_USER", "parts": [{"text": "hi"}]}
    return {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}


async def burst(url: str, requests: int, clients: int) -> float:
    """Requests per second for `requests` sends spread over `clients` connections."""
    async with httpx.AsyncClient(headers={"A2A-Version": "1.0"}, timeout=30) as http:

        async def worker(n: int) -> None:
            for _ in range(n):
                r = await http.post(url + "/", json=body())
                assert r.json()["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"

        start = time.perf_counter()
        await asyncio.gather(*(worker(requests // clients) for _ in range(clients)))
        return requests / (time.perf_counter() - start)


async def measure(bare: str, ours: str, requests: int, rounds: int, clients: int) -> None:
    await burst(bare, 50, clients)  # warm up both
    await burst(ours, 50, clients)
    rates: dict[str, list[float]] = {"bare a2a-sdk": [], "a2a-bridges": []}
    for i in range(rounds):
        # Alternate which goes first, so drift in the machine's load favours neither.
        order = [("bare a2a-sdk", bare), ("a2a-bridges", ours)]
        for name, url in order if i % 2 == 0 else order[::-1]:
            rates[name].append(await burst(url, requests // rounds, clients))
    for name, values in rates.items():
        print(f"{name:14} {sorted(values)[len(values) // 2]:8.1f} req/s (median of {rounds})")
    ratios = sorted(o / b for o, b in zip(rates["a2a-bridges"], rates["bare a2a-sdk"], strict=True))
    print(f"ratio a2a-bridges / bare: {ratios[len(ratios) // 2]:.2f} (median of rounds)")


@contextlib.contextmanager
def server(kind: str) -> Iterator[str]:
    """One server in its own process, so the load generator does not share its interpreter."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(url + "/.well-known/agent-card.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--serve", choices=["bare", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        app = bare_app() if args.serve == "bare" else to_a2a(echo)
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
        return
    with server("bare") as bare, server("ours") as ours:
        asyncio.run(measure(bare, ours, args.requests, args.rounds, args.clients))


if __name__ == "__main__":
    main()

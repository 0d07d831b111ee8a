"""Many conversations at once against one server: errors, wrong histories, latency, throughput.

Each conversation sends `turns` messages in one contextId; the agent answers with how many user
turns it saw, so a lost or shared turn shows up as a wrong answer. Servers run in processes of
their own (see `servers.py`); the load comes from this one.

    python benchmarks/load.py [--conversations 1000] [--turns 5] [--store sqlite] [--server ours]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass, field

import httpx

from benchmarks.servers import serving

HEADERS = {"A2A-Version": "1.0"}


@dataclass
class Load:
    """What one load run saw."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wrong: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, float | int]:
        """The figures a report shows."""
        ordered = sorted(self.latencies) or [0.0]
        return {
            "requests": len(self.latencies),
            "errors": len(self.errors),
            "wrong_histories": self.wrong,
            "requests_per_second": round(len(self.latencies) / self.seconds, 1)
            if self.seconds
            else 0.0,
            "p50_s": round(statistics.median(ordered), 3),
            "p99_s": round(ordered[int(len(ordered) * 0.99) - 1 if len(ordered) > 1 else 0], 3),
        }


def _body(text: str, context_id: str) -> dict[str, object]:
    message = {
        "messageId": uuid.uuid4().hex,
        "role": "ROLE_USER",
        "parts": [{"text": text}],
        "contextId": context_id,
    }
    return {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}


def _answer(response: httpx.Response) -> str:
    result = response.json()
    if "error" in result:
        raise RuntimeError(result["error"].get("message", "error"))
    task = result["result"]["task"]
    state = task["status"]["state"]
    if state != "TASK_STATE_COMPLETED":
        raise RuntimeError(f"task ended {state}")
    return "".join(p.get("text", "") for a in task.get("artifacts", []) for p in a["parts"])


async def _conversation(http: httpx.AsyncClient, url: str, turns: int, load: Load) -> None:
    context_id = str(uuid.uuid4())
    for turn in range(1, turns + 1):
        started = time.perf_counter()
        try:
            response = await http.post(url + "/", json=_body(f"turn {turn}", context_id))
            answer = _answer(response)
        except Exception as exc:  # every failure is counted, the run goes on
            load.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            return
        load.latencies.append(time.perf_counter() - started)
        if answer != f"seen {turn}":
            load.wrong += 1


async def run_load(url: str, conversations: int, turns: int, timeout: float = 600.0) -> Load:
    """`conversations` conversations of `turns` turns each, all at once."""
    load = Load()
    # Idle connections expire before uvicorn's 5 s keep-alive does, so none is reused as it closes.
    limits = httpx.Limits(
        max_connections=conversations,
        max_keepalive_connections=conversations,
        keepalive_expiry=2,
    )
    async with httpx.AsyncClient(headers=HEADERS, timeout=timeout, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(_conversation(http, url, turns, load) for _ in range(conversations)))
        load.seconds = time.perf_counter() - started
    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--store", default="sqlite", choices=["sqlite", "memory", "postgres"])
    parser.add_argument("--server", default="ours", choices=["ours", "bare"])
    args = parser.parse_args()
    with serving(f"{args.server}-counter", store=args.store) as url:
        load = asyncio.run(run_load(url, args.conversations, args.turns))
    print(args.server, args.store, load.summary())
    for error in sorted(set(load.errors))[:10]:
        print("  ", error)


if __name__ == "__main__":
    main()

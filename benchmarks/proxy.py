"""What the proxy hop costs: the same conversations sent to a server directly and through
`a2a-bridges proxy`, side by side in one run, as ratios (latency p50, throughput).

The remote (`ours-counter`: it answers `seen N`, the user turns of its conversation) and the
proxy run in processes of their own (see `servers.py`); the load comes from this one. Through
the proxy each conversation is still one remote conversation, so a wrong count shows up as a
wrong history. Rounds alternate which path goes first, so drift in the machine's load favours
neither.

    python -m benchmarks.proxy [--requests 400] [--rounds 4] [--clients 1 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from benchmarks.load import Load, run_load
from benchmarks.servers import serving

PATHS = ("direct", "proxied")


async def measure(
    urls: dict[str, str], requests: int, rounds: int, clients: int
) -> dict[str, list[Load]]:
    """`rounds` loads of `requests` messages over `clients` conversations, on each path."""
    turns = max(1, requests // rounds // clients)
    for url in urls.values():  # warm up both: connections, caches, first imports
        await run_load(url, clients, 2)
    loads: dict[str, list[Load]] = {path: [] for path in PATHS}
    for i in range(rounds):
        for path in PATHS if i % 2 == 0 else PATHS[::-1]:
            loads[path].append(await run_load(urls[path], clients, turns))
    return loads


def report(clients: int, loads: dict[str, list[Load]]) -> None:
    """One line per path, then the proxied / direct ratios (medians of the rounds)."""
    figures: dict[str, tuple[float, float]] = {}
    for path in PATHS:
        summaries = [load.summary() for load in loads[path]]
        p50 = statistics.median(float(s["p50_s"]) for s in summaries) * 1000
        rate = statistics.median(float(s["requests_per_second"]) for s in summaries)
        errors = sum(int(s["errors"]) for s in summaries)
        wrong = sum(int(s["wrong_histories"]) for s in summaries)
        figures[path] = (p50, rate)
        print(
            f"{clients:3} client(s) {path:8} p50 {p50:6.1f} ms  {rate:7.1f} req/s  "
            f"errors {errors}  wrong histories {wrong}"
        )
    (direct_p50, direct_rate), (proxied_p50, proxied_rate) = figures["direct"], figures["proxied"]
    print(
        f"{clients:3} client(s) ratio    p50 x{proxied_p50 / direct_p50:.2f}  "
        f"throughput x{proxied_rate / direct_rate:.2f} (proxied / direct)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="messages per path and load")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()
    with serving("ours-counter") as remote, serving("proxy", upstream=remote) as proxied:
        for clients in args.clients:
            loads = asyncio.run(
                measure({"direct": remote, "proxied": proxied}, args.requests, args.rounds, clients)
            )
            report(clients, loads)


if __name__ == "__main__":
    main()

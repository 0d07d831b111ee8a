"""Scale: memory per stored conversation, a thousand conversations at once, and how a turn's
cost grows with the conversation's length.

    python -m benchmarks.scale --out docs/benchmarks/scale.json [--quick]

The servers (`benchmarks.servers`' counters: they answer `seen N`, the user turns of the
conversation, so a lost or shared turn is a wrong answer) run in processes of their own on
127.0.0.1; the load comes from this one (`benchmarks.load`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from benchmarks import servers
from benchmarks.latency import (
    ROOT,
    Report,
    Server,
    bench_server,
    end_on_sigterm,
    ms,
    percentile,
)
from benchmarks.load import HEADERS, Load, _answer, _body, _conversation, run_load

MIB = 1024 * 1024

# --- memory per stored conversation ---


async def open_conversations(url: str, count: int, turns: int, at_once: int) -> Load:
    """`count` conversations of `turns` turns, `at_once` of them at a time."""
    total = Load()
    for start in range(0, count, at_once):
        load = await run_load(url, min(at_once, count - start), turns)
        total.latencies += load.latencies
        total.errors += load.errors
        total.wrong += load.wrong
        total.seconds += load.seconds
    return total


AT_ONCE = 25
SAMPLES = 10


def rss_growth(server: Server, count: int, warm: int) -> tuple[list[tuple[int, float]], Load]:
    """The server's RSS after every tenth of `count` conversations of 2 turns (after `warm`
    more to warm up: caches, connection pools, the allocator's arenas)."""
    total = asyncio.run(open_conversations(server.url, warm, 2, AT_ONCE))
    samples = [(0, server.rss_mib())]
    step = count // SAMPLES
    for opened in range(step, count + 1, step):
        load = asyncio.run(open_conversations(server.url, step, 2, AT_ONCE))
        total.errors += load.errors
        total.wrong += load.wrong
        samples.append((opened, server.rss_mib()))
    return samples, total


def memory_section(report: Report, count: int, warm: int) -> None:
    """Server RSS grown by `count` idle conversations of 2 turns, per store."""
    servers = [
        ("a2a-bridges", "ours-counter", "sqlite"),
        ("a2a-bridges", "ours-counter", "memory"),
        ("bare a2a-sdk (turns counted in a dict)", "bare-counter", "memory"),
    ]
    rows = []
    slopes: dict[tuple[str, str], float] = {}
    for name, kind, store in servers:
        with bench_server(kind, store) as server:
            samples, load = rss_growth(server, count, warm)
        opened, rss = zip(*samples, strict=True)
        slope = statistics.linear_regression(opened, rss).slope  # MiB per conversation
        slopes[(kind, store)] = slope
        rows.append(
            [
                name,
                store,
                count,
                round(rss[0], 1),
                round(rss[-1], 1),
                round((rss[-1] - rss[0]) / count * 1024, 2),
                round(slope * 1024, 2),
                round(slope * 1000, 2),
                len(load.errors),
                load.wrong,
            ]
        )
    report.table(
        f"Server memory per idle conversation: RSS (/proc VmRSS) while opening {count} "
        f"conversations of 2 turns each, {AT_ONCE} at a time, after {warm} to warm up; "
        f"sampled every {count // SAMPLES}, slope by least squares",
        [
            "server",
            "store",
            "conversations",
            "RSS first MiB",
            "RSS last MiB",
            "(last - first) / N KiB",
            "slope KiB per conversation",
            "slope MiB per 1000 conversations",
            "errors",
            "wrong answers",
        ],
        rows,
    )
    ours, bare = slopes[("ours-counter", "memory")], slopes[("bare-counter", "memory")]
    if ours > 0 and bare > 0:
        report.ratio(
            "a2a-bridges / bare a2a-sdk, memory per idle conversation (in memory)",
            ours / bare,
            None,
            f"lower is better; no target: a2a-bridges {ours * 1024:.2f} KiB, the bare SDK "
            f"{bare * 1024:.2f} KiB per conversation (both keep every task in the SDK's "
            "InMemoryTaskStore)",
        )
    else:
        report.note(f"Memory: at N={count} the RSS growth is within its noise; no ratio.")
    report.note(
        "Memory: on SQLite the conversations live in the database; the process keeps the "
        "512 most recent parsed (CACHED_CONVERSATIONS, at most 32 MiB of JSON), so past that "
        "the RSS stops growing with the number of stored conversations. In memory, the "
        "a2a-sdk's InMemoryTaskStore keeps every task (each with its history and artifact) "
        "as well as our turns. RSS counts pages, not objects: the allocator's arenas make it "
        "grow in steps, hence the slope over many samples."
    )


# --- a thousand conversations at once ---

KEEPALIVE = 2.0
"""Seconds an idle client connection is kept: under uvicorn's 5, so that the client never
reuses a connection at the moment the server closes it (httpx's default is also 5)."""


async def at_once(url: str, conversations: int, turns: int) -> Load:
    """`benchmarks.load`'s conversations, all at once, on connections that expire first."""
    load = Load()
    limits = httpx.Limits(
        max_connections=conversations,
        max_keepalive_connections=conversations,
        keepalive_expiry=KEEPALIVE,
    )
    async with httpx.AsyncClient(headers=HEADERS, timeout=600, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(_conversation(http, url, turns, load) for _ in range(conversations)))
        load.seconds = time.perf_counter() - started
    return load


CONCURRENCY_SERVERS = (
    ("a2a-bridges (`serve`'s SQLite store, memory included)", "ours-counter"),
    ("bare a2a-sdk (DatabaseTaskStore on SQLite, turns counted in a dict)", "bare-counter"),
)


def concurrency_section(report: Report, conversations: int, turns: int, rounds: int) -> None:
    """`conversations` conversations at once on one SQLite server, ours and the bare SDK's in
    alternating rounds, each on a fresh database."""
    rows, rates = [], {kind: [] for _, kind in CONCURRENCY_SERVERS}
    for _ in range(rounds):
        for label, kind in CONCURRENCY_SERVERS:
            with bench_server(kind, "sqlite") as server:
                asyncio.run(run_load(server.url, 20, 2))  # warm up
                load = asyncio.run(at_once(server.url, conversations, turns))
                rss = server.rss_mib()
            summary = load.summary()
            rates[kind].append(summary["requests_per_second"])
            rows.append(
                [
                    label,
                    summary["requests"],
                    conversations * turns,
                    summary["errors"],
                    summary["wrong_histories"],
                    round(load.seconds, 1),
                    summary["requests_per_second"],
                    summary["p50_s"],
                    summary["p99_s"],
                    round(rss, 1),
                ]
            )
            if load.errors:
                report.note(
                    f"errors on {label} with {conversations} conversations at once: "
                    + "; ".join(sorted(set(load.errors))[:3])
                )
    report.table(
        f"{conversations} conversations open at once on one server (SQLite), {turns} turns "
        f"each, every conversation's turns in sequence; {rounds} alternating rounds",
        [
            "server",
            "requests answered",
            "expected",
            "errors",
            "wrong answers",
            "wall s",
            "requests/s",
            "p50 s",
            "p99 s",
            "server RSS after MiB",
        ],
        rows,
    )
    ours, bare = (statistics.median(rates[kind]) for _, kind in CONCURRENCY_SERVERS)
    report.ratio(
        f"a2a-bridges / bare a2a-sdk, requests/s with {conversations} conversations at once "
        "(SQLite)",
        ours / bare if bare else 0.0,
        1.0,
        "median of the rounds; the target: at least the bare SDK's throughput on the same "
        "store, with no error and no wrong history",
    )
    report.note(
        "Concurrency: a turn's server time on SQLite is mostly the a2a-sdk's DatabaseTaskStore "
        "(SQLAlchemy ORM merges and commits, several per task), for both servers, CPU-bound "
        "with hundreds of tasks open at once. The bare SDK's aiosqlite hands each of about a "
        "hundred calls a request to a thread and back; ours runs them on the event loop's "
        "thread and waits for a lock in that thread only (bridges/server/sqlite.py). A bare "
        "a2a-sdk server on SQLite gives up a conversation on `database is locked` (SQLite's "
        "default 5 s busy timeout); ours waits for the writer (up to 60 s, off the event loop) "
        "and bounds the tasks running at once (64), the rest wait SUBMITTED."
    )
    report.note(
        f"Concurrency: all {conversations} conversations start together on one connection "
        "each; the latency is queueing behind the others on a 2-core machine shared with the "
        "load generator, so p50/p99 measure the queue, not a turn. Client connections idle "
        f"for {KEEPALIVE:g} s are dropped, and the servers keep idle ones for "
        f"{servers.KEEP_ALIVE} s: with uvicorn's 5, a thousand connections on one load "
        "generator sometimes read an answer so late that the next request on that connection "
        "met the server closing it (a ReadError, on both servers alike: the load generator's, "
        "not the server's)."
    )


# --- a turn's cost against the conversation's length ---


async def say(http: httpx.AsyncClient, url: str, context_id: str, n: int) -> float:
    """Send the conversation's n-th turn; check the answer; return the seconds it took."""
    started = time.perf_counter()
    response = await http.post(url + "/", json=_body(f"turn {n}", context_id))
    took = time.perf_counter() - started
    answer = _answer(response)
    if answer != f"seen {n}":
        raise RuntimeError(f"turn {n} of {context_id} answered {answer!r}")
    return took


async def grow(url: str, lengths: list[int]) -> dict[int, str]:
    """One conversation per length, that many turns long (built side by side)."""
    contexts = {length: str(uuid.uuid4()) for length in lengths}
    async with httpx.AsyncClient(headers=HEADERS, timeout=60) as http:

        async def build(length: int) -> None:
            for n in range(1, length + 1):
                await say(http, url, contexts[length], n)

        await asyncio.gather(*(build(length) for length in lengths))
    return contexts


async def next_turns(
    url: str, contexts: dict[int, str], done: dict[int, int], rounds: int, per_round: int
) -> dict[int, list[float]]:
    """The next turn's time in each conversation, `per_round` a round, lengths rotating."""
    lengths = list(contexts)
    times: dict[int, list[float]] = {length: [] for length in lengths}
    async with httpx.AsyncClient(headers=HEADERS, timeout=60) as http:
        await say(http, url, str(uuid.uuid4()), 1)  # a first request of its own
        for i in range(rounds):
            shift = i % len(lengths)
            for length in lengths[shift:] + lengths[:shift]:
                for _ in range(per_round):
                    done[length] += 1
                    times[length].append(await say(http, url, contexts[length], done[length]))
    return times


GROWTH_TARGET = 100.0


def growth_section(report: Report, lengths: list[int], rounds: int, restarts: int) -> None:
    """Next-turn time after 10, 100, 1000 turns, warm and after a restart (SQLite)."""
    with tempfile.TemporaryDirectory(prefix="a2a-bench-") as folder:
        with bench_server("ours-counter", "sqlite", folder) as server:
            started = time.perf_counter()
            contexts = asyncio.run(grow(server.url, lengths))
            built = time.perf_counter() - started
            done = {length: length for length in lengths}  # turns said so far
            warm = asyncio.run(next_turns(server.url, contexts, done, rounds, 5))
        cold: dict[int, list[float]] = {length: [] for length in lengths}
        for _ in range(restarts):
            with bench_server("ours-counter", "sqlite", folder) as server:
                first = asyncio.run(next_turns(server.url, contexts, done, 1, 1))
            for length, values in first.items():
                cold[length] += values
    rows = []
    for length in lengths:
        rows.append(
            [
                length,
                len(warm[length]),
                ms(statistics.median(warm[length])),
                ms(percentile(warm[length], 90)),
                len(cold[length]),
                ms(statistics.median(cold[length])),
            ]
        )
    report.table(
        "A turn's time against the conversation's length (a2a-bridges, SQLite store): the "
        "next turn of a conversation with that many earlier turns, while the server holds it "
        "(warm) and as the first turn after a restart (its history read from the database)",
        [
            "earlier turns",
            "warm turns",
            "warm p50 ms",
            "warm p90 ms",
            "after restart turns",
            "after restart p50 ms",
        ],
        rows,
    )
    short, long = lengths[0], lengths[-1]
    for label, times in (("warm", warm), ("first turn after a restart", cold)):
        report.ratio(
            f"turn time after {long} / after {short} earlier turns, {label} (SQLite)",
            statistics.median(times[long]) / statistics.median(times[short]),
            GROWTH_TARGET,
            f"lower is better, ≤ target: linear growth would be {long // short}, "
            "constant cost is 1",
        )
    per_turn = (statistics.median(cold[long]) - statistics.median(cold[short])) / (long - short)
    report.note(
        f"Growth: the conversations were built turn by turn ({sum(lengths)} turns in "
        f"{built:.1f} s, side by side); every answer was checked (`seen N`). A server that "
        "holds a conversation reads only the rows added since it last read it, so a warm "
        "turn costs the same at any length. The first turn after a restart reads the whole "
        f"history once: about {per_turn * 1000:.3f} ms per earlier turn (two rows each, "
        "parsed into turns) on top of a normal turn, linear in the history but small beside "
        "the turn's fixed cost at these lengths."
    )


# --- one big request beside small ones ---

BIG = 9 * MIB
"""A request body just under the servers' 10 MiB limit (ours refuses more, at once)."""
STALL_TARGET = 1.0


async def ticks(url: str, stop: asyncio.Event, seen: list[tuple[float, float]]) -> None:
    """Small turns one after another until `stop`: (start, seconds) of each."""
    async with httpx.AsyncClient(headers=HEADERS, timeout=120) as http:
        n = 0
        context_id = str(uuid.uuid4())
        while not stop.is_set():
            n += 1
            started = time.perf_counter()
            await say(http, url, context_id, n)
            seen.append((started, time.perf_counter() - started))


async def beside_big(url: str, body: bytes) -> tuple[float, float, float, int]:
    """The big request's seconds, the slowest small turn during it, the small turns' p50
    before it, and its HTTP status."""
    stop, seen = asyncio.Event(), []
    ticker = asyncio.create_task(ticks(url, stop, seen))
    await asyncio.sleep(2)
    calm = statistics.median(took for _, took in seen)
    async with httpx.AsyncClient(headers=HEADERS, timeout=120) as http:
        started = time.perf_counter()
        response = await http.post(url + "/", content=body)
        big = time.perf_counter() - started
    await asyncio.sleep(0.5)
    stop.set()
    await ticker
    during = [took for at, took in seen if at + took >= started and at <= started + big]
    return big, max(during, default=0.0), calm, response.status_code


def stall_section(report: Report) -> None:
    """How long small turns wait while one request of 9 MiB is read, parsed and answered."""
    text = "x" * BIG
    body = json.dumps(_body(text, str(uuid.uuid4()))).encode()
    over = json.dumps(_body(text + "x" * (2 * MIB), str(uuid.uuid4()))).encode()
    rows = []
    for label, kind, store in (
        ("a2a-bridges (SQLite store)", "ours-counter", "sqlite"),
        ("a2a-bridges (in memory)", "ours-counter", "memory"),
        ("bare a2a-sdk (in memory)", "bare-counter", "memory"),
    ):
        with bench_server(kind, store) as server:
            for name, payload in (("9 MiB text part", body), ("11 MiB, over the limit", over)):
                big, worst, calm, status = asyncio.run(beside_big(server.url, payload))
                rows.append([label, name, status, round(big, 2), round(worst, 3), round(calm, 4)])
    report.table(
        "One big request beside a caller sending small turns one after another: how long the "
        "big one took, and the slowest small turn while it ran",
        [
            "server",
            "big request",
            "HTTP status",
            "big request s",
            "slowest small turn s",
            "small turn p50 before s",
        ],
        rows,
    )
    for row in rows:
        if row[0].startswith("a2a-bridges"):
            report.ratio(
                f"slowest small turn beside a {row[1]}, {row[0]} (s)",
                row[4],
                STALL_TARGET,
                "lower is better, ≤ target: seconds; no request stalls others for more than a "
                "second",
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "scale.json")
    parser.add_argument("--quick", action="store_true", help="fewer samples (under a minute)")
    args = parser.parse_args()
    end_on_sigterm()
    report = Report("Scale: memory per conversation, concurrent conversations, long conversations")
    quick = args.quick
    report.section(memory_section, report, *((100, 25) if quick else (1000, 100)))
    report.section(concurrency_section, report, *((100, 5, 1) if quick else (1000, 5, 2)))
    lengths = [10, 100, 200] if quick else [10, 100, 1000]
    report.section(growth_section, report, lengths, *((2, 1) if quick else (4, 2)))
    report.section(stall_section, report)
    report.write(args.out, "benchmarks.scale", sys.argv[1:])


if __name__ == "__main__":
    main()

"""`check(url)`: every registered framework's native remote type, and the bare a2a-sdk client
on each interface the card lists, call one A2A server, whoever wrote it; the result is the
scenarios' `Report`, one row (the server) and a column per caller.

The checks judge the protocol, never the agent's words (nothing here knows what it says):

- card: the caller read the card and reached the agent at an address the card names.
- single: one message, not streamed, ends completed (or asks for input) and the caller reads
  an answer; no answer arrives twice.
- memory: two messages in one conversation: the second goes with the contextId the first
  answer named, and the server answers it in that context. That the agent *used* the first
  turn would have to be read in its words, which are not judged: a kept contextId is what
  the protocol promises and what every caller's conversation rests on.
- stream: the answer streams; its pieces join to the answer the caller ends with; no answer
  arrives twice; text the server sent in several pieces reaches the caller in pieces.
- data: a data part beside a short text (a2a-sdk callers; the frameworks' callers say text
  and files). Answered, or refused cleanly (a JSON-RPC error, a rejected task); a task that
  fails on it fails the check.
- cancel: a streamed message cancelled the caller's native way. Canceled, or refused as
  already finished; an answer complete before it could be cancelled is not exercised (·).
- empty, oversized (a2a-sdk callers only for oversized): an empty text, and one larger than
  servers usually take. An answer or a clean refusal (an error with a message, HTTP 4xx) is
  fine; HTTP 5xx without one, a broken connection, a traceback or no answer in time is not.

Every check ends within `timeout` seconds, whatever the server does. Each failing cell says
why in one line, and names the known quirk behind it (`a2a_bridges.scenarios.diagnosis`).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import httpx
from a2a.client.card_resolver import parse_agent_card
from a2a.types import AgentCard
from typing_extensions import Unpack

from a2a_bridges import quirks
from a2a_bridges.card import CARD_PATHS, api_key_header
from a2a_bridges.conversation import DataPart, Part, TextPart
from a2a_bridges.errors import NotAnA2AServer, RemoteTimeout, RemoteUnauthorized, RemoteUnreachable
from a2a_bridges.portal import run_sync
from a2a_bridges.scenarios import frameworks
from a2a_bridges.scenarios.diagnosis import KNOWN, TITLES, card_quirks, seen
from a2a_bridges.scenarios.relay import relays
from a2a_bridges.scenarios.results import (
    CastMember,
    Finding,
    Report,
    ScenarioResult,
    Status,
    StepResult,
)
from a2a_bridges.scenarios.transcript import CALLER_HEADER, Exchange, Transcript
from a2a_bridges.scenarios.verdicts import (
    JUDGES,
    Attempt,
    Verdict,
    ended,
    judge_card,
    judge_history,
    said,
)
from a2a_bridges.testing.participant import Answer, Caller, Message
from a2a_bridges.testing.sdk import SdkCaller, interfaces

__all__ = [
    "CHECKS",
    "DATA",
    "FIRST",
    "LEGEND",
    "LONG",
    "MESSAGES",
    "OVERSIZED_BYTES",
    "SDK",
    "SECOND",
    "SETTLE_SECONDS",
    "CheckOptions",
    "acheck",
    "check",
    "read_card",
]

CHECKS = ("card", "single", "memory", "stream", "data", "cancel", "empty", "oversized")
"""What is checked, in the order the matrix shows it."""

OVERSIZED_BYTES = 11 * 1024 * 1024
"""An oversized message: above the 10 MiB most servers (a2a-bridges included) take."""

FIRST = "Hello! This is a2a-bridges check, trying how clients reach you. Please answer briefly."
SECOND = "Thank you. Please answer once more, briefly."
LONG = "Please write a long answer: count from 1 to 300, one number per line."
DATA = {"a2a_bridges_check": True, "items": [1, 2, 3]}
LEGEND = (
    "The row is the server, each column a caller. ✓ held, ✗ failed, · could not be exercised "
    "(hover for why), - does not apply: data and oversized are sent by the a2a-sdk clients only."
)
SETTLE_SECONDS = 3.0  # how long a check waits for its exchanges to be recorded whole
SDK = "a2a-sdk"


@dataclass
class _Probe:
    """One caller as the check drives it: its column, and the caller itself."""

    column: str
    caller: Caller
    sdk: bool


@dataclass
class _Context:
    """What every check of one run shares."""

    url: str  # where callers call: the relay, once it runs
    server: str
    streams: bool
    transcript: Transcript
    timeout: float
    oversized: int
    history: bool = False
    """Whether the card says the agent knows only the history each message carries."""


# --- reading the card ---


async def read_card(
    url: str, headers: Mapping[str, str], timeout: float
) -> tuple[dict[str, Any], AgentCard]:
    """The agent's card, as JSON and as the a2a-sdk parses it; raises `RemoteAgentError`s
    that say in one line why there is none."""
    async with httpx.AsyncClient(headers=dict(headers), timeout=timeout) as http:
        last = "no agent card at /.well-known/agent-card.json or /.well-known/agent.json"
        for path in CARD_PATHS:
            try:
                response = await http.get(url.rstrip("/") + path)
            except httpx.TimeoutException:
                raise RemoteTimeout(f"{url} did not answer within {timeout:g} s", url=url) from None
            except httpx.HTTPError as exc:
                why = f"cannot reach {url}: {exc or type(exc).__name__}"
                raise RemoteUnreachable(why, url=url) from None
            if response.status_code in (401, 403):
                raise RemoteUnauthorized(
                    f"{url} refused the card (HTTP {response.status_code}): pass --token, "
                    "--api-key or --header",
                    url=url,
                )
            if response.status_code == 404:
                continue
            try:
                response.raise_for_status()
                data = response.json()
                return data, parse_agent_card(copy.deepcopy(data))
            except Exception as exc:
                last = f"its card is not an A2A agent card: {said(str(exc))}"
                break
    raise NotAnA2AServer(f"{url} is not an A2A server: {last}", url=url)


def _auth(
    card: AgentCard, headers: Mapping[str, str], token: str | None, api_key: str | None
) -> dict[str, str]:
    """The headers every caller sends: the user's, and its credentials the way `ask` sends
    them (`Authorization: Bearer`, the API key in the header the card's scheme names)."""
    found = dict(headers)
    if token:
        found.setdefault("Authorization", f"Bearer {token}")
    if api_key:
        found.setdefault(api_key_header(card), api_key)
    return found


# --- the callers ---


def _sdk_column(binding: str, version: str) -> str:
    return f"{SDK} {binding} {version}"


def _probes(
    card: AgentCard, headers: Mapping[str, str], only: Sequence[str] | None, timeout: float
) -> tuple[list[_Probe], dict[str, str]]:
    """A caller for every installed framework and every interface of the card (or only the
    columns `only` names); and why each framework that cannot call is missing."""
    probes, missing = [], {}
    for fw in frameworks.frameworks():
        if only is not None and fw not in only:
            continue
        if (why := frameworks.missing(fw)) is not None:
            missing[fw] = why
            continue
        name = f"{frameworks.short(fw)}-caller"
        caller = frameworks.participant(fw).caller(
            name, "assistant", {**headers, CALLER_HEADER: name}
        )
        probes.append(_Probe(fw, caller, sdk=False))
    for binding, version in interfaces(card):
        column = _sdk_column(binding, version)
        if only is not None and column not in only and SDK not in only:
            continue
        sdk = SdkCaller(
            binding, version, {**headers, CALLER_HEADER: column}, name=column, timeout=timeout
        )
        probes.append(_Probe(column, sdk, sdk=True))
    return probes, missing


# --- running one check ---


async def _attempt(
    ctx: _Context, probe: _Probe, calls: Callable[[], AsyncIterator[Answer]], cancels: bool = False
) -> Attempt:
    """Make the calls within the bound; then gather what the server recorded of them."""
    attempt, started = Attempt(), time.time()
    try:
        async with asyncio.timeout(ctx.timeout):
            async for answer in calls():
                attempt.answers.append(answer)
    except TimeoutError:
        attempt.error = f"no answer within {ctx.timeout:g} s"
    except Exception as exc:  # what the caller's framework raised is what its user sees
        attempt.error = f"{type(exc).__name__}: {exc}"
    attempt.exchanges = await _settle(ctx, probe.caller.name, started, cancels)
    return attempt


async def _settle(ctx: _Context, caller: str, since: float, cancels: bool) -> list[Exchange]:
    """The caller's exchanges since `since`, once none is open (and, after a cancel, once
    the CancelTask a caller sends on its own went out), or after `SETTLE_SECONDS`."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        exchanges, _, _ = ctx.transcript.snapshot()
        mine = [e for e in exchanges if e.caller == caller and e.started >= since]
        done = not cancels or any(e.is_cancel for e in mine) or ended(mine)
        if (ctx.transcript.open_for(caller) == 0 and done) or time.monotonic() > deadline:
            return mine
        await asyncio.sleep(0.01)


async def _one(call: Awaitable[Answer]) -> AsyncIterator[Answer]:
    yield await call


def _send(
    probe: _Probe, ctx: _Context, thread: str, text: str, stream: bool = False
) -> Awaitable[Answer]:
    return probe.caller.send(ctx.url, Message(text), thread=thread, stream=stream)


# --- the checks ---


async def _calls(probe: _Probe, label: str, ctx: _Context) -> Attempt | None:
    """Carry out check `label` with `probe`'s caller; None when it does not apply."""
    thread = f"check-{label}"
    sdk = probe.caller if isinstance(probe.caller, SdkCaller) else None
    if label == "single":
        return await _attempt(ctx, probe, lambda: _one(_send(probe, ctx, thread, FIRST)))
    if label == "memory":

        async def both() -> AsyncIterator[Answer]:
            yield await _send(probe, ctx, thread, FIRST)
            yield await _send(probe, ctx, thread, SECOND)

        return await _attempt(ctx, probe, both)
    if label == "stream":
        return await _attempt(ctx, probe, lambda: _one(_send(probe, ctx, thread, FIRST, True)))
    if label == "cancel":
        cancel = probe.caller.cancel(ctx.url, Message(LONG), thread=thread)
        return await _attempt(ctx, probe, lambda: _one(cancel), cancels=True)
    if label == "empty":
        return await _attempt(ctx, probe, lambda: _one(_send(probe, ctx, thread, "")))
    if sdk is None:
        return None
    parts: list[Part] = (
        [TextPart("Here is a data part."), DataPart(DATA)]
        if label == "data"
        else [TextPart("x" * ctx.oversized)]
    )
    return await _attempt(ctx, probe, lambda: _one(sdk.send_parts(ctx.url, parts, thread=thread)))


MESSAGES = {
    "card": "",
    "single": FIRST,
    "memory": f"{FIRST}\n{SECOND}",
    "stream": FIRST,
    "data": f"Here is a data part. {DATA}",
    "cancel": LONG,
    "empty": "",
    "oversized": "'x' repeated, {size}",
}


def _step(index: int, label: str, probe: _Probe, ctx: _Context, verdict: Verdict) -> StepResult:
    status, why, quirk = verdict
    if quirk is not None and status == "failed":
        why = f"{why} — known quirk {quirk}: {TITLES[quirk]}"
    said = MESSAGES[label].replace("{size}", f"{ctx.oversized} bytes")
    return StepResult(
        index=index,
        label=label,
        caller=probe.caller.name,
        servers=[ctx.server],
        mode="stream" if label in ("stream", "cancel") else "send",
        messages=said.split("\n") if said else [],
        status=status,
        reason=why,
        quirk=quirk,
        started=time.time(),
    )


async def _card_step(probe: _Probe, ctx: _Context) -> tuple[Verdict, Attempt]:
    """The SDK caller reads the card itself; a framework's reads it on its first call."""
    if not isinstance(probe.caller, SdkCaller):
        return ("passed", "", None), Attempt()
    sdk = probe.caller
    attempt = await _attempt(ctx, probe, lambda: _one(_card_read(sdk, ctx.url)))
    if attempt.error is not None:
        return ("failed", f"the card cannot be read: {said(attempt.error)}", None), attempt
    return ("passed", "", None), attempt


async def _card_read(sdk: SdkCaller, url: str) -> Answer:
    card = await sdk.card(url)
    return Answer(text=card.name)


async def _run_probe(probe: _Probe, ctx: _Context) -> ScenarioResult:
    """Every check with one caller, in order; one that does not apply is left out."""
    started = time.time()
    first, card_attempt = await _card_step(probe, ctx)
    steps: dict[str, StepResult] = {}
    attempts = [card_attempt]
    for label in CHECKS[1:]:
        if label == "stream" and not ctx.streams:
            steps[label] = _step(
                0, label, probe, ctx, ("skipped", "the card says it does not stream", None)
            )
            continue
        began = time.time()
        attempt = await _calls(probe, label, ctx)
        if attempt is None:
            continue
        attempts.append(attempt)
        verdict = JUDGES[label](attempt)
        if label == "memory" and ctx.history:
            verdict = judge_history(attempt, verdict)
        step = _step(0, label, probe, ctx, verdict)
        step.started, step.answers = began, attempt.answers
        step.duration_ms = (time.time() - began) * 1000
        step.exchange_ids = [e.id for e in attempt.exchanges]
        steps[label] = step
    card = _step(0, "card", probe, ctx, judge_card(first, attempts))
    card.started, card.exchange_ids = started, [e.id for e in card_attempt.exchanges]
    ordered = [card, *(steps[label] for label in CHECKS if label in steps)]
    for index, step in enumerate(ordered):
        step.index = index
    return _result(probe, ctx, ordered, attempts, started)


def _result(
    probe: _Probe, ctx: _Context, steps: list[StepResult], attempts: list[Attempt], started: float
) -> ScenarioResult:
    exchanges = sorted(
        {e.id: e for a in attempts for e in a.exchanges}.values(), key=lambda e: e.started
    )
    for e in exchanges:
        e.caller_framework = probe.column
    statuses = {s.status for s in steps}
    status: Status = "failed" if "failed" in statuses else "passed"
    kind = "the a2a-sdk client alone" if probe.sdk else f"{probe.column}'s native remote type"
    return ScenarioResult(
        name=probe.column.replace(" ", "-").replace("+", ""),
        title=f"{probe.column} calls {ctx.server}",
        description=f"{ctx.url} called through {kind}.",
        participants=[
            CastMember(probe.caller.name, probe.column, "caller", "check"),
            CastMember(ctx.server, ctx.server, "server", "under check"),
        ],
        status=status,
        steps=steps,
        exchanges=exchanges,
        started=started,
        duration_ms=(time.time() - started) * 1000,
    )


def _findings(results: Sequence[ScenarioResult], on_card: Sequence[str]) -> list[Finding]:
    """Every known quirk seen (`on_card`: those the card declares), with the checks that
    showed it and the callers it tripped."""
    where: dict[str, dict[str, list[str]]] = {q: {"card": []} for q in on_card}
    for result in results:
        column = result.participants[0].framework
        by_id = {e.id: e for e in result.exchanges}
        for step in result.steps:
            exchanges = [by_id[i] for i in step.exchange_ids if i in by_id]
            quirks = [q.quirk for e in exchanges for q in seen(e)] + [
                q.quirk for q in card_quirks(exchanges)
            ]
            if step.quirk:
                quirks.append(step.quirk)
            for quirk in dict.fromkeys(quirks):
                names = where.setdefault(quirk, {}).setdefault(step.label, [])
                if step.status == "failed" and step.quirk == quirk and column not in names:
                    names.append(column)
    found = []
    for quirk, labels in where.items():
        tripped = sorted({c for names in labels.values() for c in names})
        seen_in = f"seen in {', '.join(labels)}"
        trips = f"trips {', '.join(tripped)}" if tripped else "every caller here copes"
        found.append(Finding(quirk, KNOWN[quirk], [seen_in, trips]))
    return found


# --- the entry points ---


class CheckOptions(TypedDict, total=False):
    """How `check` reaches the server, and what it sends."""

    headers: Mapping[str, str]
    """Sent with every request."""
    token: str
    """A bearer token, sent as `ask` sends it."""
    api_key: str
    """An API key, in the header the card's apiKey scheme names."""
    timeout: float
    """Seconds each check may take (default 30)."""
    callers: Sequence[str]
    """The columns to keep: framework names, `a2a-sdk`, or e.g. `a2a-sdk JSONRPC 1.0`."""
    oversized_bytes: int
    """The size of the oversized message (default `OVERSIZED_BYTES`)."""


async def acheck(url: str, **options: Unpack[CheckOptions]) -> Report:
    """Async `check`."""
    began = time.perf_counter()
    timeout, headers = options.get("timeout", 30.0), options.get("headers") or {}
    data, card = await read_card(url, headers, timeout)
    sent = _auth(card, headers, options.get("token"), options.get("api_key"))
    probes, missing = _probes(card, sent, options.get("callers"), timeout)
    server = card.name or "server"
    ctx = _Context(
        url,
        server,
        card.capabilities.streaming,
        Transcript(),
        timeout,
        options.get("oversized_bytes", OVERSIZED_BYTES),
        history=quirks.takes_inline_history(card.default_input_modes),
    )
    results = await _run_all(ctx, data, probes)
    callers = options.get("callers")
    columns = (
        *(f for f in frameworks.frameworks() if callers is None or f in callers),
        *(p.column for p in probes if p.sdk),
    )
    return Report(
        results,
        columns,
        missing=missing,
        environment=frameworks.environment(),
        duration_ms=(time.perf_counter() - began) * 1000,
        title=f"a2a-bridges check of {url}",
        servers=(server,),
        callers=columns,
        capability_order=CHECKS,
        findings=_findings(results, ["inline-history"] if ctx.history else []),
        legend=LEGEND,
        nouns=("caller", "check"),
    )


async def _run_all(
    ctx: _Context, card: dict[str, Any], probes: Sequence[_Probe]
) -> list[ScenarioResult]:
    """Every caller through the relays at once, each taking its checks in turn."""
    relaying = relays(ctx.url, card, server=ctx.server, sink=ctx.transcript, timeout=ctx.timeout)
    ctx.url = await asyncio.to_thread(relaying.__enter__)
    try:
        return list(await asyncio.gather(*(_run_probe(p, ctx) for p in probes)))
    finally:
        for probe in probes:
            with contextlib.suppress(Exception):
                await probe.caller.aclose()
        await asyncio.to_thread(relaying.__exit__, None, None, None)


def check(url: str, **options: Unpack[CheckOptions]) -> Report:
    """Call the A2A server at `url` from every framework's native remote type and from the
    a2a-sdk client on each interface its card lists, and judge how each check went.

    `options` (`CheckOptions`): credentials sent as `ask` sends them, the bound on each
    check, the callers to keep, the oversized message's size. Raises `RemoteAgentError`
    (one line) when no card can be read; otherwise never raises for what the server does:
    read `Report.ok`, `Report.failures()` and `Report.findings`.
    """
    call = functools.partial(acheck, url, **options)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(call())
    return run_sync(call)

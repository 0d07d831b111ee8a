"""One step of a scenario: its caller carries it out, its servers settle, its expectations
are checked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Mapping

from a2a_bridges.scenarios.cast import Cast
from a2a_bridges.scenarios.expectations import Expectation, NoteSeen, Outcome
from a2a_bridges.scenarios.model import Step
from a2a_bridges.scenarios.results import Check, StepResult
from a2a_bridges.scenarios.transcript import Exchange, Note
from a2a_bridges.testing.participant import Answer, Caller

__all__ = ["SETTLE_SECONDS", "check", "run_step"]

SETTLE_SECONDS = 3.0  # how long a step waits for its servers to finish recording


async def run_step(cast: Cast, index: int, step: Step, timeout: float) -> StepResult:
    """Carry out step `index` with the cast as it plays, and check what must hold."""
    result = StepResult(
        index=index,
        label=step.label,
        caller=step.caller,
        servers=list(step.servers),
        mode=step.mode,
        messages=[m.text for m in step.messages],
        status="passed",
        started=time.time(),
    )
    problems = cast.problems_of(step)
    if problems:
        result.status = "skipped" if all(p.missing for p in problems) else "failed"
        result.reason = "; ".join(sorted({p.reason for p in problems}))
        return result
    error = await _perform(cast, index, step, result.answers, timeout)
    exchanges, notes = await _settle(cast, step, result.started)
    result.duration_ms = (time.time() - result.started) * 1000
    result.exchange_ids = [e.id for e in exchanges]
    outcome = Outcome(result.answers, exchanges, notes)
    scripted = not any(s in cast.models for s in step.servers)
    result.checks = [check(e, outcome, scripted) for e in step.expect]
    failed = [c for c in result.checks if c.status == "failed"]
    if error is not None:
        result.status, result.reason = "failed", error
    elif failed:
        result.status = "failed"
        result.reason = "; ".join(f"{c.description}: {c.detail}" for c in failed)
    return result


async def _perform(
    cast: Cast, index: int, step: Step, answers: list[Answer], timeout: float
) -> str | None:
    """Carry the step out, collecting answers as they come; the error, if one stopped it."""
    urls = {name: cast.urls[name] for name in step.servers}
    try:
        async with asyncio.timeout(timeout):
            async for answer in _calls(cast.callers[step.caller], step, urls, f"step-{index}"):
                answers.append(answer)
    except TimeoutError:
        return f"no answer within {timeout:g}s"
    except Exception as exc:
        return f"the caller raised {type(exc).__name__}: {exc}"
    return None


async def _calls(
    caller: Caller, step: Step, urls: Mapping[str, str], thread: str
) -> AsyncIterator[Answer]:
    """Each answer the caller gets, in the step's mode, timed."""
    url = urls[step.servers[0]]
    if step.mode == "orchestrate":
        yield await _timed(caller.orchestrate(urls, step.messages[0]))
    elif step.mode == "cancel":
        yield await _timed(caller.cancel(url, step.messages[0], thread=thread))
    else:
        for message in step.messages:
            stream = step.mode == "stream"
            yield await _timed(
                caller.send(url, message, thread=thread, stream=stream, output=step.output)
            )


async def _timed(call: Awaitable[Answer]) -> Answer:
    started = time.perf_counter()
    answer = await call
    answer.elapsed_ms = (time.perf_counter() - started) * 1000
    return answer


async def _settle(cast: Cast, step: Step, since: float) -> tuple[list[Exchange], list[Note]]:
    """The step's exchanges and notes, once its servers finished what it started."""
    wanted = [e for e in step.expect if isinstance(e, NoteSeen) and not e.absent]
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        exchanges, notes, still_open = cast.transcript.snapshot()
        seen = all(
            any(n.participant == e.server and n.text == e.text for n in notes if n.t >= since)
            for e in wanted
        )
        if (still_open == 0 and seen) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.005)
    names = set(step.servers)
    mine = [
        e for e in exchanges if e.started >= since and e.server in names and e.caller == step.caller
    ]
    return mine, [n for n in notes if n.t >= since and n.participant in names]


def check(expectation: Expectation, outcome: Outcome, scripted: bool) -> Check:
    """One expectation checked; a deterministic one only when scripted agents answered."""
    description = expectation.describe()
    if expectation.deterministic and not scripted:
        return Check(description, "skipped", "a real model answered")
    try:
        detail = expectation.check(outcome)
    except Exception as exc:  # a broken check is a failed check, not a crashed run
        detail = f"the check raised {type(exc).__name__}: {exc}"
    return Check(description, "passed" if detail is None else "failed", detail or "")

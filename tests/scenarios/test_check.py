"""`a2a-bridges check URL`: every framework's caller and the bare a2a-sdk client against our
servers of every adapter, a bare a2a-sdk server, and servers with each known quirk; the
command line's bounds; the pytest fixture."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from a2a_bridges.cli import main
from a2a_bridges.registry import adapter_named
from a2a_bridges.scenarios import Report, acheck, check
from a2a_bridges.scenarios.checker import CHECKS
from a2a_bridges.scenarios.diagnosis import KNOWN, TITLES
from a2a_bridges.scenarios.frameworks import installed, participant
from a2a_bridges.testing import running
from a2a_bridges.testing.quirky import QUIRKS, Quirk, quirky_app

SMALL = 64 * 1024  # an "oversized" message the quirk servers echo back fast
FEW = ["functions", "a2a-sdk"]  # a framework's caller and every a2a-sdk column


def _served(framework: str) -> ASGIApp:
    agent = participant(framework).server(f"{framework}-agent", "assistant", lambda _: None)
    return adapter_named(framework).to_a2a(agent, name=f"{framework}-agent")


async def _check_all(urls: dict[str, str], **options: Any) -> dict[str, Report]:
    room = asyncio.Semaphore(3)  # a few servers at a time: the machine has two cores

    async def one(url: str) -> Report:
        async with room:
            return await acheck(url, **options)

    reports = await asyncio.gather(*(one(url) for url in urls.values()))
    return dict(zip(urls, reports, strict=True))


def _checked(apps: dict[str, ASGIApp], **options: Any) -> dict[str, Report]:
    """Each app served, all checked at once (the callers are many, the machine small)."""
    with contextlib.ExitStack() as stack:
        urls = {name: stack.enter_context(running(app)) for name, app in apps.items()}
        return asyncio.run(_check_all(urls, timeout=30.0, **options))


@pytest.fixture(scope="module")
def ours() -> dict[str, Report]:
    """Our server of every adapter, checked by every caller, a bare a2a-sdk server too."""
    apps = {fw: _served(fw) for fw in installed()}
    return _checked({**apps, "bare a2a-sdk": quirky_app("none")})


@pytest.fixture(scope="module")
def quirky() -> dict[str, Report]:
    """A server with each known quirk, checked by plain functions and the a2a-sdk."""
    apps: dict[str, ASGIApp] = {q: quirky_app(q) for q in QUIRKS}
    return _checked(apps, callers=FEW, oversized_bytes=SMALL)


def _statuses(report: Report) -> dict[str, dict[str, str]]:
    return {
        s.participants[0].framework: {x.label: x.status for x in s.steps} for s in report.scenarios
    }


@pytest.mark.parametrize("server", [*installed(), "bare a2a-sdk"])
def test_every_caller_can_call_our_servers_and_a_bare_sdk_server(
    ours: dict[str, Report], server: str
) -> None:
    report = ours[server]
    assert report.ok, report.failures()
    assert report.findings == []
    columns = set(_statuses(report))
    assert set(installed()) <= columns and "a2a-sdk JSONRPC 1.0" in columns
    if server != "bare a2a-sdk":  # ours serve 1.0 and 0.3, over JSON-RPC and HTTP+JSON
        assert {"a2a-sdk HTTP+JSON 1.0", "a2a-sdk JSONRPC 0.3", "a2a-sdk HTTP+JSON 0.3"} <= columns
    for column, statuses in _statuses(report).items():
        sdk = column.startswith("a2a-sdk")
        assert list(statuses) == [c for c in CHECKS if sdk or c not in ("data", "oversized")]
        # Every check but cancel ran and held; a cancel is exercised when it can be.
        held = {v for k, v in statuses.items() if k != "cancel"}
        assert held == {"passed"}, (column, statuses)
        assert statuses["cancel"] in ("passed", "skipped")
    sdk_cancel = _statuses(report)["a2a-sdk JSONRPC 1.0"]["cancel"]
    assert sdk_cancel == "passed"  # the SDK cancels as soon as the task is named


def test_the_matrix_has_one_row_the_server_and_a_column_per_caller(
    ours: dict[str, Report],
) -> None:
    report = ours["functions"]
    assert report.rows == ("functions-agent",)
    cells = report.matrix()
    assert set(cells) == {("functions-agent", c) for c in report.columns}
    assert report.capabilities() == list(CHECKS)
    assert cells[("functions-agent", "a2a-sdk JSONRPC 1.0")].ran(report.capabilities()) == list(
        CHECKS
    )


def test_memory_is_judged_by_the_context_kept(ours: dict[str, Report]) -> None:
    report = ours["functions"]
    for result in report.scenarios:
        memory = next(s for s in result.steps if s.label == "memory")
        assert memory.reason.startswith("both turns in context ")
        sent = [e for e in result.exchanges if e.id in memory.exchange_ids and e.is_message]
        assert len(sent) == 2 and sent[1].context_id == sent[0].result_context_id


# Which check of the a2a-sdk client each quirk makes fail (None: every caller copes).
TRIPS: dict[str, str | None] = {
    "message-reply": None,
    "status-stream": "stream",
    "replace-artifact": "single",
    "append-whole": "stream",
    "status-repeat": "single",
    "naive-timestamps": "single",
    "non-blocking": "single",
    "loopback-card": "card",
    "wrapped-data": None,
    "inline-history": "memory",
}


@pytest.mark.parametrize("quirk", [q for q in QUIRKS if q != "none"])
def test_each_known_quirk_is_named_where_it_trips_a_caller(
    quirky: dict[str, Report], quirk: Quirk
) -> None:
    report = quirky[quirk]
    assert [f.quirk for f in report.findings] == [quirk]
    assert report.findings[0].text == KNOWN[quirk]
    sdk = next(s for s in report.scenarios if s.participants[0].framework == "a2a-sdk JSONRPC 1.0")
    steps = {s.label: s for s in sdk.steps}
    tripped = TRIPS[quirk]
    if tripped is None:
        assert report.ok, report.failures()
        assert report.findings[0].seen[-1] == "every caller here copes"
        if quirk == "message-reply":
            assert steps["cancel"].status == "skipped" and steps["cancel"].quirk == quirk
        return
    step = steps[tripped]
    assert step.status == "failed" and step.quirk == quirk
    assert step.reason.endswith(f" — known quirk {quirk}: {TITLES[quirk]}")
    cell = report.matrix()[(report.rows[0], "a2a-sdk JSONRPC 1.0")]
    assert cell.results[tripped] == "failed" and TITLES[quirk] in cell.details[tripped]
    assert "trips a2a-sdk JSONRPC 1.0" in report.findings[0].seen


def test_quirks_our_callers_absorb_leave_them_green(quirky: dict[str, Report]) -> None:
    for quirk in ("status-stream", "replace-artifact", "append-whole", "status-repeat"):
        functions = next(s for s in quirky[quirk].scenarios if s.name == "functions")
        assert functions.status == "passed", (quirk, [s.reason for s in functions.steps])


# --- bounds, the command line, credentials, the fixture ---


@contextlib.contextmanager
def _silent_port() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_bad_url_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", _closed_port()]) == 1
    err = capsys.readouterr().err
    assert err.startswith("a2a-bridges: cannot reach http://127.0.0.1:") and err.count("\n") == 1


def test_not_a_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "localhost:8000"]) == 2
    err = capsys.readouterr().err
    assert "expected an http:// or https:// URL" in err and err.count("\n") == 1


def test_a_server_that_never_answers_is_one_line_in_bounded_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with _silent_port() as url:
        started = time.monotonic()
        assert main(["check", url, "--timeout", "1"]) == 1
        assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert err == f"a2a-bridges: {url} did not answer within 1 s\n"


class _Stalling:
    """Serves the card, and never answers a message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            await asyncio.sleep(3600)
        await self.app(scope, receive, send)


def test_a_server_that_stalls_fails_each_check_in_bounded_time() -> None:
    with running(_Stalling(quirky_app("none"))) as url:
        started = time.monotonic()
        report = check(url, timeout=1.0, callers=FEW, oversized_bytes=SMALL)
        took = time.monotonic() - started
    assert took < 60, took
    statuses = _statuses(report)
    for column, steps in statuses.items():
        failed = {k for k, v in steps.items() if v == "failed"}
        assert {"single", "memory", "stream"} <= failed, (column, steps)
    reasons = {s.reason for _, s in report.failed_steps()}
    assert any("no answer within 1 s" in r for r in reasons), reasons


def test_the_command_shows_the_matrix_and_writes_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with running(quirky_app("replace-artifact")) as url:
        code = main(["check", url, "--callers", "functions,a2a-sdk", "--report", str(tmp_path)])
    assert code == 1
    out = capsys.readouterr().out
    assert "Interoperability matrix" in out and "quirky-replace-artifact" in out
    assert "✗ a2a-sdk JSONRPC 1.0 · single: the answer arrived twice — known quirk" in out
    assert "quirk replace-artifact:" in out and "check(s) failed" in out
    html = (tmp_path / "report.html").read_text()
    assert "a2a-bridges check of" in html and "Known quirks seen" in html
    assert (tmp_path / "report.md").exists() and (tmp_path / "summary.json").exists()


def echo(text: str) -> str:
    """Echoes."""
    return f"echo: {text}"


def test_a_server_that_needs_a_token(a2a_serve: Callable[..., str]) -> None:
    url = a2a_serve(echo, auth={"sekrit": "tester"})
    refused = check(url, callers=FEW, oversized_bytes=SMALL, timeout=10)
    assert not refused.ok
    allowed = check(url, token="sekrit", callers=FEW, oversized_bytes=SMALL, timeout=10)
    assert allowed.ok, allowed.failures()


def test_the_fixture_checks_an_agent_or_a_url(a2a_check: Callable[..., Report]) -> None:
    report = a2a_check(echo, callers=FEW, oversized_bytes=SMALL)
    assert report.ok, report.failures()
    assert report.title.startswith("a2a-bridges check of http://127.0.0.1:")

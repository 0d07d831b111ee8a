"""The pytest plugin: fixtures used directly here, and in test files run by a fresh pytest
under each async test runner, with a framework that is registered but not installed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from a2a_bridges.client import RemoteAgent
from tests.scenarios.conftest import GHOST, write_framework


def echo(text: str) -> str:
    """Echoes."""
    return f"echo: {text}"


def _reply_text(reply: Any) -> str:
    return str(reply if isinstance(reply, str) else reply["content"])


ASK: dict[str, Callable[[Any], str]] = {
    # Say `hi` through each framework's native handle, the way its users do.
    "functions": lambda remote: remote.sync("hi"),
    "pydantic_ai": lambda remote: str(remote.run_sync("hi").output),
    "langchain": lambda remote: str(remote.invoke("hi").text),
    "ag2": lambda remote: _reply_text(
        remote.generate_reply(messages=[{"role": "user", "content": "hi"}])
    ),
}


@pytest.mark.parametrize("framework", ASK)
def test_a2a_remote_gives_each_framework_its_native_handle(
    a2a_remote: Callable[..., Any], framework: str
) -> None:
    remote = a2a_remote(echo, framework)
    assert ASK[framework](remote) == "echo: hi"


def test_a2a_serve_serves_until_the_test_ends(a2a_serve: Callable[..., str]) -> None:
    url = a2a_serve(echo, name="echoer")
    remote = RemoteAgent(url)
    assert remote.card_sync().name == "echoer"
    assert remote.send_sync("there").text == "echo: there"
    remote.close()


@pytest.mark.scenario("clarify")
def test_scenario_marker_gives_the_report(scenario_report: Any) -> None:
    assert [s.name for s in scenario_report.scenarios] == ["clarify"]
    assert scenario_report["clarify"].steps


# --- in a fresh pytest ---

SOLO = '''
from a2a_bridges.scenarios import Contains, Message, Participant, Scenario, Step


def solo(framework="functions"):
    """A one-step scenario: a plain function called by `framework`."""
    return Scenario(
        name=f"solo-{framework}",
        title="Solo",
        description="One echo.",
        participants=(
            Participant("echo", "functions", "server"),
            Participant("asker", framework, "caller"),
        ),
        steps=(Step("asker", ("echo",), (Message("echo hi"),), expect=(Contains("echo: hi"),)),),
    )


def half(framework):
    """Two steps: one called by a plain function, one by `framework`."""
    step = Step("asker", ("echo",), (Message("echo hi"),), expect=(Contains("echo: hi"),))
    return Scenario(
        name="half",
        title="Half",
        description="Half of it runs.",
        participants=(
            Participant("echo", "functions", "server"),
            Participant("asker", "functions", "caller"),
            Participant("other", framework, "caller"),
        ),
        steps=(step, Step("other", ("echo",), step.messages, expect=step.expect)),
    )


def shout(text: str) -> str:
    """Shouts."""
    return text.upper()
'''

FIXTURES = """
import pytest

from a2a_bridges.client import RemoteAgent
from solo import shout, solo

MARK = {mark}


@MARK
async def test_a2a_serve(a2a_serve):
    async with RemoteAgent(a2a_serve(shout)) as remote:
        assert (await remote.send("quiet")).text == "QUIET"


@MARK
async def test_a2a_remote(a2a_remote):
    fn = a2a_remote(shout)
    assert await fn("quiet") == "QUIET"


@MARK
@pytest.mark.scenario(solo())
async def test_scenario_report(scenario_report):
    assert scenario_report.ok, scenario_report.failures()
    assert [s.status for s in scenario_report["solo-functions"].steps] == ["passed"]


def test_marker_is_required(scenario_report):
    pass
"""

MISSING = """
import pytest

from solo import half, shout, solo


def test_remote(a2a_remote):
    a2a_remote(shout, "ghost")


@pytest.mark.scenario(solo("ghost"))
def test_scenario(scenario_report):
    pass


@pytest.mark.scenario(half("ghost"))
def test_half(scenario_report):
    # Skipping missing frameworks, a scenario that ran in part gives its report.
    assert [s.status for s in scenario_report["half"].steps] == ["passed", "skipped"]


@pytest.mark.a2a_skip_missing
def test_marked(a2a_remote):
    a2a_remote(shout, "ghost")


def test_unknown(a2a_remote):
    # An unknown framework is not a missing one: from_a2a names the choices.
    a2a_remote(shout, "no_such_framework")
"""


def _pytest(tmp_path: Path, tests: str, *args: str, ini: str = "") -> str:
    """Run `tests` in a fresh pytest with a ghost framework installed; its report."""
    (tmp_path / "solo.py").write_text(textwrap.dedent(SOLO))
    (tmp_path / "test_user.py").write_text(textwrap.dedent(tests))
    (tmp_path / "pytest.ini").write_text(f"[pytest]\n{ini}\n")
    site = write_framework(tmp_path / "site", "ghost", GHOST)
    path = os.pathsep.join([str(tmp_path), str(site), os.environ.get("PYTHONPATH", "")])
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-rA", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=180,
    )
    return run.stdout


@pytest.mark.parametrize(
    ("runner", "mark"),
    [
        pytest.param(
            ["-p", "asyncio", "--asyncio-mode=strict"], "pytest.mark.asyncio", id="asyncio-strict"
        ),
        pytest.param(
            ["-p", "asyncio", "--asyncio-mode=auto"], "pytest.mark.usefixtures()", id="asyncio-auto"
        ),
        pytest.param(["-p", "no:asyncio"], "pytest.mark.anyio", id="anyio"),
    ],
)
def test_fixtures_under_each_async_runner(tmp_path: Path, runner: list[str], mark: str) -> None:
    out = _pytest(tmp_path, FIXTURES.format(mark=mark), *runner)
    for name in ("test_a2a_serve", "test_a2a_remote", "test_scenario_report"):
        assert f"PASSED test_user.py::{name}" in out, out
    assert "ERROR test_user.py::test_marker_is_required" in out, out
    assert "scenario_report needs @pytest.mark.scenario(name)" in out, out


def test_a_missing_framework_fails_naming_what_to_install(tmp_path: Path) -> None:
    out = _pytest(tmp_path, MISSING)
    assert "FAILED test_user.py::test_remote" in out, out
    assert "ERROR test_user.py::test_scenario" in out, out  # in the fixture's setup
    assert "ERROR test_user.py::test_half" in out, out
    how = "(to skip such tests instead: --a2a-skip-missing, the ini option"
    hint = "pip install 'a2a-bridges[ghost]'"
    assert f"ghost is not installed (ghost: {hint}) {how}" in out, out
    assert f"scenario solo-ghost cannot run in full: ghost is not installed: {hint} {how}" in out
    assert "test_user.py::test_marked SKIPPED" in out and "1 skipped" in out, out
    assert "FAILED test_user.py::test_unknown" in out, out
    assert "unknown framework 'no_such_framework'" in out, out


@pytest.mark.parametrize(
    ("args", "ini"),
    [
        pytest.param(["--a2a-skip-missing"], "", id="option"),
        pytest.param([], "a2a_bridges_skip_missing = true", id="ini"),
    ],
)
def test_skipping_missing_frameworks_is_opted_into(
    tmp_path: Path, args: list[str], ini: str
) -> None:
    out = _pytest(tmp_path, MISSING, *args, ini=ini)
    for name in ("test_remote", "test_scenario", "test_marked"):
        assert f"test_user.py::{name} SKIPPED" in out, out
    assert "PASSED test_user.py::test_half" in out, out
    assert "FAILED test_user.py::test_unknown" in out, out
    assert "1 failed" in out, out

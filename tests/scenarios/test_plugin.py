"""The pytest plugin: fixtures used directly here, and in a test file run by a fresh pytest."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridges import RemoteAgent
from scenarios import FRAMEWORKS


def echo(text: str) -> str:
    """Echoes."""
    return f"echo: {text}"


def _ask(framework: str, remote: Any) -> str:
    """Say `hi` through the framework's native handle, the way its users do."""
    if framework == "functions":
        return str(remote.remote.send_sync("hi").text)
    if framework == "pydantic_ai":
        return str(remote.run_sync("hi").output)
    if framework == "langchain":
        return str(remote.invoke("hi").text)
    reply = remote.generate_reply(messages=[{"role": "user", "content": "hi"}])
    return str(reply if isinstance(reply, str) else reply["content"])


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a2a_remote_gives_each_framework_its_native_handle(
    a2a_remote: Callable[..., Any], framework: str
) -> None:
    remote = a2a_remote(echo, framework)
    assert _ask(framework, remote) == "echo: hi"


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


USER_TESTS = '''
import pytest

def shout(text: str) -> str:
    """Shouts."""
    return text.upper()

def test_native_handle(a2a_remote):
    fn = a2a_remote(shout)
    assert fn.remote.send_sync("quiet").text == "QUIET"

def test_missing_framework_skips(a2a_remote):
    a2a_remote(shout, "no_such_framework_installed")

@pytest.mark.scenario("clarify")
def test_bundled(scenario_report):
    assert scenario_report.ok, scenario_report.failures()

def test_marker_is_required(scenario_report):
    pass
'''


def test_plugin_in_a_fresh_pytest(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py", "-rA"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = run.stdout
    assert "PASSED test_user.py::test_native_handle" in out, out
    assert "PASSED test_user.py::test_bundled" in out, out
    assert "ERROR test_user.py::test_marker_is_required" in out, out
    # An unknown framework is not a missing one: from_a2a names the choices.
    assert "FAILED test_user.py::test_missing_framework_skips" in out, out
    assert "unknown framework 'no_such_framework_installed'" in out, out

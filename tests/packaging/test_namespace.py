"""Installed names collide with nothing: a user project with its own `scenarios/` and `adapters/`
packages, with AdapterHub's `adapters` distribution installed beside, runs pytest with our
plugin and `a2a-bridges serve`.

Builds the wheel and a fresh virtualenv (with uv, from the package index), so it runs in its own
nox session, `packaging`, not in every test session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.packaging

USER_TEST = """
from adapters import mine as own_adapters
from scenarios import mine as own_scenarios


def shout(text: str) -> str:
    return text.upper()


def test_our_plugin_beside_the_users_packages(a2a_serve, a2a_remote):
    assert own_adapters.NAME == "user adapters" and own_scenarios.NAME == "user scenarios"
    fn = a2a_remote(a2a_serve(shout), "functions")
    assert fn.sync("hello") == "HELLO"
"""


def _uv() -> str:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists():
        pytest.fail("uv is needed to build the fresh environment (pip install uv)")
    return uv


def _run(*cmd: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_project_with_its_own_scenarios_and_adapters(tmp_path: Path) -> None:
    uv = _uv()
    dist = tmp_path / "dist"
    _run(uv, "build", "--wheel", "-o", dist, ROOT, cwd=tmp_path)
    wheel = next(dist.glob("a2a_bridges-*.whl"))
    venv = tmp_path / "venv"
    _run(uv, "venv", "-q", "-p", sys.executable, venv, cwd=tmp_path)
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    # --python: nox's own environment variables must not send the install elsewhere.
    python = venv / "bin" / "python"
    _run(uv, "pip", "install", "-q", "--python", python, wheel, "pytest", cwd=tmp_path, env=env)
    # AdapterHub's distribution ships a top-level `adapters` package of its own.
    _run(uv, "pip", "install", "-q", "--python", python, "--no-deps", "adapters", cwd=tmp_path)

    project = tmp_path / "project"
    for package in ("adapters", "scenarios"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text("")
        (project / package / "mine.py").write_text(f'NAME = "user {package}"\n')
    (project / "test_user.py").write_text(textwrap.dedent(USER_TEST))
    (project / "agent.py").write_text("def shout(text: str) -> str:\n    return text.upper()\n")
    out = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=env)
    assert "1 passed" in out

    port = _free_port()
    serve = [venv / "bin" / "a2a-bridges", "serve", "agent.py:shout", "--port", str(port)]
    proc = subprocess.Popen([str(c) for c in serve], cwd=project, env=env, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                httpx.get(url + "/.well-known/agent-card.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1].decode()
        answer = _run(venv / "bin" / "a2a-bridges", "ask", url, "quiet please", cwd=project)
        assert answer.strip() == "QUIET PLEASE"
    finally:
        proc.terminate()
        proc.wait(timeout=10)

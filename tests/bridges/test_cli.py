"""The `a2a-bridges` command line: serve, ask, card, and one-line errors."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from a2a_bridges.cli import main
from a2a_bridges.testing import running

EXAMPLE = Path(__file__).parents[2] / "examples" / "echo.py"


def test_ask_streams_and_card_prints(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", server, "hello"]) == 0
    out, err = capsys.readouterr()
    assert out == "echo: hello\n"
    context = err.split("[context ")[1].split("]")[0]
    assert main(["ask", server, "history", "--context", context]) == 0
    assert capsys.readouterr().out == "hello | history\n"
    assert main(["card", server]) == 0
    assert '"name": "tester"' in capsys.readouterr().out


def test_ask_prints_data_parts(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", server, "data"]) == 0
    # protobuf keeps no key order
    assert json.loads(capsys.readouterr().out) == {"answer": 42, "items": [1, 2]}


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "argv,code,text",
    [
        (["serve", "no_such_module_xyz:agent"], 2, "cannot import"),
        (["serve", "json:no_such_attr"], 2, "no attribute"),
        (["serve", "missing-colon"], 2, "MODULE:ATTR"),
        (["serve", "json:dumps", "--port", "notanumber"], 2, "invalid int"),
        (["ask"], 2, "required"),
        (["bogus"], 2, "invalid choice"),
        (["ask", "http://127.0.0.1:9", "hi"], 1, "cannot reach"),
    ],
)
def test_bad_arguments_get_one_line(
    argv: list[str], code: int, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    assert text in one_line_error(capsys)


def test_unsupported_target_gets_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "sys:maxsize"]) == 1
    assert "cannot serve builtins.int" in one_line_error(capsys)


def test_not_an_a2a_server(capsys: pytest.CaptureFixture[str]) -> None:
    app = Starlette(routes=[Route("/{p:path}", lambda r: PlainTextResponse("nope", 404))])
    with running(app) as url:
        assert main(["card", url]) == 1
        assert "not an A2A server" in one_line_error(capsys)
        assert main(["ask", url, "hi"]) == 1
        assert "not an A2A server" in one_line_error(capsys)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(port: int, cwd: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "a2a_bridges", "serve", f"{EXAMPLE}:echo", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/.well-known/agent-card.json", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.communicate()[1].decode())


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=10)


def test_serve_keeps_conversations_across_a_restart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start(port, tmp_path)
    try:
        assert main(["ask", url, "first words"]) == 0
        out, err = capsys.readouterr()
        assert out == "first words (turn 1)\n"
        context = err.split("[context ")[1].split("]")[0]
    finally:
        stop(proc)
    assert (tmp_path / "a2a-bridges.db").exists()  # the default store, in the working folder
    proc = start(port, tmp_path)
    try:
        assert main(["ask", url, "again", "--context", context]) == 0
        assert capsys.readouterr().out == "again (turn 2)\n"
    finally:
        stop(proc)


def test_version_and_bare_commands_show_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("a2a-bridges ")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "usage: a2a-bridges" in err and "serve" in err and "ask" in err
    assert main(["scenarios"]) == 2
    assert "usage: a2a-bridges scenarios" in capsys.readouterr().err


def test_help_shows_what_each_option_does() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "a2a_bridges", "serve", "--help"], capture_output=True, text=True
    ).stdout
    assert "the port to listen on (default: 8000)" in out
    assert "--reload" in out and "--option" in out and "--token" in out


def test_a_taken_port_is_one_line_before_anything_is_served(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", f"{EXAMPLE}:echo", "--port", str(port), "--store", "memory"]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "serving" not in err
    assert len(err.strip().splitlines()) == 1


def two_arguments(a: str, b: str) -> str:
    return a + b


class Agent:
    def __call__(self, text: str) -> str:
        return text


@pytest.mark.parametrize(
    "target,text",
    [
        ("two_arguments", "it is called with one argument"),
        ("Agent", "the class tests.bridges.test_cli.Agent (serve an instance of it)"),
    ],
)
def test_what_cannot_be_called_is_refused_at_start(
    target: str, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", f"tests.bridges.test_cli:{target}", "--store", "memory"]) == 1
    assert text in one_line_error(capsys)


def test_serve_passes_adapter_options_and_requires_tokens(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tokens = tmp_path / "tokens"
    tokens.write_text("s3cret\n")
    cmd = [sys.executable, "-m", "a2a_bridges", "serve", f"{EXAMPLE}:echo", "--port", str(port)]
    cmd += ["--store", "memory", "--token-file", str(tokens), "--name", "echoer"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(url, proc)
        assert main(["ask", url, "hi"]) == 1  # no token
        assert main(["ask", url, "hi", "--token", "s3cret"]) == 0
        card = httpx.get(url + "/.well-known/agent-card.json").json()
        assert card["name"] == "echoer" and "bearer" in card["securitySchemes"]
    finally:
        stop(proc)


def _wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/.well-known/agent-card.json", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.communicate()[1].decode())


def test_serving_to_other_machines_without_a_token_warns() -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "a2a_bridges", "serve", f"{EXAMPLE}:echo", "--host", "0.0.0.0"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--store", "memory"], stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}", proc)  # type: ignore[arg-type]
    finally:
        proc.terminate()
        err = proc.communicate(timeout=10)[1]
    assert "WARNING: 0.0.0.0 is reachable from other machines and no --token" in err


SLOW = """
import asyncio


async def slow(text: str) -> str:
    await asyncio.sleep(60)
    return "never"
"""


def test_sigterm_fails_what_runs_and_exits(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "a2a_bridges", "serve", "slow.py:slow", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stderr=subprocess.PIPE)
    try:
        _wait_for(url, proc)
        with concurrent.futures.ThreadPoolExecutor() as pool:
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "SendMessage",
                "params": {
                    "message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "x"}]}
                },
            }
            waiting = pool.submit(
                httpx.post, url + "/", json=body, headers={"A2A-Version": "1.0"}, timeout=30
            )
            time.sleep(1)  # the blocking request is open, its task running
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            # uvicorn exits by the signal it got, once it has shut down.
            assert proc.wait(timeout=15) in (0, -signal.SIGTERM)
            assert time.monotonic() - started < 10
            status = waiting.result().json()["result"]["task"]["status"]
        assert status["state"] == "TASK_STATE_FAILED"
        assert "the server shut down while this task ran" in status["message"]["parts"][0]["text"]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_reload_serves_and_picks_up_changes(tmp_path: Path) -> None:
    agent = tmp_path / "agent.py"
    agent.write_text("def reply(text: str) -> str:\n    return 'one'\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "a2a_bridges", "serve", "agent.py:reply", "--reload"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--store", "memory"], cwd=tmp_path, stderr=subprocess.PIPE
    )
    try:
        _wait_for(url, proc)
        assert main(["ask", url, "hi"]) == 0
        agent.write_text("def reply(text: str) -> str:\n    return 'two'\n")
        deadline = time.monotonic() + 30
        answer = ""
        while time.monotonic() < deadline and answer != "two":
            time.sleep(0.5)
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                body = {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "SendMessage",
                    "params": {
                        "message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "x"}]}
                    },
                }
                task = httpx.post(url + "/", json=body, headers={"A2A-Version": "1.0"}).json()
                answer = task["result"]["task"]["artifacts"][0]["parts"][0]["text"]
        assert answer == "two"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_json_logs_carry_task_and_context_ids(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "a2a_bridges", "serve", f"{EXAMPLE}:echo", "--port", str(port)]
    cmd += ["--store", "memory", "--log-level", "info", "--log-format", "json"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(url, proc)  # type: ignore[arg-type]
        assert main(["ask", url, "hi"]) == 0
        time.sleep(0.5)
    finally:
        proc.terminate()
        err = proc.communicate(timeout=15)[1]
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    ran = [r for r in records if r["message"].endswith("s") and "ran" in r["message"]]
    assert ran and ran[0]["task_id"] and ran[0]["context_id"] and ran[0]["seconds"] >= 0
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)

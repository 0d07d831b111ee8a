"""The `a2a-bridges` command line: serve, ask, card, and one-line errors."""

from __future__ import annotations

import json
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

from bridges.cli import main
from bridges.testing import running

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
    cmd = [sys.executable, "-m", "bridges", "serve", f"{EXAMPLE}:echo", "--port", str(port)]
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

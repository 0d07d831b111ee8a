"""Bad input gets a JSON-RPC or HTTP error with a readable message, and the server keeps serving."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from a2a_bridges import Conversation, to_a2a
from a2a_bridges.testing import running

V1 = {"A2A-Version": "1.0", "Content-Type": "application/json"}


def message(parts: list[dict], **extra: object) -> dict:  # type: ignore[type-arg]
    return {"messageId": "m", "role": "ROLE_USER", "parts": parts, **extra}


def rpc(method: str, params: object = None) -> bytes:
    body: dict[str, object] = {"jsonrpc": "2.0", "id": 7, "method": method}
    if params is not None:
        body["params"] = params
    return json.dumps(body).encode()


async def echo(text: str) -> str:
    return f"echo: {text}"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running(to_a2a(echo, max_body_bytes=4096)) as url:
        yield url


CASES = {
    "malformed json": (b'{"jsonrpc": "2.0", "method": ', -32700),
    "not an object": (b"[1, 2]", -32600),
    "unknown method": (rpc("DoSomething", {}), -32601),
    "missing params": (rpc("SendMessage"), -32602),
    "message without parts": (rpc("SendMessage", {"message": message([])}), -32602),
    "unknown task id": (rpc("GetTask", {"id": "no-such-task"}), -32001),
    "cancel unknown task": (rpc("CancelTask", {"id": "no-such-task"}), -32001),
    "empty part": (rpc("SendMessage", {"message": message([{}])}), -32602),
    "wrong part kind": (rpc("SendMessage", {"message": message([{"video": "x"}])}), -32602),
    "wrong part type": (rpc("SendMessage", {"message": message([{"text": 5}])}), -32602),
    "nested 101 deep": (
        rpc("SendMessage", {"message": message([{"text": "hi"}])}).replace(
            b'"params"', b'"x": ' + b"[" * 101 + b"]" * 101 + b', "params"'
        ),
        -32700,
    ),
    "NaN after a byte-order mark": (
        b"\xef\xbb\xbf"
        + rpc("SendMessage", {"message": message([{"text": "hi"}])}).replace(
            b'"params"', b'"x": NaN, "params"'
        ),
        -32700,
    ),
}


@pytest.mark.parametrize("body,code", CASES.values(), ids=CASES.keys())
def test_jsonrpc_errors(url: str, body: bytes, code: int) -> None:
    response = httpx.post(url + "/", content=body, headers=V1, timeout=10)
    assert response.status_code == 200
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"] and "Traceback" not in response.text
    # ...and the server keeps serving.
    ok = httpx.post(
        url + "/",
        content=rpc("SendMessage", {"message": message([{"text": "hi"}])}),
        headers=V1,
        timeout=10,
    )
    assert ok.json()["result"]["task"]["artifacts"][0]["parts"] == [{"text": "echo: hi"}]


def test_brackets_in_a_text_are_no_nesting(url: str) -> None:
    text = "[{" * 150
    body = rpc("SendMessage", {"message": message([{"text": text}])})
    response = httpx.post(url + "/", content=body, headers=V1, timeout=10)
    assert response.json()["result"]["task"]["artifacts"][0]["parts"] == [{"text": f"echo: {text}"}]


def test_v03_wrong_part_kind(url: str) -> None:
    bad = {"messageId": "m", "role": "user", "parts": [{"kind": "video", "x": 1}]}
    response = httpx.post(url + "/", content=rpc("message/send", {"message": bad}), timeout=10)
    assert response.status_code == 200
    assert response.json()["error"]["code"] in (-32600, -32602)


def test_oversized_body(url: str) -> None:
    big = rpc("SendMessage", {"message": message([{"text": "x" * 10_000}])})
    response = httpx.post(url + "/", content=big, headers=V1, timeout=10)
    assert response.status_code == 413
    assert "too large" in response.json()["error"]["message"]


def test_oversized_chunked_body(url: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield rpc("SendMessage", {"message": message([{"text": "x" * 3000}])})[:-1]
        yield b" " * 3000 + b"}"

    # No Content-Length: the limit is enforced while the body streams in.
    response = httpx.post(url + "/", content=chunks(), headers=V1, timeout=10)
    assert response.status_code == 413


@pytest.mark.parametrize(
    "method,path,body,status",
    [
        ("POST", "/message:send", b"{bad json", 400),
        ("GET", "/tasks/no-such-task", None, 404),
        ("POST", "/tasks/no-such-task:cancel", b"{}", 404),
        ("POST", "/message:send", b'{"message": {"parts": 3}}', 400),
    ],
)
def test_rest_errors(url: str, method: str, path: str, body: bytes | None, status: int) -> None:
    response = httpx.request(method, url + path, content=body, headers=V1, timeout=10)
    assert response.status_code == status
    assert "error" in response.json()


def test_missing_version_header_is_read_as_0_3(url: str) -> None:
    # A 1.0 method without `A2A-Version` is treated as 0.3, and refused with a readable error.
    response = httpx.post(
        url + "/", content=rpc("SendMessage", {"message": message([{"text": "x"}])}), timeout=10
    )
    assert response.status_code == 200
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    "path,status", [("/", 200), ("/message:send", 400), ("/v1/message:send", 400)]
)
def test_body_that_is_not_utf8(url: str, path: str, status: int) -> None:
    response = httpx.post(url + path, content=b'{"x": "\xff\xfe"}', headers=V1, timeout=10)
    assert response.status_code == status
    assert "UTF-8" in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("path", ["/", "/message:send"])
def test_a_wrong_content_type_is_refused_as_such(url: str, path: str) -> None:
    body = rpc("SendMessage", {"message": message([{"text": "hi"}])})
    response = httpx.post(
        url + path, content=body, headers={**V1, "Content-Type": "text/plain"}, timeout=10
    )
    assert response.status_code == 415
    text = response.text
    assert "content type text/plain is not supported" in text
    if path == "/":
        assert response.json()["error"]["code"] == -32005
    for kind in ("application/json", "application/a2a+json", "application/json; charset=utf-8"):
        ok = httpx.post(url + "/", content=body, headers={**V1, "Content-Type": kind}, timeout=10)
        assert ok.json()["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED", kind


def test_limits_get_one_clear_error_each() -> None:
    async def slow(conversation: Conversation) -> str:
        await asyncio.sleep(conversation.text.count("z") * 0.2)
        return "done"

    app = to_a2a(slow, max_parts=3, max_tasks=1, max_waiting=1, task_timeout=0.5)
    with running(app) as url:
        many = rpc("SendMessage", {"message": message([{"text": "a"}] * 4)})
        error = httpx.post(url + "/", content=many, headers=V1, timeout=10).json()["error"]
        assert error["code"] == -32602 and "4 parts; at most 3" in error["message"]
        long_id = {**json.loads(rpc("SendMessage", {"message": message([{"text": "a"}])}))}
        long_id["params"]["message"]["contextId"] = "c" * 40
        error = httpx.post(url + "/", json=long_id, headers=V1, timeout=10).json()["error"]
        assert error["code"] == -32602 and "contextId is 40 characters" in error["message"]
        # One task at a time, one more waiting its turn: a third message gets 503.
        body = rpc("SendMessage", {"message": message([{"text": "zz"}])})
        with concurrent.futures.ThreadPoolExecutor() as pool:
            sends = [pool.submit(httpx.post, url + "/", content=body, headers=V1, timeout=10)]
            time.sleep(0.1)
            sends.append(pool.submit(httpx.post, url + "/", content=body, headers=V1, timeout=10))
            time.sleep(0.1)
            busy = httpx.post(url + "/", content=body, headers=V1, timeout=10)
            assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
            assert busy.json()["error"]["message"].startswith("the server is busy")
            for send in sends:
                state = send.result().json()["result"]["task"]["status"]["state"]
                assert state == "TASK_STATE_COMPLETED"
        # A run past the timeout fails, saying why.
        slow_body = rpc("SendMessage", {"message": message([{"text": "zzzzz"}])})
        task = httpx.post(url + "/", content=slow_body, headers=V1, timeout=10).json()
        status = task["result"]["task"]["status"]
        assert status["state"] == "TASK_STATE_FAILED"
        assert "did not finish within 0.5s" in status["message"]["parts"][0]["text"]

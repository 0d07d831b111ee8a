"""The benchmarks' servers: each ablation takes out the layer it names, and only that one; each
server process clocks its garbage collections."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from a2a_bridges.testing import running
from benchmarks.servers import ABLATIONS, LAYERS, app, ours_without, start


def _send(
    url: str, *, method: str = "SendMessage", context_id: str = "", kind: str = "application/json"
) -> httpx.Response:
    message: dict[str, Any] = {
        "role": "ROLE_USER" if method == "SendMessage" else "user",
        "messageId": uuid.uuid4().hex,
        "parts": [{"text": "hi"}] if method == "SendMessage" else [{"kind": "text", "text": "hi"}],
    }
    if method != "SendMessage":
        message["kind"] = "message"
    if context_id:
        message["contextId"] = context_id
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"message": message}}
    headers = {"Content-Type": kind, "A2A-Version": "1.0" if method == "SendMessage" else "0.3"}
    return httpx.post(url, content=json.dumps(body), headers=headers, timeout=10)


def _kept(url: str, layer: str) -> bool:
    """Whether the server at `url` still does what `layer` does."""
    if layer == "guard":  # refuses a body that says it is not JSON
        return _send(url, kind="text/plain").status_code == 415
    if layer == "checks":  # refuses ids with control characters
        return "control characters" in _send(url, context_id="a\u0007b").text
    if layer == "compat":  # answers A2A 0.3's method names
        return "echo: hi" in _send(url, method="message/send").text
    assert layer == "executor"  # keeps the user's message in the task's history
    return "history" in _send(url).json()["result"]["task"]


@pytest.mark.parametrize("layer", ABLATIONS)
def test_each_ablation_server_takes_out_its_layers_and_still_answers(layer: str) -> None:
    taken = set(layer.split("+"))
    with running(app("ours-echo", None)) as ours, running(ours_without(taken)) as without:
        answer = _send(without).json()["result"]["task"]
        assert answer["status"]["state"] == "TASK_STATE_COMPLETED"
        assert "echo: hi" in json.dumps(answer["artifacts"])
        for name in LAYERS:
            assert _kept(ours, name)
            assert _kept(without, name) is (name not in taken), name


def test_an_unknown_layer_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown layer"):
        ours_without({"memory"})


def test_a_server_process_clocks_its_garbage_collections() -> None:
    server = start("bare-echo")
    try:
        server.ready()
        before = server.collecting()
        for _ in range(50):  # enough allocations for young collections
            assert _send(server.url).status_code == 200
        assert server.collecting() > before
    finally:
        server.stop()
    assert server.collecting() == 0.0  # its folder is gone: no clock, no error

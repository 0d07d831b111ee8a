"""The interop harness itself (interop/): its drivers' plumbing against our own server and
client, the judging of a cell, and what makes a cell the peer's. `nox -s interop` runs the
real matrix against every peer."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from a2a_bridges import to_a2a
from a2a_bridges.adapters.participants.functions import participant
from a2a_bridges.testing import running
from interop import driver, matrix, ours
from interop.driver import FEATURES, Seen

ROOT = Path(__file__).resolve().parents[2]
GRPC = importlib.util.find_spec("grpc") is not None

pytestmark = pytest.mark.anyio
needs_grpc = pytest.mark.skipif(not GRPC, reason="the a2a-sdk 1.x driver needs grpcio (extra grpc)")


def _call(module: str, clients: list[str], url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    done = subprocess.run(
        [sys.executable, "-m", module, "call", ",".join(clients), url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    described = matrix._described(done.stdout)
    assert described is not None
    cells = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"client')]
    return described, cells


@needs_grpc
def test_the_bare_sdk_driver_passes_every_feature_against_our_server() -> None:
    """The a2a-sdk 1.x driver, run as `nox -s interop` runs it, against a served agent."""
    clients = ["JSON-RPC", "HTTP+JSON", "gRPC"]
    agent = participant.server("fn-interop", "assistant", lambda note: None)
    with running(to_a2a(agent, grpc="127.0.0.1:0")) as url:
        described, cells = _call("interop.peers.a2a_sdk", clients, url)
    assert described["versions"]["a2a-sdk"].startswith("1.")
    assert {c["client"] for c in cells} == set(clients)
    assert len(cells) == len(clients) * len(FEATURES)
    assert [c for c in cells if c["result"] != "passed"] == []


@needs_grpc
async def test_our_client_passes_every_feature_against_the_bare_sdk_server(tmp_path: Path) -> None:
    """The bare server as the matrix runs it (a process of its own), called by RemoteAgent."""
    port = matrix._free_port()
    command = [sys.executable, "-m", "interop.peers.a2a_sdk", "serve", "JSON-RPC", str(port)]
    spec = matrix.Spec("bare", "a2a_sdk", [*command, str(matrix._free_port())], port)
    with matrix.serving([spec], tmp_path):
        assert spec.failure is None and spec.described is not None
        client = driver.Client(ours._remote_agent)
        cells = [await driver._cell(client, spec.url, f) for f in FEATURES]
    assert cells == [("passed", "")] * len(FEATURES)


def test_a_server_that_never_answers_is_reported_not_waited_for(tmp_path: Path) -> None:
    spec = matrix.Spec("broken", "a2a_sdk", [sys.executable, "-c", "raise SystemExit('no')"], 1)
    with matrix.serving([spec], tmp_path):
        pass
    assert spec.failure == "the server did not start: no"


@pytest.mark.parametrize(
    ("feature", "seen", "why"),
    [
        ("single turn", [Seen("echo: hello")], None),
        ("single turn", [Seen("echo: helloecho: hello")], "the answer is shown 2 times"),
        ("multi-turn", [Seen("x"), Seen("I remember nothing.")], "got 'I remember nothing.'"),
        ("streaming", [Seen(driver.STREAMED, deltas=[driver.STREAMED])], "not streamed"),
        ("agent error", [Seen(error="remote task failed: the build broke")], None),
        ("agent error", [Seen("[could not answer: the build broke]")], None),  # text-only
        ("agent error", [Seen(error="task failed")], "the reason is lost"),
        ("agent error", [Seen("fine")], "no error reported"),
        ("data part", [Seen(data=driver.script.VERDICT)], None),
        ("data part", [Seen(json.dumps(driver.script.VERDICT))], None),  # as JSON text
        ("data part", [Seen("approved")], "got 'approved'"),
    ],
)
def test_cells_are_judged_by_what_the_caller_saw(
    feature: str, seen: list[Seen], why: str | None
) -> None:
    found = driver.judge(feature, seen)
    assert found == why if why is None else found is not None and found.startswith(why)


def test_a_failure_the_bare_counterpart_shares_is_the_peers() -> None:
    bare = matrix.BARE_LABEL
    cells = [
        matrix.Cell("to us", "peer", "a2a-bridges functions", "streaming", "failed", "x"),
        matrix.Cell("to us", "peer", bare, "streaming", "failed", "x"),
        matrix.Cell("to us", "peer", "a2a-bridges functions", "data part", "failed", "y"),
        matrix.Cell("to us", "peer", bare, "data part", "passed"),
        matrix.Cell("from us", "ours", "peer server", "streaming", "passed"),
    ]
    declared = {"peer server": {"streaming": "it does not stream"}}
    attributed = matrix.attribute(cells, declared)
    found = [(c.feature, c.result, c.reason) for c in attributed]
    assert found[0] == ("streaming", "n/a", "fails against the bare a2a-sdk 1.x server too (x)")
    assert found[2] == ("data part", "failed", "y")  # the bare server passes it: ours to fix
    assert found[4] == ("streaming", "n/a", "it does not stream")
    page = matrix.render(
        {
            "command": "nox -s interop",
            "generated": "2026-12-01",
            "seconds": 1,
            "versions": {"peer": {"python": "3.11.7"}},
            "not_installable": {"gone": "not installable here: no wheel"},
            "notes": {},
            "features": list(FEATURES),
            "cells": [
                {**c.__dict__, "reference": bare in (c.client, c.server)} for c in attributed
            ],
        }
    )
    assert "- gone: not installable here: no wheel" in page
    assert "| peer → a2a-bridges functions |  |  | n/a [1](#r1) |  | failed [2](#r2) |" in page

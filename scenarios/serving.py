"""Serving one participant: in a thread of this process, or in a process of its own."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Literal, TypeAlias

from starlette.types import ASGIApp

from a2a_bridges.registry import adapter_named
from a2a_bridges.scenarios.frameworks import participant as participant_of
from a2a_bridges.scenarios.model import Participant
from a2a_bridges.scenarios.transcript import Recording, Sink, Transcript
from a2a_bridges.testing import running

__all__ = ["Isolation", "serve_app", "serving"]

Isolation: TypeAlias = Literal["thread", "process"]


def serve_app(participant: Participant, model: str | None, sink: Sink) -> ASGIApp:
    """`participant`'s agent (on `model`, or its script) served by its framework's adapter,
    every exchange and every note of its run recorded into `sink`."""

    def notes(text: str) -> None:
        sink.note(participant.name, text)

    agent = participant_of(participant.framework).server(
        participant.name, participant.behaviour, notes, model
    )
    app = adapter_named(participant.framework).to_a2a(agent, name=participant.name)
    return Recording(app, server=participant.name, framework=participant.framework, sink=sink)


def serving(
    participant: Participant,
    model: str | None,
    transcript: Transcript,
    isolation: Isolation,
    tmp: Path,
) -> contextlib.AbstractContextManager[str]:
    """Serve `participant` while the context lasts; its URL is the context's value."""
    if isolation == "thread":
        return running(serve_app(participant, model, transcript))
    record = tmp / f"{participant.name}.jsonl"
    transcript.follow(record)
    return _child(participant, model, record)


@contextlib.contextmanager
def _child(participant: Participant, model: str | None, record: Path) -> Iterator[str]:
    """Serve `participant` from a child process (`a2a_bridges.scenarios.process`)."""
    spec = {**asdict(participant), "model": model, "record": str(record)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "a2a_bridges.scenarios.process", json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"{participant.name}'s process did not start (exit {proc.poll()})")
        yield line
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

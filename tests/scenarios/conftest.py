"""Frameworks registered the way a third party registers one (a distribution on sys.path
whose entry point names an adapter, so the registry finds it with no edit to a2a-bridges),
and a report recorded by hand."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from a2a_bridges.registry import registered
from a2a_bridges.scenarios import (
    CastMember,
    Problem,
    Report,
    ScenarioResult,
    StepResult,
    bundled,
)
from a2a_bridges.scenarios.frameworks import participant

GHOST = """
raise ImportError("No module named 'ghost'")
"""

TWIN = """
from a2a_bridges.adapters.functions import FunctionsAdapter
from a2a_bridges.adapters.participants.functions import FunctionsParticipant


class TwinParticipant(FunctionsParticipant):
    short = "twin"


class TwinAdapter(FunctionsAdapter):
    name = "twin"
    participant = "twin_framework:participant"


participant = TwinParticipant()
adapter = TwinAdapter()
"""


def _forget() -> None:
    for cache in (registered, bundled, participant):
        cache.cache_clear()


def write_framework(root: Path, name: str, source: str) -> Path:
    """Write into `root` a distribution registering the adapter `name`, from a module of
    `source`; put `root` on sys.path (or PYTHONPATH) to install it."""
    module = f"{name}_framework"
    info = root / f"{module}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-framework\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[a2a_bridges.adapters]\n{name} = {module}:adapter\n")
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    return root


def _installed(name: str, source: str, root: Path, mp: pytest.MonkeyPatch) -> Iterator[str]:
    mp.syspath_prepend(str(write_framework(root, name, source)))
    _forget()
    yield name
    sys.path.remove(str(root))
    sys.modules.pop(f"{name}_framework", None)
    _forget()


@pytest.fixture
def ghost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A framework registered but not installed: its adapter's module fails to import."""
    yield from _installed("ghost", GHOST, tmp_path, monkeypatch)


@pytest.fixture
def twin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A third party's framework, installed: plain functions under another name."""
    yield from _installed("twin", TWIN, tmp_path, monkeypatch)


def _step(index: int, label: str, caller: str, server: str, status: str) -> StepResult:
    return StepResult(index, label, caller, [server], "send", ["hi"], status)  # type: ignore[arg-type]


@pytest.fixture
def recorded() -> Report:
    """A run as recorded elsewhere: alpha's clarifier lacked a package, beta cannot ask,
    gamma was not installed."""
    result = ScenarioResult(
        name="recorded",
        title="Recorded",
        description="A run recorded on another machine.",
        participants=[
            CastMember("a-agent", "alpha", "server", "clarifier", problem=Problem("needs x", True)),
            CastMember("a-plain", "alpha", "server", "assistant"),
            CastMember("b-agent", "beta", "server", "assistant"),
            CastMember("a-caller", "alpha", "caller", "assistant"),
            CastMember(
                "g-caller", "gamma", "caller", "assistant", problem=Problem("no gamma", True)
            ),
        ],
        status="passed",
        steps=[
            _step(0, "single", "a-caller", "a-plain", "passed"),
            _step(1, "single", "a-caller", "b-agent", "passed"),
            _step(2, "clarify", "a-caller", "a-agent", "skipped"),
            _step(3, "single", "g-caller", "b-agent", "skipped"),
        ],
    )
    return Report([result], ("alpha", "beta", "gamma"), missing={"gamma": "no gamma"})

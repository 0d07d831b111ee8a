"""The frameworks that take part in scenarios, found in the adapter registry, and their
participants: a framework joins the scenarios and the matrix by registering its adapter."""

from __future__ import annotations

import functools
import importlib
import os
import platform
import re
from importlib.metadata import PackageNotFoundError, requires, version

from a2a_bridges.registry import Registered, registered
from a2a_bridges.testing.participant import Participant, load_participant
from a2a_bridges.testing.script import PROVIDER_KEYS

__all__ = [
    "DISTRIBUTION",
    "environment",
    "frameworks",
    "installed",
    "missing",
    "missing_package",
    "model_problem",
    "participant",
    "short",
]

DISTRIBUTION = "a2a-bridges"


def _entries() -> dict[str, Registered]:
    # An adapter that loads and names no participant (a proxy, say) is no framework to play.
    return {
        r.name: r for r in registered() if r.adapter is None or r.adapter.participant is not None
    }


def frameworks() -> tuple[str, ...]:
    """Every registered framework that takes part in scenarios, in the order reports show
    them (plain functions first); one not installed is listed, to say so."""
    return tuple(_entries())


def missing(framework: str) -> str | None:
    """Why `framework` cannot take part (unknown, not installed, or without a participant),
    with the install hint; None when it can."""
    entry = _entries().get(framework)
    if entry is None:
        return f"unknown framework {framework!r}"
    if entry.adapter is None:
        return f"{framework} is not installed: {entry.error}"
    if entry.adapter.participant is None:
        return f"{framework} has no scenario participant"
    return None


def installed() -> tuple[str, ...]:
    """The registered frameworks that can take part here."""
    return tuple(f for f in frameworks() if missing(f) is None)


@functools.cache
def participant(framework: str) -> Participant:
    """The framework's participant; `missing` tells first why there is none."""
    problem = missing(framework)
    if problem is not None:
        raise LookupError(problem)
    adapter = _entries()[framework].adapter
    assert adapter is not None and adapter.participant is not None
    return load_participant(adapter.participant)


def short(framework: str) -> str:
    """The framework's short name, as participants' names use it; its name when not installed."""
    return participant(framework).short if missing(framework) is None else framework


def missing_package(framework: str, behaviour: str) -> str | None:
    """The package a behaviour needs beyond its framework, if it is not installed."""
    package = participant(framework).needs.get(behaviour)
    if package is None:
        return None
    try:
        importlib.import_module(package)
    except ImportError:
        return package
    return None


def model_problem(model: str) -> str | None:
    """Why the real model `provider:name` cannot be used here, or None when it can."""
    provider, sep, _ = model.partition(":")
    if not sep:
        return f"name the model as provider:name, got {model!r}"
    key = PROVIDER_KEYS.get(provider)
    if key is None:
        return f"unknown provider {provider!r}: choose one of {', '.join(sorted(PROVIDER_KEYS))}"
    return None if os.environ.get(key) else f"{key} is not set"


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def _distributions(entry: Registered) -> list[str]:
    """The packages that install a framework: its extra's requirements when a2a-bridges
    ships the adapter, else the distribution that registered it."""
    dist = entry.entry_point.dist
    if dist is not None and dist.name != DISTRIBUTION:
        return [dist.name]
    marker = re.compile(rf"extra\s*==\s*['\"]{re.escape(entry.extra)}['\"]")
    return [
        re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
        for requirement in requires(DISTRIBUTION) or []
        if marker.search(requirement)
    ]


def environment() -> dict[str, str]:
    """Python, the protocol SDK and each framework's packages, with their versions here."""
    found = {"python": platform.python_version(), "a2a-sdk": _version("a2a-sdk")}
    for entry in registered():
        for distribution in _distributions(entry):
            found.setdefault(distribution, _version(distribution))
    return found

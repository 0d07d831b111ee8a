"""Adapters, found through the entry-point group `a2a_bridges.adapters` and imported lazily."""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from a2a_bridges.adapter import Adapter

__all__ = [
    "ENTRY_POINT_GROUP",
    "FUNCTIONS",
    "Registered",
    "adapter_for",
    "adapter_named",
    "registered",
]

ENTRY_POINT_GROUP = "a2a_bridges.adapters"
FUNCTIONS = "functions"


@dataclass(frozen=True)
class Registered:
    """One registered adapter, imported on first use (frameworks take seconds to import)."""

    entry_point: EntryPoint

    @property
    def name(self) -> str:
        """The framework's name, as `from_a2a(..., framework=...)` takes it."""
        return self.entry_point.name

    @property
    def extra(self) -> str:
        """The extra that installs the framework."""
        return self.name.replace("_", "-")

    @functools.cached_property
    def _loaded(self) -> tuple[Adapter | None, str | None]:
        try:
            adapter = self.entry_point.load()
        except ImportError as exc:
            hint = f"pip install 'a2a-bridges[{self.extra}]'"
            return None, str(exc) if "a2a-bridges[" in str(exc) else hint
        except Exception as exc:  # one broken adapter must not take the others down
            return None, f"failed to load: {type(exc).__name__}: {exc}"
        if not isinstance(adapter, Adapter):
            return None, f"{self.entry_point.value} is not an a2a_bridges Adapter"
        return adapter, None

    @property
    def adapter(self) -> Adapter | None:
        """The adapter, or None when its framework is not installed."""
        return self._loaded[0]

    @property
    def error(self) -> str | None:
        """Why the adapter could not be loaded."""
        return self._loaded[1]


@functools.cache
def registered() -> tuple[Registered, ...]:
    """Every registered adapter: plain functions first, then the others by name."""
    found = [Registered(ep) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    return tuple(sorted(found, key=lambda r: (r.name != FUNCTIONS, r.name)))


def _likely_first(agent: object) -> list[Registered]:
    # The adapters named like a package the agent's classes come from go first, so serving
    # one framework's agent seldom imports the others; plain functions (many objects are
    # callable) go last.
    roots = {cls.__module__.split(".")[0] for cls in type(agent).__mro__}
    named = [r for r in registered() if any(root.startswith(r.name) for root in roots)]
    rest = [r for r in registered() if r not in named and r.name != FUNCTIONS]
    return named + rest + [r for r in registered() if r.name == FUNCTIONS and r not in named]


def adapter_for(agent: object) -> Adapter:
    """The adapter that serves `agent`; a TypeError naming what is supported when none does."""
    if inspect.isfunction(agent) or inspect.ismethod(agent):
        return adapter_named(FUNCTIONS)
    for entry in _likely_first(agent):
        if entry.adapter is not None and entry.adapter.handles(agent):
            return entry.adapter
    what = type(agent)
    name = f"{what.__module__}.{what.__qualname__}"
    if inspect.isclass(agent):
        name = f"the class {agent.__module__}.{agent.__qualname__} (serve an instance of it)"
    supported = [r.adapter.serves for r in registered() if r.adapter is not None]
    missing = [f"{r.name} ({r.error})" for r in registered() if r.adapter is None]
    message = f"cannot serve {name}: supported are " + (", ".join(supported) or "nothing")
    if missing:
        message += "; not installed: " + "; ".join(missing)
    raise TypeError(message)


def adapter_named(framework: str) -> Adapter:
    """The adapter registered as `framework` (or one of its aliases); a ValueError naming the
    choices otherwise, an ImportError naming the extra when its framework is not installed."""
    name = framework.strip().lower().replace("-", "_").replace(" ", "_")
    entry = next((r for r in registered() if r.name == name), None)
    if entry is None:  # aliases are only known once an adapter is loaded
        entry = next(
            (r for r in registered() if r.adapter is not None and name in r.adapter.aliases), None
        )
    if entry is None:
        choices = ", ".join(r.name for r in registered())
        raise ValueError(f"unknown framework {framework!r}: choose one of {choices}")
    if entry.adapter is None:
        raise ImportError(f"{entry.name}: {entry.error}")
    return entry.adapter

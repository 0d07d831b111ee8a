"""Adapters, found through the entry-point group `a2a_bridges.adapters` and imported lazily."""

from __future__ import annotations

import functools
import importlib
import inspect
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

__all__ = ["ENTRY_POINT_GROUP", "Adapter", "adapter_for", "adapter_named", "adapters"]

ENTRY_POINT_GROUP = "a2a_bridges.adapters"
FUNCTIONS = "functions"


@dataclass(frozen=True)
class Adapter:
    """One framework's adapter, imported on first use (frameworks take seconds to import)."""

    entry_point: EntryPoint

    @property
    def name(self) -> str:
        """The framework's name, as `from_a2a(..., framework=...)` takes it."""
        return self.entry_point.name

    @functools.cached_property
    def _loaded(self) -> tuple[ModuleType | None, str | None]:
        try:
            return importlib.import_module(self.entry_point.value), None
        except ImportError as exc:
            hint = f"pip install 'a2a-bridges[{self.name.replace('_', '-')}]'"
            return None, str(exc) if "a2a-bridges[" in str(exc) else hint
        except Exception as exc:  # one broken adapter must not take the others down
            return None, f"failed to load: {type(exc).__name__}: {exc}"

    @property
    def module(self) -> ModuleType | None:
        """The adapter module, or None when its framework is not installed."""
        return self._loaded[0]

    @property
    def error(self) -> str | None:
        """Why the module could not be imported."""
        return self._loaded[1]

    @property
    def types(self) -> str:
        """What the adapter serves, in words."""
        return str(getattr(self.module, "TYPES", self.name))


@functools.cache
def adapters() -> tuple[Adapter, ...]:
    """Every registered adapter, the plain-function one last (many objects are callable)."""
    found = [Adapter(ep) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    return tuple(sorted(found, key=lambda a: (a.name == FUNCTIONS, a.name)))


def _likely_first(agent: Any) -> list[Adapter]:
    # Try first the adapters named like a package the agent's classes come from, so serving
    # one framework's agent seldom imports the others.
    roots = {cls.__module__.split(".")[0] for cls in type(agent).__mro__}
    named = [a for a in adapters() if any(r.startswith(a.name) for r in roots)]
    return named + [a for a in adapters() if a not in named]


def adapter_for(agent: Any) -> Adapter:
    """The adapter that serves `agent`; a TypeError naming what is supported when none does."""
    if inspect.isfunction(agent) or inspect.ismethod(agent):
        return adapter_named(FUNCTIONS)
    for adapter in _likely_first(agent):
        if adapter.module is not None and adapter.module.handles(agent):
            return adapter
    supported = [a.types for a in adapters() if a.module is not None]
    missing = [f"{a.name} ({a.error})" for a in adapters() if a.module is None]
    message = f"cannot serve {type(agent).__module__}.{type(agent).__qualname__}: supported are "
    message += ", ".join(supported) or "nothing"
    if missing:
        message += "; not installed: " + "; ".join(missing)
    raise TypeError(message)


def adapter_named(framework: str) -> Adapter:
    """The adapter registered as `framework`; a ValueError naming the choices otherwise."""
    name = framework.replace("-", "_")
    for adapter in adapters():
        if adapter.name == name:
            if adapter.module is None:
                raise ImportError(f"{adapter.name}: {adapter.error}")
            return adapter
    choices = ", ".join(a.name for a in adapters())
    raise ValueError(f"unknown framework {framework!r}: choose one of {choices}")

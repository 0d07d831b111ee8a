"""Adapters, found through the entry-point group `a2a_bridges.adapters`."""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

__all__ = ["ENTRY_POINT_GROUP", "Adapter", "adapter_for", "adapter_named", "adapters"]

ENTRY_POINT_GROUP = "a2a_bridges.adapters"


@dataclass(frozen=True)
class Adapter:
    """One framework's adapter module, or why it could not be loaded."""

    name: str
    module: ModuleType | None
    error: str | None = None

    @property
    def types(self) -> str:
        """What the adapter serves, in words."""
        return str(getattr(self.module, "TYPES", self.name))


@functools.cache
def adapters() -> tuple[Adapter, ...]:
    """Every registered adapter, the plain-function one last (many objects are callable)."""
    found: list[Adapter] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found.append(Adapter(ep.name, importlib.import_module(ep.value)))
        except ImportError as exc:
            hint = f"pip install 'a2a-bridges[{ep.name.replace('_', '-')}]'"
            found.append(Adapter(ep.name, None, str(exc) if "a2a-bridges[" in str(exc) else hint))
        except Exception as exc:  # one broken adapter must not take the others down
            found.append(Adapter(ep.name, None, f"failed to load: {type(exc).__name__}: {exc}"))
    return tuple(sorted(found, key=lambda a: (a.name == "functions", a.name)))


def adapter_for(agent: Any) -> Adapter:
    """The adapter that serves `agent`; a TypeError naming what is supported when none does."""
    for adapter in adapters():
        if adapter.module is not None and adapter.module.handles(agent):
            return adapter
    supported = [f"{a.types}" for a in adapters() if a.module is not None]
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
                raise ImportError(adapter.error)
            return adapter
    choices = ", ".join(a.name for a in adapters())
    raise ValueError(f"unknown framework {framework!r}: choose one of {choices}")

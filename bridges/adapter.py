"""The one contract every framework's adapter implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from a2a_bridges.card import CardInfo
from a2a_bridges.client.remote import CLIENT_OPTIONS, ClientOptions
from a2a_bridges.runner import Runner

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["Adapter", "missing"]


class Adapter(ABC):
    """One framework's adapter: serves its agents over A2A, and gives remote agents back as its
    native agent type.

    A module defines one subclass and registers an instance under the entry-point group
    `a2a_bridges.adapters` (`pydantic_ai = "a2a_bridges.adapters.pydantic_ai:adapter"`); it then
    serves, calls and joins the scenarios with no edit elsewhere. A subclass implements:

    - `agent_types` (or `handles(agent)`): what it serves;
    - `card(agent)`: what the card says (name, description, skills from the agent's tools);
    - `runner(agent, **options)`: the `Runner` that answers each message; `options` are the
      framework's own (`deps=`, `input_key=`, ...), beside the core's `ServerOptions`;
    - `remote(url, client, **native)`: the native agent type for a remote agent, on the one set
      of `ClientOptions`; it does no network I/O until it is used.

    `participant` names the module of the framework's scripted scenario participant (see
    `a2a_bridges.testing.participant`), or None when it has none.
    """

    name: ClassVar[str]
    """The framework's name, as `from_a2a(..., framework=...)` takes it."""
    serves: ClassVar[str]
    """What it serves, in words, for error messages."""
    aliases: ClassVar[tuple[str, ...]] = ()
    """Other names users type for the framework."""
    participant: ClassVar[str | None] = None
    agent_types: ClassVar[tuple[type, ...]] = ()
    """The framework's agent classes: `handles` takes their instances."""

    def handles(self, agent: object) -> bool:
        """Whether `agent` is one of this framework's agents."""
        return isinstance(agent, self.agent_types)

    @abstractmethod
    def card(self, agent: Any) -> CardInfo:
        """What the agent's card says about it."""

    @abstractmethod
    # `*args` too, so that type checkers let a subclass name its own keyword-only options.
    def runner(self, agent: Any, *args: Any, **options: Any) -> Runner:
        """The runner that answers each message with `agent`."""

    @abstractmethod
    def remote(self, url: str, client: ClientOptions, **native: Any) -> Any:
        """The remote agent at `url` as this framework's native agent type."""

    def to_a2a(self, agent: Any, **options: Any) -> Starlette:
        """Serve `agent` as an A2A app; `options` are the core's `ServerOptions` and the
        framework's own."""
        from a2a_bridges.server.app import SERVER_OPTIONS, build_app

        server = {k: v for k, v in options.items() if k in SERVER_OPTIONS}
        own = {k: v for k, v in options.items() if k not in SERVER_OPTIONS}
        return build_app(self.runner(agent, **own), self.card(agent), **server)

    def from_a2a(self, url: str, **options: Any) -> Any:
        """The remote agent at `url` as this framework's native type; `options` are the
        `ClientOptions` and the native type's own."""
        client = ClientOptions(**{k: v for k, v in options.items() if k in CLIENT_OPTIONS})  # type: ignore[typeddict-item]
        native = {k: v for k, v in options.items() if k not in CLIENT_OPTIONS}
        return self.remote(url, client, **native)


def missing(framework: str, extra: str) -> ImportError:
    """The error an adapter module raises when its framework is not installed."""
    return ImportError(
        f"the {framework} adapter needs {framework}: pip install 'a2a-bridges[{extra}]'"
    )

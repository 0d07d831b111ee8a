"""The one-line entry points: `to_a2a`, `serve`, `from_a2a`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from a2a_bridges.registry import adapter_for, adapter_named

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["from_a2a", "run_app", "serve", "to_a2a"]


def to_a2a(agent: Any, **options: Any) -> Starlette:
    """Serve any supported agent as an A2A app.

    Options: the core's `ServerOptions` (`name`, `description`, `url`, `skills`, `store`,
    `auth`, `streaming`, `max_body_bytes`, `versions`, ...), and whatever the agent's adapter
    adds. Raises TypeError, naming what is supported and which extra to install, for an agent
    no installed adapter serves.
    """
    return adapter_for(agent).to_a2a(agent, **options)


def serve(agent: Any, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
    """Run `to_a2a(agent, **options)` under uvicorn until interrupted."""
    options.setdefault("url", f"http://{host}:{port}")
    run_app(to_a2a(agent, **options), host=host, port=port)


def run_app(app: Starlette, host: str, port: int) -> None:
    """Run an app under uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning")


def from_a2a(url: str, framework: str = "functions", **options: Any) -> Any:
    """Any A2A server as the native agent type of `framework`: `pydantic_ai` (an `Agent`),
    `langchain` (an `A2ARunnable`), `ag2` (an `A2AConversableAgent`), or `functions` (an async
    function). Options: the core's `ClientOptions` (`headers`, `token`, `api_key`, `timeout`,
    `streaming`) and the native type's own."""
    return adapter_named(framework).from_a2a(url, **options)

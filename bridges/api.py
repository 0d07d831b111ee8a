"""The one-line entry points: `to_a2a`, `serve`, `from_a2a`."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from bridges.registry import adapter_for, adapter_named

__all__ = ["from_a2a", "run_app", "serve", "to_a2a"]


def to_a2a(agent: Any, **options: Any) -> Starlette:
    """Serve any supported agent as an A2A app.

    Options: `name`, `description`, `url`, `skills`, `store` (None, `sqlite:///path.db`,
    `postgresql+asyncpg://...`), `auth`, `streaming` (default True), `max_body_bytes`, and
    whatever the agent's adapter adds. Raises TypeError, naming what is supported and which
    extra to install, for an agent no installed adapter serves.
    """
    adapter = adapter_for(agent)
    assert adapter.module is not None
    app: Starlette = adapter.module.to_a2a(agent, **options)
    return app


def serve(agent: Any, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
    """Run `to_a2a(agent, **options)` under uvicorn until interrupted."""
    options.setdefault("url", f"http://{host}:{port}")
    run_app(to_a2a(agent, **options), host=host, port=port)


def run_app(app: Starlette, host: str, port: int) -> None:
    """Run an app under uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning")


def from_a2a(url: str, framework: str = "functions", **options: Any) -> Any:
    """Any A2A server as the native agent type of `framework` (ag2, pydantic_ai, langchain)."""
    adapter = adapter_named(framework)
    assert adapter.module is not None
    return adapter.module.from_a2a(url, **options)

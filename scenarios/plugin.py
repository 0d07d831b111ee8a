"""The pytest plugin, registered through the `pytest11` entry point as `a2a_bridges`.

Fixtures:

- `a2a_serve`: `url = a2a_serve(agent, **options)` serves any agent an installed adapter
  supports on a loopback port until the test ends (options are `to_a2a`'s).
- `a2a_remote`: `remote = a2a_remote(agent_or_url, "langchain")` gives the native remote
  handle of any framework (serving the agent first when given one); the test is skipped when
  that framework is not installed.
- `scenario_report`: the `Report` of the scenario named by the test's
  `@pytest.mark.scenario(name, **options)` marker, run once per session; the test is skipped
  when none of the scenario's steps could run for lack of a framework.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

__all__ = ["a2a_remote", "a2a_serve", "scenario_report"]

_REPORTS = pytest.StashKey[dict[str, Any]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "scenario(name, **options): the bundled scenario (or Scenario) whose Report the "
        "scenario_report fixture returns; options go to scenarios.run",
    )
    config.stash[_REPORTS] = {}


@pytest.fixture
def a2a_serve() -> Iterator[Callable[..., str]]:
    """Serve agents on loopback for the length of the test: `url = a2a_serve(agent)`."""
    from bridges import to_a2a
    from bridges.testing import running

    with contextlib.ExitStack() as stack:

        def serve(agent: Any, **options: Any) -> str:
            url: str = stack.enter_context(running(to_a2a(agent, **options)))
            return url

        yield serve


def _close(handle: Any) -> None:
    """Release a native handle's connections, whatever its framework calls that."""
    for target in (handle, getattr(handle, "remote", None)):
        close = getattr(target, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()
            return


@pytest.fixture
def a2a_remote(a2a_serve: Callable[..., str]) -> Iterator[Callable[..., Any]]:
    """A remote agent as `framework`'s native type: `a2a_remote(agent_or_url, "ag2")`."""
    from bridges import from_a2a

    handles: list[Any] = []

    def remote(agent_or_url: Any, framework: str = "functions", **options: Any) -> Any:
        url = agent_or_url if isinstance(agent_or_url, str) else a2a_serve(agent_or_url)
        try:
            handle = from_a2a(url, framework=framework, **options)
        except ImportError as exc:
            pytest.skip(f"{framework} is not installed: {exc}")
        handles.append(handle)
        return handle

    yield remote
    for handle in handles:
        _close(handle)


@pytest.fixture
def scenario_report(request: pytest.FixtureRequest) -> Any:
    """The `Report` of the scenario named by the test's `scenario` marker."""
    import scenarios

    marker = request.node.get_closest_marker("scenario")
    if marker is None or not marker.args:
        raise pytest.UsageError("scenario_report needs @pytest.mark.scenario(name)")
    target, options = marker.args[0], dict(marker.kwargs)
    key = f"{getattr(target, 'name', target)}:{sorted(options.items())!r}"
    reports = request.config.stash[_REPORTS]
    if key not in reports:
        reports[key] = scenarios.run(target, **options)
    report = reports[key]
    result = report.scenarios[0]
    if result.status == "skipped":
        pytest.skip(f"scenario {result.name}: {result.reason}")
    return report

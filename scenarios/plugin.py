"""The pytest plugin, registered through the `pytest11` entry point as `a2a_bridges`.

Fixtures:

- `a2a_serve`: `url = a2a_serve(agent, **options)` serves any agent an installed adapter
  supports on a loopback port until the test ends (options are `to_a2a`'s).
- `a2a_remote`: `remote = a2a_remote(agent_or_url, "langchain")` gives the native remote
  handle of any framework (serving the agent first when given one).
- `scenario_report`: the `Report` of the scenario named by the test's
  `@pytest.mark.scenario(name, **options)` marker, run once per session.
- `a2a_check`: `report = a2a_check(url_or_agent, **options)` calls an A2A server (serving the
  agent first when given one) from every framework's native remote type and the a2a-sdk
  client (`a2a_bridges.scenarios.checker`); `assert report.ok, report.failures()` says in CI
  that every framework can call it.

A test whose framework (or a package its scenario needs) is not installed FAILS, naming what
to install: a suite that tests nothing must not pass. To skip such tests instead, pass
`--a2a-skip-missing`, set the ini option `a2a_bridges_skip_missing = true`, or mark them
`@pytest.mark.a2a_skip_missing`; a scenario that could run in part then gives its report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from a2a_bridges.scenarios.results import Report

__all__ = [
    "HOW_TO_SKIP",
    "SKIP_MISSING",
    "a2a_check",
    "a2a_remote",
    "a2a_serve",
    "pytest_addoption",
    "pytest_configure",
    "scenario_report",
]

SKIP_MISSING = "a2a_bridges_skip_missing"
HOW_TO_SKIP = (
    "to skip such tests instead: --a2a-skip-missing, the ini option "
    f"{SKIP_MISSING} = true, or @pytest.mark.a2a_skip_missing"
)

_REPORTS = pytest.StashKey[dict[str, "Report"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("a2a_bridges").addoption(
        "--a2a-skip-missing",
        action="store_true",
        help="skip, rather than fail, tests whose framework is not installed",
    )
    parser.addini(
        SKIP_MISSING,
        type="bool",
        default=False,
        help="skip, rather than fail, tests whose framework is not installed",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "scenario(name, **options): the bundled scenario (or Scenario) whose Report the "
        "scenario_report fixture returns; options go to a2a_bridges.scenarios.run",
    )
    config.addinivalue_line(
        "markers",
        "a2a_skip_missing: skip, rather than fail, the test when its framework is not installed",
    )
    config.stash[_REPORTS] = {}


def _skips_missing(request: pytest.FixtureRequest) -> bool:
    config = request.config
    return bool(
        config.getoption("a2a_skip_missing")
        or config.getini(SKIP_MISSING)
        or request.node.get_closest_marker("a2a_skip_missing")
    )


def _missing(request: pytest.FixtureRequest, reason: str) -> NoReturn:
    """Fail the test for what is not installed, or skip it where the user chose so."""
    if _skips_missing(request):
        pytest.skip(reason)
    pytest.fail(f"{reason} ({HOW_TO_SKIP})", pytrace=False)


@pytest.fixture
def a2a_serve() -> Iterator[Callable[..., str]]:
    """Serve agents on loopback for the length of the test: `url = a2a_serve(agent)`."""
    from a2a_bridges.api import to_a2a
    from a2a_bridges.testing import running

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
def a2a_remote(
    a2a_serve: Callable[..., str], request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """A remote agent as `framework`'s native type: `a2a_remote(agent_or_url, "ag2")`."""
    from a2a_bridges.api import from_a2a

    handles: list[Any] = []

    def remote(agent_or_url: Any, framework: str = "functions", **options: Any) -> Any:
        url = agent_or_url if isinstance(agent_or_url, str) else a2a_serve(agent_or_url)
        try:
            handle = from_a2a(url, framework=framework, **options)
        except ImportError as exc:
            _missing(request, f"{framework} is not installed ({exc})")
        handles.append(handle)
        return handle

    yield remote
    for handle in handles:
        _close(handle)


@pytest.fixture
def scenario_report(request: pytest.FixtureRequest) -> Report:
    """The `Report` of the scenario named by the test's `scenario` marker."""
    import a2a_bridges.scenarios

    marker = request.node.get_closest_marker("scenario")
    if marker is None or not marker.args:
        raise pytest.UsageError("scenario_report needs @pytest.mark.scenario(name)")
    target, options = marker.args[0], dict(marker.kwargs)
    name = getattr(target, "name", target)
    key = f"{name}:{sorted(options.items())!r}"
    reports = request.config.stash[_REPORTS]
    if key not in reports:
        reports[key] = a2a_bridges.scenarios.run(target, **options)
    report = reports[key]
    lacking = sorted({why for s in report.scenarios for why in s.not_installed()})
    ran = any(s.status != "skipped" for s in report.scenarios)
    if lacking and not (ran and _skips_missing(request)):
        _missing(request, f"scenario {name} cannot run in full: {'; '.join(lacking)}")
    return report


@pytest.fixture
def a2a_check(
    a2a_serve: Callable[..., str], request: pytest.FixtureRequest
) -> Callable[..., Report]:
    """Check a server from every framework: `report = a2a_check(url_or_agent)`, then
    `assert report.ok, report.failures()`. Options are `a2a_bridges.scenarios.check`'s."""
    from a2a_bridges.scenarios.checker import check

    def run(url_or_agent: Any, **options: Any) -> Report:
        url = url_or_agent if isinstance(url_or_agent, str) else a2a_serve(url_or_agent)
        report = check(url, **options)
        if report.missing:
            _missing(request, f"not every framework can call: {'; '.join(report.missing.values())}")
        return report

    return run

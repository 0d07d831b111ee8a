"""The interoperability matrix: complete for every installed pair of frameworks."""

from __future__ import annotations

import pytest

from scenarios import FRAMEWORKS, Report, bundled
from scenarios.participants import missing, missing_package

MESH_CAPABILITIES = {"single", "memory", "stream", "data", "file"}
INSTALLED = [f for f in FRAMEWORKS if missing(f) is None]


@pytest.mark.scenario("mesh")
def test_every_pair_has_a_cell(scenario_report: Report) -> None:
    cells = scenario_report.matrix()
    assert set(cells) == {(s, c) for s in FRAMEWORKS for c in FRAMEWORKS}


@pytest.mark.scenario("mesh")
@pytest.mark.parametrize("server", FRAMEWORKS)
@pytest.mark.parametrize("caller", FRAMEWORKS)
def test_installed_pairs_ran_every_capability(
    scenario_report: Report, server: str, caller: str
) -> None:
    cell = scenario_report.matrix()[(server, caller)]
    if server not in INSTALLED or caller not in INSTALLED:
        assert set(cell.results.values()) == {"skipped"}, "a pair missing a framework never runs"
        pytest.skip(f"{server if server not in INSTALLED else caller} is not installed")
    assert set(cell.results) == MESH_CAPABILITIES
    assert "skipped" not in cell.results.values()


@pytest.mark.scenario("clarify")
@pytest.mark.parametrize("server", FRAMEWORKS)
def test_every_server_that_can_ask_has_clarify_in_its_row(
    scenario_report: Report, server: str
) -> None:
    row = [scenario_report.matrix()[(server, c)].results.get("clarify") for c in FRAMEWORKS]
    asking = [p for p in bundled()["clarify"].participants if p.role == "server"]
    clarifier = next((p for p in asking if p.framework == server), None)
    if clarifier is None:
        assert server == "pydantic_ai", "only Pydantic AI agents cannot ask through the adapter"
        assert row == [None] * len(FRAMEWORKS)
        return
    runs = server in INSTALLED and missing_package(clarifier) is None
    assert row == ["passed" if runs and c in INSTALLED else "skipped" for c in FRAMEWORKS]


def test_functions_pair_always_runs() -> None:
    # The core-only environment still has a matrix: plain functions on both sides.
    assert "functions" in INSTALLED

"""The interoperability matrix: complete for every installed pair of frameworks."""

from __future__ import annotations

import pytest

from a2a_bridges.scenarios import Report
from a2a_bridges.scenarios.frameworks import frameworks, installed, missing_package, participant

MESH_CAPABILITIES = {"single", "memory", "stream", "data", "file"}
FRAMEWORKS = frameworks()
INSTALLED = installed()


@pytest.mark.scenario("mesh")
def test_every_pair_has_a_cell(scenario_report: Report) -> None:
    # Every pair of the frameworks registered when it ran, each with every mesh capability
    # checked: the mesh took its frameworks from the registry, none left out.
    assert scenario_report.frameworks == FRAMEWORKS
    cells = scenario_report.matrix()
    assert sorted(cells) == sorted((s, c) for s in FRAMEWORKS for c in FRAMEWORKS)
    for pair, cell in cells.items():
        assert set(cell.results) == MESH_CAPABILITIES, pair


@pytest.mark.scenario("mesh")
@pytest.mark.parametrize("server", FRAMEWORKS)
@pytest.mark.parametrize("caller", FRAMEWORKS)
def test_installed_pairs_ran_every_capability(
    scenario_report: Report, server: str, caller: str
) -> None:
    cell = scenario_report.matrix()[(server, caller)]
    if server not in INSTALLED or caller not in INSTALLED:
        assert set(cell.results.values()) == {"skipped"}, "a pair missing a framework never runs"
        assert cell.missing is not None
        pytest.skip(cell.missing)
    assert cell.missing is None
    assert cell.results == dict.fromkeys(MESH_CAPABILITIES, "passed"), cell.details


@pytest.mark.scenario("clarify")
@pytest.mark.parametrize("server", INSTALLED)
def test_clarify_applies_to_every_server_that_can_ask(scenario_report: Report, server: str) -> None:
    cells = scenario_report.matrix()
    row = [cells[(server, c)].results.get("clarify") for c in FRAMEWORKS]
    if not participant(server).asks:
        assert row == [None] * len(FRAMEWORKS), "clarify does not apply to it"
        assert all(cells[(server, c)].not_applying(["clarify"]) for c in FRAMEWORKS)
        return
    runs = missing_package(server, "clarifier") is None
    assert row == ["passed" if runs and c in INSTALLED else "skipped" for c in FRAMEWORKS]


@pytest.mark.scenario("mesh")
def test_functions_pair_always_runs(scenario_report: Report) -> None:
    # The core-only environment still has a matrix: plain functions on both sides.
    cell = scenario_report.matrix()[("functions", "functions")]
    assert cell.missing is None
    assert cell.results == dict.fromkeys(MESH_CAPABILITIES, "passed"), cell.details

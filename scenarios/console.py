"""The `a2a-bridges scenarios` command's output: live progress, the matrix, the summary."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from scenarios.bundled import bundled
from scenarios.model import FRAMEWORKS, Scenario
from scenarios.participants import missing
from scenarios.results import Cell, Report, ScenarioResult, StepResult
from scenarios.runner import Isolation, run

__all__ = ["LiveProgress", "choose", "list_scenarios", "matrix_table", "run_scenarios"]

STYLES = {"passed": "green", "failed": "bold red", "skipped": "dim"}


def choose(names: Sequence[str], everything: bool) -> list[str]:
    """The scenario names to run; ValueError for an unknown name or an empty choice."""
    known = bundled()
    if everything:
        return list(known)
    if not names:
        raise ValueError("name a scenario to run, or pass --all")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown scenario {unknown[0]!r}: choose from {', '.join(known)}")
    return list(names)


def list_scenarios(console: Console | None = None) -> int:
    """Print the bundled scenarios and which of their frameworks are installed."""
    console = console or Console()
    table = Table("scenario", "frameworks", "steps", "what it shows", title="Bundled scenarios")
    for name, scenario in bundled().items():
        frameworks = ", ".join(
            f if missing(f) is None else f"[dim]{f} (not installed)[/dim]"
            for f in scenario.frameworks()
        )
        table.add_row(name, frameworks, str(len(scenario.steps)), scenario.title)
    console.print(table)
    return 0


class LiveProgress:
    """Shows each scenario's steps as they finish, and each failure as it happens."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> LiveProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def scenario_started(self, scenario: Scenario) -> None:
        self.tasks[scenario.name] = self.bar.add_task(scenario.name, total=len(scenario.steps))

    def step_finished(self, scenario: Scenario, result: StepResult) -> None:
        task = self.tasks[scenario.name]
        self.bar.update(task, advance=1, description=f"{scenario.name} {result.label}")
        if result.status == "failed":
            where = f"{scenario.name} #{result.index} {result.label}"
            who = f"{result.caller} → {', '.join(result.servers)}"
            self.console.print(
                f"  [bold red]✗[/] {escape(where)} ({escape(who)}): {escape(result.reason)}",
                highlight=False,
            )

    def scenario_finished(self, result: ScenarioResult) -> None:
        counts = result.counts()
        style = STYLES[result.status]
        text = f"[{style}]{result.name} {result.status}[/]"
        self.bar.update(self.tasks[result.name], description=text)
        if counts["skipped"] and result.reason:
            self.console.print(f"  [dim]{result.name}: {escape(result.reason)}[/dim]")


def _cell(cell: Cell, capabilities: list[str]) -> str:
    if cell.status == "skipped":
        absent = missing(cell.server) or missing(cell.caller)
        return "[dim]not installed[/dim]" if absent else "[dim]skipped[/dim]"
    ran = [c for c in capabilities if cell.results.get(c) in ("passed", "failed")]
    passed = [c for c in ran if cell.results[c] == "passed"]
    failed = [c for c in ran if cell.results[c] == "failed"]
    if not failed:
        return f"[green]✓ {len(passed)}/{len(ran)}[/green]"
    return f"[bold red]✗ {len(passed)}/{len(ran)}[/bold red] " + ", ".join(failed)


def matrix_table(report: Report) -> Table:
    """Rows serve, columns call: how many capabilities held, and which failed."""
    capabilities = report.capabilities()
    table = Table(
        "server \\ caller",
        *FRAMEWORKS,
        title="Interoperability matrix",
        caption=f"capabilities: {', '.join(capabilities)}",
    )
    cells = report.matrix()
    for server in FRAMEWORKS:
        table.add_row(
            server, *(_cell(cells[(server, caller)], capabilities) for caller in FRAMEWORKS)
        )
    return table


def summary_table(report: Report) -> Table:
    """One line per scenario."""
    table = Table("scenario", "status", "passed", "failed", "skipped", "time", title="Scenarios")
    for s in report.scenarios:
        c = s.counts()
        status = f"[{STYLES[s.status]}]{s.status}[/]"
        table.add_row(
            s.name,
            status,
            str(c["passed"]),
            str(c["failed"]),
            str(c["skipped"]),
            f"{s.duration_ms / 1000:.1f} s",
        )
    return table


def run_scenarios(
    names: Sequence[str],
    *,
    report_dir: str | None = None,
    model: str | None = None,
    isolation: Isolation = "thread",
    console: Console | None = None,
) -> int:
    """Run the scenarios with live progress, print the tables, write the report; the exit
    status is 1 when an expectation failed."""
    console = console or Console()
    # A failing agent is part of the show: its traceback in the log is not news here.
    quiet = logging.getLogger("bridges")
    if not any(isinstance(h, logging.NullHandler) for h in quiet.handlers):
        quiet.addHandler(logging.NullHandler())
    with LiveProgress(console) as progress:
        report = run(list(names), model=model, isolation=isolation, progress=progress)
    console.print(summary_table(report))
    console.print(matrix_table(report))
    for result in report.scenarios:
        for remark in result.remarks:
            console.print(f"[yellow]{result.name}: {escape(remark)}[/yellow]", highlight=False)
    for framework in FRAMEWORKS:
        if (why := missing(framework)) is not None:
            console.print(f"[dim]{framework} {escape(why)}[/dim]", highlight=False)
    if report_dir is not None:
        report.write(Path(report_dir))
        console.print(f"report written to {Path(report_dir) / 'report.html'}", highlight=False)
    verdict = "every expectation held" if report.ok else f"{len(report.failures())} step(s) failed"
    console.print(f"{verdict} in {report.duration_ms / 1000:.1f} s", highlight=False)
    return 0 if report.ok else 1

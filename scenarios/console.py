"""The `a2a-bridges scenarios` command's output: live progress, the matrix, the summary."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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

from a2a_bridges.scenarios.bundle import bundled
from a2a_bridges.scenarios.frameworks import missing
from a2a_bridges.scenarios.model import Scenario
from a2a_bridges.scenarios.report import write_report
from a2a_bridges.scenarios.results import Cell, Report, ScenarioResult, StepResult
from a2a_bridges.scenarios.runner import run
from a2a_bridges.scenarios.serving import Isolation

__all__ = [
    "STYLES",
    "LiveProgress",
    "choose",
    "list_scenarios",
    "matrix_table",
    "run_check",
    "run_scenarios",
    "summary_table",
]

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
    """Print the bundled scenarios and which of their frameworks are installed here."""
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
    if cell.missing is not None:
        return "[dim]unavailable[/dim]"
    lines = []
    ran = cell.ran(capabilities)
    failed = [c for c in ran if cell.results[c] == "failed"]
    held = f"{len(ran) - len(failed)}/{len(ran)}"
    if failed:
        lines.append(f"[bold red]✗ {held}[/bold red] " + ", ".join(failed))
    elif ran:
        lines.append(f"[green]✓ {held}[/green]")
    skipped, not_applying = cell.skipped(capabilities), cell.not_applying(capabilities)
    for how, names in (("skipped", skipped), ("n/a", not_applying)):
        if names:
            lines.append(f"[dim]{how}: {', '.join(names)}[/dim]")
    return "\n".join(lines)


def matrix_table(report: Report) -> Table:
    """Rows serve, columns call: how many capabilities held, which failed, which were
    skipped (something they need is not installed) and which do not apply."""
    capabilities = report.capabilities()
    table = Table(
        "server \\ caller",
        *report.columns,
        title="Interoperability matrix",
        caption=f"capabilities: {', '.join(capabilities)}",
    )
    cells = report.matrix()
    for server in report.rows:
        table.add_row(
            server, *(_cell(cells[(server, caller)], capabilities) for caller in report.columns)
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


def run_check(
    url: str,
    *,
    report_dir: str | None = None,
    console: Console | None = None,
    **options: Any,
) -> int:
    """Check the server at `url` (`options` are `check`'s), print the matrix, each failure
    and each known quirk seen, write the report; the exit status is 1 when a check failed."""
    from a2a_bridges.scenarios.checker import check

    console = console or Console()
    with console.status(f"checking {url} from every framework and the a2a-sdk…"):
        report = check(url, **options)
    console.print(matrix_table(report))
    for s, step in report.failed_steps():
        column = s.participants[0].framework
        console.print(
            f"[bold red]✗[/] {escape(column)} · {escape(step.label)}: {escape(step.reason)}",
            highlight=False,
        )
    for finding in report.findings:
        console.print(
            f"[yellow]quirk {escape(finding.quirk)}[/]: {escape(finding.text)} "
            f"[dim]({escape('; '.join(finding.seen))})[/dim]",
            highlight=False,
        )
    for why in report.missing.values():
        console.print(f"[dim]{escape(why)}[/dim]", highlight=False)
    if report_dir is not None:
        write_report(report, report_dir)
        console.print(f"report written to {Path(report_dir) / 'report.html'}", highlight=False)
    failed = len(report.failures())
    verdict = "every check held" if report.ok else f"{failed} check(s) failed"
    console.print(f"{verdict} in {report.duration_ms / 1000:.1f} s", highlight=False)
    return 0 if report.ok else 1


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
    quiet = logging.getLogger("a2a_bridges")
    if not any(isinstance(h, logging.NullHandler) for h in quiet.handlers):
        quiet.addHandler(logging.NullHandler())
    with LiveProgress(console) as progress:
        report = run(list(names), model=model, isolation=isolation, progress=progress)
    console.print(summary_table(report))
    if report.capabilities():  # only when a scenario of the matrix ran
        console.print(matrix_table(report))
    for result in report.scenarios:
        for remark in result.remarks:
            console.print(f"[yellow]{result.name}: {escape(remark)}[/yellow]", highlight=False)
    for why in report.missing.values():
        console.print(f"[dim]{escape(why)}[/dim]", highlight=False)
    if report_dir is not None:
        write_report(report, report_dir)
        console.print(f"report written to {Path(report_dir) / 'report.html'}", highlight=False)
    verdict = "every expectation held" if report.ok else f"{len(report.failures())} step(s) failed"
    console.print(f"{verdict} in {report.duration_ms / 1000:.1f} s", highlight=False)
    return 0 if report.ok else 1

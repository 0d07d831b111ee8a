"""`a2a-bridges scenarios list|run` and `a2a-bridges check URL`, added to the command line
through entry points."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_check", "add_command"]


def _run(args: argparse.Namespace) -> int:
    # Imported here: `a2a-bridges --help` must not load the scenarios or any framework.
    from a2a_bridges.cli import UsageError
    from a2a_bridges.scenarios import console

    if args.action == "list":
        return console.list_scenarios()
    try:
        names = console.choose(args.names, args.all)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return console.run_scenarios(
        names,
        report_dir=args.report,
        model=args.model,
        isolation="process" if args.processes else "thread",
    )


def add_command(sub: Any) -> None:
    """Add `scenarios` to the command line's subcommands."""
    from a2a_bridges.cli import HelpFormatter, Parser

    sc = sub.add_parser(
        "scenarios",
        help="run cross-framework scenarios",
        description="Agents of different frameworks serving and calling each other over A2A.",
        formatter_class=HelpFormatter,
    )
    actions = sc.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    listing = actions.add_parser("list", help="list the bundled scenarios")
    listing.set_defaults(handler=_run)
    r = actions.add_parser(
        "run",
        help="run scenarios and show the interoperability matrix",
        formatter_class=HelpFormatter,
    )
    r.add_argument("names", nargs="*", metavar="NAME", help="scenarios to run")
    r.add_argument("--all", action="store_true", help="run every bundled scenario")
    r.add_argument("--report", metavar="DIR", help="write JSON, Markdown and HTML reports here")
    r.add_argument("--model", metavar="PROVIDER:NAME", help="a real model for open-ended agents")
    r.add_argument(
        "--processes", action="store_true", help="serve each agent in a process of its own"
    )
    r.set_defaults(handler=_run)


def _check(args: argparse.Namespace) -> int:
    from a2a_bridges.cli import UsageError, client_options
    from a2a_bridges.scenarios import console

    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"expected an http:// or https:// URL, got {args.url!r}")
    options = client_options(args)  # timeout, and the credentials `ask` sends
    if args.callers:
        options["callers"] = [c.strip() for c in args.callers.split(",")]
    return console.run_check(args.url, report_dir=args.report, **options)


def add_check(sub: Any) -> None:
    """Add `check` to the command line's subcommands."""
    from a2a_bridges.cli import HelpFormatter, add_client_options

    c = sub.add_parser(
        "check",
        help="check that every framework can call an A2A server",
        description=(
            "Call the A2A server at URL from every installed framework's native remote type "
            "and from the a2a-sdk client on each interface its card lists: card, single "
            "turn, second turn, streaming, data, cancel, empty and oversized messages. The "
            "protocol is judged, not the agent's words; each failure names the known quirk "
            "behind it."
        ),
        formatter_class=HelpFormatter,
    )
    c.add_argument("url", help="the agent's base URL")
    c.add_argument("--report", metavar="DIR", help="write JSON, Markdown and HTML reports here")
    c.add_argument(
        "--callers",
        metavar="LIST",
        help="only these callers: framework names, a2a-sdk, or e.g. 'a2a-sdk JSONRPC 1.0'",
    )
    add_client_options(c, timeout=30.0)
    c.set_defaults(handler=_check)

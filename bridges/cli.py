"""The `a2a-bridges` command line."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from bridges.client import RemoteAgent
from bridges.conversation import DataPart, FilePart
from bridges.errors import RemoteAgentError
from bridges.runner import Reply, TextDelta

__all__ = ["main"]

DEFAULT_STORE = "sqlite:///a2a-bridges.db"


class UsageError(Exception):
    """A bad argument: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def load_target(target: str) -> Any:
    """`package.module:attr` or `path/to/file.py:attr` → the object."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"expected MODULE:ATTR, got {target!r}")
    sys.path.insert(0, str(Path.cwd()))
    try:
        if module_name.endswith(".py"):
            spec = importlib.util.spec_from_file_location(Path(module_name).stem, module_name)
            if spec is None or spec.loader is None or not Path(module_name).is_file():
                raise UsageError(f"no such file: {module_name}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import {module_name}: {exc}") from None
    try:
        obj = module
        for name in attr.split("."):
            obj = getattr(obj, name)
    except AttributeError:
        raise UsageError(f"{module_name} has no attribute {attr!r}") from None
    return obj


def _serve(args: argparse.Namespace) -> int:
    from bridges.api import run_app, to_a2a

    agent = load_target(args.target)
    url = args.url or f"http://{args.host}:{args.port}"
    app = to_a2a(agent, store=args.store, name=args.name, description=args.description, url=url)
    print(f"serving {args.target} at {url} (store {args.store})", file=sys.stderr)
    run_app(app, host=args.host, port=args.port)
    return 0


async def _ask(args: argparse.Namespace) -> int:
    async with RemoteAgent(args.url, context_id=args.context, timeout=args.timeout) as remote:
        reply: Reply | None = None
        printed = False
        async for event in remote.stream(args.text):
            if isinstance(event, TextDelta):
                sys.stdout.write(event.text)
                sys.stdout.flush()
                printed = True
            else:
                reply = event
    assert reply is not None
    lines = [] if printed or not reply.text else [reply.text]  # a peer that does not stream
    for part in reply.parts:
        if isinstance(part, DataPart):
            lines.append(json.dumps(part.data))
        elif isinstance(part, FilePart):
            lines.append(f"[file {part.name or part.uri or ''} {part.media_type or ''}]")
    sys.stdout.write(("\n" if printed and lines else "") + "\n".join(lines) + "\n")
    state = f", {reply.state}" if reply.state not in (None, "completed") else ""
    print(f"[context {reply.context_id}{state}]", file=sys.stderr)
    return 0


async def _card(args: argparse.Namespace) -> int:
    remote = RemoteAgent(args.url, timeout=args.timeout)
    await remote.card()
    print(json.dumps(remote.card_data, indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = _Parser(prog="a2a-bridges", description="Bridge agents of any framework over A2A.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("serve", help="serve an agent over A2A")
    s.add_argument("target", help="MODULE:ATTR or FILE.py:ATTR naming the agent")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument(
        "--store", default=DEFAULT_STORE, help=f"task store URL (default {DEFAULT_STORE})"
    )
    s.add_argument("--name")
    s.add_argument("--description")
    s.add_argument("--url", help="the public URL to put on the card")

    a = sub.add_parser("ask", help="send a message and stream the reply")
    a.add_argument("url")
    a.add_argument("text")
    a.add_argument("--context", help="continue this contextId")
    a.add_argument("--timeout", type=float, default=60.0)

    c = sub.add_parser("card", help="print an agent card")
    c.add_argument("url")
    c.add_argument("--timeout", type=float, default=10.0)

    sc = sub.add_parser("scenarios", help="run cross-framework scenarios")
    actions = sc.add_subparsers(dest="action", required=True, parser_class=_Parser)
    actions.add_parser("list", help="list the bundled scenarios")
    r = actions.add_parser("run", help="run scenarios and show the interoperability matrix")
    r.add_argument("names", nargs="*", metavar="NAME", help="scenarios to run")
    r.add_argument("--all", action="store_true", help="run every bundled scenario")
    r.add_argument("--report", metavar="DIR", help="write JSON, Markdown and HTML reports here")
    r.add_argument("--model", metavar="PROVIDER:NAME", help="a real model for open-ended agents")
    r.add_argument(
        "--processes", action="store_true", help="serve each agent in a process of its own"
    )
    return p


def _scenarios(args: argparse.Namespace) -> int:
    # Imported here: the core never imports scenarios (or any framework) at import time.
    from scenarios import console

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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        args = parser().parse_args(argv)
        if args.command == "serve":
            return _serve(args)
        if args.command == "ask":
            return asyncio.run(_ask(args))
        if args.command == "scenarios":
            return _scenarios(args)
        return asyncio.run(_card(args))
    except UsageError as exc:
        print(f"a2a-bridges: error: {exc}", file=sys.stderr)
        return 2
    except RemoteAgentError as exc:
        print(f"a2a-bridges: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except (TypeError, ValueError, ImportError, OSError) as exc:
        print(f"a2a-bridges: error: {exc}", file=sys.stderr)
        return 1

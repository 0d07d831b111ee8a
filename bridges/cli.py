"""The `a2a-bridges` command line.

Subcommands other packages add (`scenarios`, from a2a_bridges.scenarios) come through the
entry-point group `a2a_bridges.cli`: each names a function that adds its subparser. Nothing here
imports a server module or a framework until a subcommand needs it, so `--help`, `ask` and
`card` start fast.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from a2a_bridges.runner import Reply

__all__ = [
    "CLI_ENTRY_POINT_GROUP",
    "DEFAULT_PROXY_STORE",
    "DEFAULT_STORE",
    "HelpFormatter",
    "Parser",
    "UsageError",
    "add_client_options",
    "add_credential_options",
    "client_options",
    "credential_options",
    "load_target",
    "main",
    "parser",
    "reloaded_app",
]

CLI_ENTRY_POINT_GROUP = "a2a_bridges.cli"
DEFAULT_STORE = "sqlite:///a2a-bridges.db"
DEFAULT_PROXY_STORE = "sqlite:///a2a-bridges-proxy.db"
_RELOAD_ENV = "A2A_BRIDGES_SERVE"
_CLIENT_ARGUMENTS = ("timeout", "token", "api_key", "header")  # as `client_options` reads them


class UsageError(Exception):
    """A bad argument: one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2 (`UsageError`)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows each option's default, where it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False, argparse.SUPPRESS) or not action.help:
            return action.help or ""
        return super()._get_help_string(action) or ""


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


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.replace("-", "_"), json.loads(value)
    except ValueError:
        return key.replace("-", "_"), value  # a bare word is a string


def _secrets(args: argparse.Namespace, kind: str) -> list[str]:
    """The secrets `--KIND`, `--KIND-file` (one a line) and `--KIND-env` name."""
    found = list(getattr(args, kind) or [])
    if path := getattr(args, f"{kind}_file"):
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        found += [line.strip() for line in text.splitlines() if line.strip()]
    if variable := getattr(args, f"{kind}_env"):
        if not os.environ.get(variable):
            raise UsageError(f"${variable} is not set")
        found.append(os.environ[variable].strip())
    return found


def add_credential_options(parser: argparse.ArgumentParser) -> None:
    """The options that say which callers a server lets in."""
    for kind, what in (("token", "bearer token"), ("api-key", "API key (X-API-Key)")):
        parser.add_argument(f"--{kind}", action="append", help=f"require this {what} (repeatable)")
        parser.add_argument(f"--{kind}-file", help=f"require any {what} listed in this file")
        parser.add_argument(f"--{kind}-env", metavar="VAR", help=f"require the {what} in $VAR")


def credential_options(args: argparse.Namespace) -> dict[str, Any]:
    """`auth` and `api_keys` server options from the arguments `add_credential_options` added."""
    options: dict[str, Any] = {}
    if tokens := _secrets(args, "token"):
        options["auth"] = dict.fromkeys(tokens, "user")
    if keys := _secrets(args, "api_key"):
        options["api_keys"] = dict.fromkeys(keys, "user")
    return options


def _serve_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = dict(args.option or [])
    options.update(store=args.store, url=args.url or f"http://{args.host}:{args.port}")
    for key in ("name", "description"):
        if getattr(args, key):
            options[key] = getattr(args, key)
    if args.no_streaming:
        options["streaming"] = False
    if args.debug:
        options["debug"] = True
    if args.grpc_port is not None:
        options["grpc"] = f"{args.host}:{args.grpc_port}"
    if args.versions:
        options["versions"] = args.versions.split(",")
    options.update(credential_options(args))
    if args.cluster:
        from a2a_bridges.server.stores import check_cluster

        try:
            check_cluster(args.store)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        options["cluster"] = True
    return options


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is printed, so a taken port is one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _serve(args: argparse.Namespace) -> int:
    options = _serve_options(args)
    if args.reload:
        return _serve_reloading(args, options)
    from a2a_bridges.api import to_a2a

    app = to_a2a(load_target(args.target), **options)
    return _run_server(app, args, options, args.target)


def _run_server(app: Any, args: argparse.Namespace, options: dict[str, Any], what: str) -> int:
    """Serve `app` as the options say until interrupted, failing running tasks on shutdown."""
    import uvicorn

    sock = _bind(args.host, args.port)
    store = (options["store"] or "memory") + (", cluster" if args.cluster else "")
    print(f"serving {what} at {options['url']} (store {store})", file=sys.stderr)
    _warn_if_open(args.host, options)
    logs: dict[str, Any] = {}
    if args.log_format == "json":
        from a2a_bridges.logs import log_json

        log_json(args.log_level)
        logs = {"log_config": None}  # uvicorn keeps the handlers set here
    else:
        logging.getLogger("a2a_bridges").setLevel(args.log_level.upper())
    config = uvicorn.Config(app, log_level=args.log_level, timeout_graceful_shutdown=10, **logs)
    _server_class()(config).run(sockets=[sock])
    return 0


def _server_class() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """Fails the running tasks first on shutdown, so their callers get an answer now
        instead of waiting out the graceful period."""

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            executor = getattr(getattr(self.config.app, "state", None), "executor", None)
            if executor is not None:
                await executor.stop("the server shut down while this task ran; send it again")
            await super().shutdown(sockets)

    return Server


def _warn_if_open(host: str, options: dict[str, Any]) -> None:
    open_to_all = "auth" not in options and "api_keys" not in options
    if open_to_all and host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"a2a-bridges: WARNING: {host} is reachable from other machines and no --token is "
            "required: anyone who reaches it can call the agent",
            file=sys.stderr,
        )


def _serve_reloading(args: argparse.Namespace, options: dict[str, Any]) -> int:
    import uvicorn

    load_target(args.target)  # refuse a bad target here, in one line, not in the reloader
    os.environ[_RELOAD_ENV] = json.dumps({"target": args.target, "options": options})
    print(f"serving {args.target} at {options['url']}, reloading on changes", file=sys.stderr)
    uvicorn.run(
        "a2a_bridges.cli:reloaded_app",
        factory=True,
        reload=True,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
    )
    return 0


def reloaded_app() -> Any:
    """The app `serve --reload` runs: the target and options its parent process was given."""
    from a2a_bridges.api import to_a2a

    spec = json.loads(os.environ[_RELOAD_ENV])
    return to_a2a(load_target(spec["target"]), **spec["options"])


def add_client_options(
    parser: argparse.ArgumentParser, *, timeout: float, prefix: str = ""
) -> None:
    """The options that say how to reach a remote agent, for every subcommand that calls one;
    `prefix` (`upstream-`) sets them apart from a server's own."""
    parser.add_argument(f"--{prefix}timeout", type=float, default=timeout, help="seconds to wait")
    parser.add_argument(f"--{prefix}token", help="a bearer token to send")
    parser.add_argument(f"--{prefix}api-key", help="an API key to send")
    parser.add_argument(
        f"--{prefix}header",
        action="append",
        metavar="NAME:VALUE",
        help="a header to send (repeatable)",
    )


def client_options(args: argparse.Namespace, prefix: str = "") -> dict[str, Any]:
    """`ClientOptions` from the arguments `add_client_options` added with the same prefix."""
    given = {k: getattr(args, (prefix + k).replace("-", "_")) for k in _CLIENT_ARGUMENTS}
    options: dict[str, Any] = {"timeout": given["timeout"]}
    headers = {}
    for header in given["header"] or []:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"expected NAME:VALUE, got {header!r}")
        headers[name.strip()] = value.strip()
    if headers:
        options["headers"] = headers
    if given["token"]:
        options["token"] = given["token"]
    if given["api_key"]:
        options["api_key"] = given["api_key"]
    return options


async def _ask(args: argparse.Namespace) -> int:
    from a2a_bridges.client import RemoteAgent
    from a2a_bridges.runner import TextDelta

    async with RemoteAgent(args.url, **client_options(args)) as remote:
        reply: Reply | None = None
        shown = ""
        async for event in remote.stream(args.text, context_id=args.context):
            if isinstance(event, TextDelta):
                sys.stdout.write(event.text)
                sys.stdout.flush()
                shown += event.text
            else:
                reply = event
    assert reply is not None
    _print_rest(reply, shown)
    return 0


def _print_rest(reply: Reply, shown: str) -> None:
    """What the streamed text did not show: all of it from a peer that does not stream, data
    as JSON, files by name."""
    from a2a_bridges.conversation import DataPart, FilePart, TextPart, without_renderings

    parts = without_renderings(reply.parts)
    rendered = len(parts) < len(reply.parts)  # the data's JSON came as text
    lines = []
    for part in parts:
        if isinstance(part, TextPart) and not shown:
            lines.append(part.text)
        elif isinstance(part, DataPart) and not (shown and rendered):
            lines.append(json.dumps(part.data))
        elif isinstance(part, FilePart):
            lines.append(f"[file {part.name or part.uri or ''} {part.media_type or ''}]")
    sys.stdout.write(("\n" if shown and lines else "") + "\n".join(lines) + "\n")
    state = f", {reply.state}" if reply.state not in (None, "completed") else ""
    print(f"[context {reply.context_id}{state}]", file=sys.stderr)


async def _card(args: argparse.Namespace) -> int:
    from a2a_bridges.client import RemoteAgent

    remote = RemoteAgent(args.url, **client_options(args))
    await remote.card()
    print(json.dumps(remote.card_data, indent=2))
    return 0


def _add_serve(sub: Any) -> None:
    s = sub.add_parser(
        "serve",
        help="serve an agent over A2A",
        description="Serve an agent of any supported framework (or a plain function) over A2A.",
        formatter_class=HelpFormatter,
    )
    s.add_argument("target", help="MODULE:ATTR or FILE.py:ATTR naming the agent")
    _add_server_options(s, store=DEFAULT_STORE)
    s.add_argument(
        "-o",
        "--option",
        action="append",
        type=_option,
        metavar="KEY=VALUE",
        help="an option for the agent's adapter, e.g. input_key=question (JSON values)",
    )
    s.add_argument("--reload", action="store_true", help="restart when the code changes")
    s.set_defaults(handler=_serve)


def _add_server_options(s: argparse.ArgumentParser, *, store: str) -> None:
    """How a server listens, stores, names itself and lets callers in: `serve` and `proxy`."""
    s.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    s.add_argument("--port", type=int, default=8000, help="the port to listen on")
    s.add_argument("--store", default=store, help="where tasks and conversations live ('memory')")
    s.add_argument(
        "--cluster",
        action="store_true",
        help="serve as one of several replicas on one PostgreSQL --store",
    )
    s.add_argument("--name", help="the card's name (default: the agent's)")
    s.add_argument("--description", help="the card's description (default: the agent's)")
    s.add_argument("--url", help="the public URL the card names (default: http://HOST:PORT)")
    s.add_argument("--no-streaming", action="store_true", help="never stream answers")
    s.add_argument("--grpc-port", type=int, help="also serve gRPC on this port (extra grpc)")
    s.add_argument(
        "--versions", help="the A2A versions to serve, e.g. 1.0 (default: 1.0,0.3)", metavar="LIST"
    )
    add_credential_options(s)
    s.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="the log level (info: a line per task)",
    )
    s.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="json: one JSON object a line, with task and context ids",
    )
    s.add_argument(
        "--debug", action="store_true", help="tell callers every error's message (development)"
    )


def _add_proxy(sub: Any) -> None:
    p = sub.add_parser(
        "proxy",
        help="re-serve any A2A agent as a server of ours",
        description="Re-serve the A2A agent at URL, whoever wrote it, over A2A 1.0 and 0.3, "
        "JSON-RPC and HTTP+JSON: streaming, questions, cancel and conversations pass through.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("target", metavar="URL", help="the remote agent's base URL")
    _add_server_options(p, store=DEFAULT_PROXY_STORE)
    add_client_options(p, timeout=300.0, prefix="upstream-")
    p.add_argument(
        "--forward-authorization",
        action="store_true",
        help="present each caller's Authorization header upstream (instead of --upstream-*)",
    )
    p.set_defaults(handler=_proxy, option=None)


def _proxy(args: argparse.Namespace) -> int:
    from a2a_bridges.client import RemoteAgent
    from a2a_bridges.proxy import adapter

    options = _serve_options(args)
    if args.forward_authorization:
        options["forward_authorization"] = True
    remote = RemoteAgent(args.target, **client_options(args, prefix="upstream-"))
    app = adapter.to_a2a(remote, **options)
    return _run_server(app, args, options, f"a proxy of {remote.url}")


def _add_client_commands(sub: Any) -> None:
    a = sub.add_parser(
        "ask",
        help="send a message and stream the reply",
        description="Send one message to an A2A agent and print its reply as it streams.",
        formatter_class=HelpFormatter,
    )
    a.add_argument("url", help="the agent's base URL")
    a.add_argument("text", help="what to say")
    a.add_argument("--context", help="continue the conversation with this contextId")
    add_client_options(a, timeout=60.0)
    a.set_defaults(handler=lambda args: asyncio.run(_ask(args)))

    c = sub.add_parser(
        "card",
        help="print an agent card",
        description="Print an A2A agent's card as its server sends it.",
        formatter_class=HelpFormatter,
    )
    c.add_argument("url", help="the agent's base URL")
    add_client_options(c, timeout=10.0)
    c.set_defaults(handler=lambda args: asyncio.run(_card(args)))


def parser() -> argparse.ArgumentParser:
    """The argument parser, with the subcommands other packages register."""
    p = Parser(
        prog="a2a-bridges",
        description="Bridge agents of any framework over the A2A protocol.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"a2a-bridges {version('a2a-bridges')}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _add_serve(sub)
    _add_proxy(sub)
    _add_client_commands(sub)
    for ep in sorted(entry_points(group=CLI_ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            add: Callable[[Any], None] = ep.load()
        except Exception as exc:  # a broken extension must not take the command line down
            _add_broken(sub, ep.name, f"{type(exc).__name__}: {exc}")
            continue
        add(sub)
    return p


def _add_broken(sub: Any, name: str, why: str) -> None:
    def fail(args: argparse.Namespace) -> int:
        print(f"a2a-bridges: {name} is not available: {why}", file=sys.stderr)
        return 1

    broken = sub.add_parser(name, help=f"(not available: {why})", add_help=False)
    broken.add_argument("rest", nargs=argparse.REMAINDER)
    broken.set_defaults(handler=fail)


def _usage(p: argparse.ArgumentParser, argv: Sequence[str]) -> int:
    """A bare command: its usage and choices on stderr, exit 2."""
    target = p
    for word in argv:
        for action in target._actions:
            if isinstance(action, argparse._SubParsersAction) and word in action.choices:
                target = action.choices[word]
    target.print_help(sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    from a2a_bridges.errors import RemoteAgentError

    argv = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    try:
        args = p.parse_args(argv)
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            return _usage(p, argv)
        return handler(args)
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

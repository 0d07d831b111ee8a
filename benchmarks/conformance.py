"""The A2A conformance kit (a2a-tck) against a2a-bridges and a bare a2a-sdk server, side by side;
writes docs/conformance.md.

    python benchmarks/conformance.py --tck PATH [--levels must,should,may]
    nox -s conformance -- PATH          (or A2A_TCK=PATH nox -s conformance)

The kit is not on the package index, so it cannot run in CI: clone it first,

    git clone -b 1.0-dev https://github.com/a2aproject/a2a-tck PATH

It runs from its own virtualenv (PATH/.venv; made here, from the package index, when missing).
Each server runs in a process of its own and is started afresh for each level: a2a-bridges
serving `a2a_bridges.testing.conformance:agent` as `a2a-bridges serve` does (A2A 1.0 and 0.3, and
1.0 only), and a bare a2a-sdk server whose executor plays the kit's scenarios directly (the
reference: what the SDK itself scores, with no a2a-bridges in between).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "conformance.md"
LEVELS = ("must", "should", "may")
TRANSPORTS = ("jsonrpc", "http_json", "grpc")
COLUMNS = ("card", *TRANSPORTS, "other")
AGENT = "a2a_bridges.testing.conformance:agent"

SERVE = [sys.executable, "-m", "a2a_bridges", "serve", AGENT]
SERVERS: dict[str, list[str]] = {
    "bare a2a-sdk (reference)": [sys.executable, __file__, "--serve-reference"],
    "a2a-bridges": SERVE,
    "a2a-bridges --versions 1.0": [*SERVE, "--versions", "1.0"],
}
"""Each server's command, without its ports."""

CAUSES: dict[str, str] = {
    "TestRestFormat::test_response_content_type": (
        "SDK: a2a-sdk answers HTTP+JSON with `application/a2a+json`; the spec's §11.1 says "
        "`application/json` (its own examples in §6 use `application/a2a+json`)."
    ),
    "TestGrpcStatusCodes::test_push_not_supported_returns_unimplemented": (
        "SDK: a2a-sdk's gRPC handler maps PushNotificationNotSupportedError to "
        "FAILED_PRECONDITION; the spec's table in §5.4 says UNIMPLEMENTED, which a2a-bridges "
        "answers."
    ),
    "TestGrpcStatusCodes::test_version_not_supported_returns_unimplemented": (
        "SDK: a2a-sdk's gRPC handler does not check the `a2a-version` metadata (its JSON-RPC "
        "and HTTP+JSON routes check the A2A-Version header); a2a-bridges refuses a version "
        "other than 1.x with UNIMPLEMENTED."
    ),
    "TestJsonRpcErrorCodeMappings::test_content_type_not_supported_error": (
        "SDK: a2a-sdk answers a wrong Content-Type with -32700 (parse error); a2a-bridges "
        "answers -32005 (content type not supported) with HTTP 415 before the SDK sees it."
    ),
    "TestAgentCardCacheControl::test_cache_control_present": (
        "SDK: a2a-sdk's card route sends no Cache-Control unless told to; a2a-bridges sends "
        "`public, max-age=300`."
    ),
    "TestAgentCardCacheControl::test_cache_control_has_max_age": (
        "SDK: a2a-sdk's card route sends no Cache-Control unless told to, so no max-age; "
        "a2a-bridges sends `max-age=300`."
    ),
    "TestAgentCardLastModified::test_last_modified_present": (
        "SDK: a2a-sdk's card route sends no Last-Modified; a2a-bridges does."
    ),
    "TestHistoryContent::test_history_content_matches_sent_messages": (
        "TCK and SDK: the kit sends its three user messages with one and the same messageId "
        "(the spec wants each unique), and a2a-sdk keeps one message per id in a task's "
        "history, so the later two are not there. On the reference the kit skips the test: "
        "its follow-ups fail, as on the kit's own Python SUT, which builds their events with "
        "the fresh contextId a2a-sdk makes up for a message that names only its task."
    ),
    "TestHistoryOrdering::test_history_messages_in_chronological_order": (
        "TCK and SDK: as for CORE-HIST-006, the kit's user messages reuse one messageId, and "
        "a2a-sdk keeps only the first of them in the history."
    ),
    "TestAgentCardStructure::test_agent_card_validates_against_schema": (
        "ours, by choice: serving A2A 0.3 beside 1.0 (the default) puts 0.3's card fields "
        "(`url`, `preferredTransport`, `additionalInterfaces`, `protocolVersion`) on the card, "
        "which the 1.0 card schema refuses; `--versions 1.0` passes."
    ),
    "TestDataArtifact::test_task_has_data_artifact": (
        "ours, by choice: the executor renders every data part as JSON text, just before it, "
        "for callers that read only text; the kit looks at the first part only. The data part "
        "itself is there, whole."
    ),
}
"""Why a test fails, by `Class::test` (its transport left out, as `Test.key`)."""


_TRANSPORT_PARAMETER = re.compile(r"\[(?:(.*)-)?(" + "|".join(TRANSPORTS) + r")\]$")


@dataclass
class Test:
    """One kit test's outcome."""

    module: str  # dotted: tests.compatibility.grpc.test_streaming
    owner: str  # the test's class, or its module for a test function
    name: str  # with its parameters: test_x[grpc], test_must_requirement[CORE-SEND-001-grpc]
    outcome: str  # passed, failed, skipped, xfailed
    message: str = ""

    @property
    def id(self) -> str:
        return f"{self.owner}::{self.name}"

    @property
    def key(self) -> str:
        """The test less its transport: the same test on every transport."""
        match = _TRANSPORT_PARAMETER.search(self.id)
        if match is None:
            return self.id
        rest = f"[{match.group(1)}]" if match.group(1) else ""
        return self.id[: match.start()] + rest

    @property
    def transport(self) -> str:
        """The transport the test speaks: its parameter, else its module or class."""
        if match := _TRANSPORT_PARAMETER.search(self.id):
            return match.group(2)
        where = f"{self.module}.{self.id}".lower()
        for column, marks in (
            ("card", ("agent_card",)),
            ("grpc", ("grpc",)),
            ("jsonrpc", ("jsonrpc",)),
            ("http_json", ("http_json", "httpjson", "rest", "aip193")),
        ):
            if any(mark in where for mark in marks):
                return column
        return "other"

    @property
    def requirement(self) -> str:
        match = re.search(r"\b([A-Z][A-Z_]*(?:-[A-Z0-9]+)+) \[", self.message)
        return match.group(1) if match else ""


@dataclass
class Run:
    """One level of the kit against one server."""

    server: str
    level: str
    tests: list[Test] = field(default_factory=list)

    def counts(self, transport: str | None = None) -> Counter[str]:
        return Counter(t.outcome for t in self.tests if transport in (None, t.transport))


def read_junit(path: Path) -> list[Test]:
    """The tests of a JUnit XML report."""
    tests = []
    for case in ET.parse(path).getroot().iter("testcase"):
        # pytest's classname: the module's dotted path, then the class if there is one.
        dotted = case.get("classname") or ""
        module, _, owner = dotted.rpartition(".")
        module = dotted if owner.startswith("test_") else module
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, message = "failed", child.get("message") or (child.text or "")
            elif child.tag == "skipped":
                xfail = child.get("type") == "pytest.xfail"
                outcome, message = ("xfailed" if xfail else "skipped"), child.get("message") or ""
        name = case.get("name") or ""
        tests.append(Test(module, owner, name, outcome, " ".join(message.split())))
    return tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(command: Sequence[str], workdir: Path, log: Path) -> Iterator[str]:
    """The server of `command` on free ports, in its own process, until the block ends."""
    import httpx

    port, grpc_port = free_port(), free_port()
    argv = [*command, "--port", str(port), "--grpc-port", str(grpc_port)]
    with log.open("w") as out:
        proc = subprocess.Popen(argv, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/.well-known/agent-card.json", timeout=2).is_success:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start: {' '.join(argv)}\n{log.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def tck_python(tck: Path) -> Path:
    """The kit's own interpreter, its virtualenv made from the package index when missing."""
    python = tck / ".venv" / "bin" / "python"
    if python.exists():
        return python
    print(f"making the kit's virtualenv in {tck / '.venv'}", flush=True)
    if uv := shutil.which("uv"):
        subprocess.run([uv, "venv", "-q", str(tck / ".venv")], check=True)
        subprocess.run([uv, "pip", "install", "-q", "-p", str(python), "-e", str(tck)], check=True)
    else:
        subprocess.run([sys.executable, "-m", "venv", str(tck / ".venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(tck)], check=True)
    return python


def run_kit(tck: Path, python: Path, url: str, level: str, log: Path) -> list[Test]:
    """One level of the kit over every transport; its tests, read from its JUnit report."""
    report = tck / "reports" / "junitreport.xml"
    report.unlink(missing_ok=True)
    argv = [str(python), "run_tck.py", "--sut-host", url, "--level", level]
    argv += ["--transport", ",".join(TRANSPORTS)]
    with log.open("w") as out:
        subprocess.run(argv, cwd=tck, stdout=out, stderr=subprocess.STDOUT, timeout=1800)
    if not report.exists():
        raise SystemExit(f"the kit wrote no report; its output:\n{log.read_text()[-3000:]}")
    return read_junit(report)


def kit_version(tck: Path) -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(tck), *args], capture_output=True, text=True)
        return done.stdout.strip() or "?"

    spec = json.loads((tck / "specification" / "version.json").read_text())
    branch, commit = git("rev-parse", "--abbrev-ref", "HEAD"), git("rev-parse", "--short", "HEAD")
    dated = git("log", "-1", "--format=%cs")
    return f"a2a-tck {branch} at {commit} ({dated}), specification {spec.get('branch', '?')}"


# --- the report ---


def _cell(counts: Counter[str]) -> str:
    text = f"{counts['passed']} / {counts['failed']} / {counts['skipped']}"
    return text + (f" (+{counts['xfailed']} xfail)" if counts["xfailed"] else "")


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render(runs: list[Run], kit: str, when: str) -> str:
    """docs/conformance.md."""
    lines = [
        "# Conformance: the A2A TCK",
        "",
        "Generated by `python benchmarks/conformance.py --tck PATH` (`nox -s conformance -- PATH`)"
        " from a real run; never edit by hand.",
        "",
        f"- Run on {when}: {kit}; a2a-bridges {version('a2a-bridges')}, a2a-sdk "
        f"{version('a2a-sdk')}, Python {platform.python_version()}.",
        "- Each level is its own run, against a fresh server, over every transport:",
        "  `run_tck.py --sut-host URL --level LEVEL --transport " + ",".join(TRANSPORTS) + "`.",
        "- The servers (each with `--port P --grpc-port G`):",
    ]
    lines += [f"  - {name}: `{_shown(command)}`" for name, command in SERVERS.items()]
    lines += [
        "",
        "## Counts",
        "",
        "Tests passed / failed / skipped, in all and per transport ('card': the agent card; "
        "'other': tests of no one transport). A SHOULD test that fails is an expected failure "
        "(xfail).",
        "",
        "| server | level | all | " + " | ".join(COLUMNS) + " |",
        "|---|---|---|" + "---|" * len(COLUMNS),
    ]
    for run in runs:
        cells = [_cell(run.counts(c)) for c in COLUMNS]
        lines.append(
            f"| {run.server} | {run.level} | {_cell(run.counts())} | {' | '.join(cells)} |"
        )
    lines += _differences(runs)
    lines += _failures(runs)
    return "\n".join(lines) + "\n"


def _shown(command: Sequence[str]) -> str:
    """A server's command as a reader would type it."""
    text = " ".join(command).replace(f"{sys.executable} -m a2a_bridges", "a2a-bridges")
    return text.replace(f"{sys.executable} {__file__}", "python benchmarks/conformance.py")


def _differences(runs: list[Run]) -> list[str]:
    """What each a2a-bridges run does otherwise than the reference, at the same level."""
    reference = next(iter(SERVERS))
    outcomes = {(r.level, t.id): t.outcome for r in runs if r.server == reference for t in r.tests}
    lines = ["", "## Against the reference", ""]
    for run in runs:
        if run.server == reference:
            continue
        theirs = [(t, outcomes.get((run.level, t.id), "absent")) for t in run.tests]
        # Each test with its outcome here and on the reference.
        worse = [(t, o) for t, o in theirs if o == "passed" and t.outcome != "passed"]
        better = [(t, o) for t, o in theirs if o != "passed" and t.outcome == "passed"]
        lines.append(
            f"- {run.server}, {run.level.upper()}: does not pass {len(worse)} that the bare "
            f"a2a-sdk server passes{_listed(worse)}; passes {len(better)} that it does not"
            f"{_listed(better)}."
        )
    return lines


def _listed(tests: list[tuple[Test, str]]) -> str:
    shown = [f"`{t.key}` ({t.transport}: {t.outcome} here, {o} there)" for t, o in tests]
    return ": " + ", ".join(shown) if shown else ""


def _xfail(test: Test) -> str:
    return ", xfail" if test.outcome == "xfailed" else ""


def _failures(runs: list[Run]) -> list[str]:
    failed: dict[str, list[tuple[Run, Test]]] = {}
    for run in runs:
        for test in run.tests:
            if test.outcome in ("failed", "xfailed"):
                failed.setdefault(test.key, []).append((run, test))
    lines = [
        "",
        "## Every failure, and its cause",
        "",
        "Failed tests, and SHOULD tests that failed as expected (xfail).",
        "",
        "| test | requirement | where | what the kit says | cause |",
        "|---|---|---|---|---|",
    ]
    for key, cases in sorted(failed.items()):
        transports: dict[str, set[str]] = {}
        for run, test in cases:
            transports.setdefault(f"{run.server} ({run.level}{_xfail(test)}", set()).add(
                test.transport
            )
        where = "; ".join(f"{r}: {', '.join(sorted(t))})" for r, t in transports.items())
        message = cases[0][1].message.removeprefix("AssertionError: ")
        message = re.sub(r" \(see specification/.*$", "", message)[:300]
        cells = [
            f"`{key}`",
            cases[0][1].requirement,
            where,
            message,
            CAUSES.get(key, "not yet explained"),
        ]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return lines


# --- the reference: the kit's scenarios on a bare a2a-sdk server ---


def serve_reference(port: int, grpc_port: int) -> None:
    """A bare a2a-sdk server (JSON-RPC, HTTP+JSON, gRPC) whose executor plays the kit's
    scenarios with the SDK's own TaskUpdater, as the kit's own Python SUT does."""
    import grpc.aio
    import uvicorn
    from a2a.helpers.proto_helpers import new_task
    from a2a.server.agent_execution import AgentExecutor, RequestContext
    from a2a.server.events import EventQueue
    from a2a.server.request_handlers import DefaultRequestHandler
    from a2a.server.request_handlers.grpc_handler import GrpcHandler
    from a2a.server.routes import (
        create_agent_card_routes,
        create_jsonrpc_routes,
        create_rest_routes,
    )
    from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
    from a2a.types import (
        AgentCapabilities,
        AgentCard,
        AgentInterface,
        AgentSkill,
        TaskState,
        a2a_pb2_grpc,
    )
    from starlette.applications import Starlette

    from a2a_bridges.conversation import TextPart, part_to_a2a
    from a2a_bridges.testing import conformance as tck

    class Reference(AgentExecutor):
        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            assert context.task_id and context.context_id and context.message
            prefix = tck.behaviour(context.message.message_id)
            updater = TaskUpdater(event_queue, context.task_id, context.context_id)
            default = [TextPart(f"Unhandled messageId prefix: {context.message.message_id}")]
            answer = [
                part_to_a2a(TextPart(p) if isinstance(p, str) else p)
                for p in tck.ANSWERS.get(prefix or "", default)
            ]
            if prefix == "tck-message-response":
                await event_queue.enqueue_event(updater.new_agent_message(answer))
                return
            if context.current_task is None:
                task = new_task(
                    context.task_id,
                    context.context_id,
                    TaskState.TASK_STATE_SUBMITTED,
                    history=[context.message],
                )
                await event_queue.enqueue_event(task)
            await updater.start_work()
            if prefix == tck.ASK:
                await updater.requires_input()
            elif prefix == tck.REJECT:
                await updater.reject(updater.new_agent_message([part_to_a2a(TextPart("rejected"))]))
            elif prefix == tck.SLOW:
                await asyncio.sleep(tck.SLOW_SECONDS)
                await updater.complete()
            elif prefix in (None, "tck-complete-task"):
                await updater.complete(updater.new_agent_message(answer))
            else:
                # Strings stream as chunks of one artifact; parts make one artifact.
                chunked = any(isinstance(p, str) for p in tck.ANSWERS[prefix])
                pieces = [[p] for p in answer] if chunked else [answer] if answer else []
                for i, parts in enumerate(pieces):
                    last = i == len(pieces) - 1
                    await updater.add_artifact(
                        parts, artifact_id="answer", append=i > 0, last_chunk=last
                    )
                await updater.complete()

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            assert context.task_id and context.context_id
            await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()

    base = f"http://127.0.0.1:{port}"
    bindings = [
        ("JSONRPC", base),
        ("HTTP+JSON", base + "/rest"),
        ("GRPC", f"127.0.0.1:{grpc_port}"),
    ]
    card = AgentCard(
        name="reference",
        description="The conformance kit's scenarios on a bare a2a-sdk server.",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding=binding, protocol_version="1.0")
            for binding, url in bindings
        ],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="tck", name="tck", description="The kit's scenarios.", tags=["tck"])],
    )
    handler = DefaultRequestHandler(
        agent_executor=Reference(), task_store=InMemoryTaskStore(), agent_card=card
    )
    routes = create_agent_card_routes(card) + create_jsonrpc_routes(handler, "/")
    app = Starlette(routes=routes + create_rest_routes(handler, path_prefix="/rest"))

    async def main() -> None:
        server = grpc.aio.server()
        a2a_pb2_grpc.add_A2AServiceServicer_to_server(GrpcHandler(handler), server)  # type: ignore[no-untyped-call]
        server.add_insecure_port(f"127.0.0.1:{grpc_port}")
        await server.start()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        try:
            await uvicorn.Server(config).serve()
        finally:
            await server.stop(0)

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--tck",
        type=Path,
        default=os.environ.get("A2A_TCK"),
        help="the a2a-tck checkout, branch 1.0-dev (default: $A2A_TCK)",
    )
    parser.add_argument("--levels", default=",".join(LEVELS), help="default: must,should,may")
    parser.add_argument("--out", type=Path, default=DOC, help="default: docs/conformance.md")
    parser.add_argument("--serve-reference", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--grpc-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_reference:
        serve_reference(args.port, args.grpc_port)
        return
    tck: Path | None = args.tck
    if tck is None or not (tck / "run_tck.py").exists():
        raise SystemExit(
            f"no a2a-tck checkout at {tck or '(none given)'}. The kit is not on the package "
            "index; clone it and name it:\n"
            "    git clone -b 1.0-dev https://github.com/a2aproject/a2a-tck /path/to/a2a-tck\n"
            "    python benchmarks/conformance.py --tck /path/to/a2a-tck\n"
            "or: nox -s conformance -- /path/to/a2a-tck  (or set A2A_TCK)"
        )
    tck = tck.resolve()
    python = tck_python(tck)
    levels = [level for level in args.levels.split(",") if level]
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    runs = []
    with tempfile.TemporaryDirectory(prefix="a2a-conformance-") as tmp:
        for name, command in SERVERS.items():
            for level in levels:
                print(f"{name}, {level.upper()} ...", end=" ", flush=True)
                # A fresh folder: `a2a-bridges serve` keeps its tasks in ./a2a-bridges.db.
                workdir = Path(tempfile.mkdtemp(dir=tmp))
                with serving(command, workdir, workdir / "server.log") as url:
                    tests = run_kit(tck, python, url, level, workdir / "kit.log")
                run = Run(name, level, tests)
                runs.append(run)
                print(_cell(run.counts()), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(runs, kit_version(tck), when))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

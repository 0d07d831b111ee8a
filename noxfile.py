"""The test matrix: every dependency set on the default Python, the full set on every Python."""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = [
    "tests",
    "scenarios",
    "lint",
    "typecheck",
    "minimums",
    "packaging",
    "interop",  # ~3.5 min on 2 cores, the peers' environments built or kept
]
# By name only: bench (not pass/fail), conformance (needs an a2a-tck checkout; CI has none).

ROOT = Path(__file__).parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
GROUPS: dict[str, list[str]] = PYPROJECT["dependency-groups"]
DEFAULT_PYTHON = "3.11"
SUPPORTED = ["3.11", "3.12", "3.13"]


def _find_interpreters() -> list[str]:
    """The supported Pythons on this machine, pyenv's included even when not selected.

    pyenv's shims answer to `python3.13` on PATH but fail when that version is not selected,
    so the real interpreter folders go first; uv must never download one instead.
    """
    os.environ["UV_PYTHON_DOWNLOADS"] = "never"
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = []
    for version in SUPPORTED:
        candidates = sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True)
        if candidates:
            os.environ["PATH"] = f"{candidates[0].parent}{os.pathsep}{os.environ['PATH']}"
        elif shutil.which(f"python{version}") is None:
            continue
        found.append(version)
    return found


INSTALLED = _find_interpreters() or [f"{sys.version_info.major}.{sys.version_info.minor}"]

# Each set: the extras to install, and the peers the tests talk to.
SETS: dict[str, tuple[str, list[str]]] = {
    "core": ("", []),
    "pydantic-ai": ("pydantic-ai", GROUPS["peers-pydantic-ai"]),
    "langchain": ("langchain", GROUPS["peers-langchain"]),
    "ag2": ("ag2", []),
    "ag2-next": ("ag2-next", []),
    "all": ("all", GROUPS["peers-pydantic-ai"] + GROUPS["peers-langchain"]),
}

FRAMEWORK_TESTS = [
    "tests/adapters",
    "tests/contract",
    "tests/scenarios",
    "tests/test_public_api.py",
]

# Hundreds of real servers on loopback share two busy cores with the other worker: a test that
# fails is run once more, and the summary names every rerun; one that fails twice fails CI.
RERUN = ["--reruns", "1", "-raR"]

MATRIX = [nox.param(DEFAULT_PYTHON, name, id=f"{DEFAULT_PYTHON}-{name}") for name in SETS] + [
    nox.param(version, "all", id=f"{version}-all")
    for version in INSTALLED
    if version != DEFAULT_PYTHON
]


@nox.session
@nox.parametrize("python,deps", MATRIX)
def tests(session: nox.Session, deps: str) -> None:
    """Run the test suite with one dependency set on one Python."""
    extras, peers = SETS[deps]
    session.install(f".[{extras}]" if extras else ".", *GROUPS["test"], *peers)
    # A set without every framework skips what needs the others (the full set runs it all);
    # a framework's set runs what the framework takes part in, the core set runs the core's.
    partial = [] if deps == "all" else ["--a2a-skip-missing"]
    paths = [] if deps in ("all", "core") else FRAMEWORK_TESTS
    # Two workers: CI machines have two cores; the suite waits on sockets as much as it computes.
    workers = ["-n", os.environ.get("A2A_BRIDGES_TEST_WORKERS", "2")]
    default = ["-q", *workers, *RERUN, *paths]
    session.run("python", "-m", "pytest", *partial, *(session.posargs or default))


@nox.session(python=DEFAULT_PYTHON)
def scenarios(session: nox.Session) -> None:
    """Every bundled scenario, end to end, with the report in report/."""
    session.install(".[all]")
    session.run("a2a-bridges", "scenarios", "run", "--all", "--report", "report", *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff: lint and formatting."""
    session.install(*GROUPS["lint"])
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


def _namespace(dest: Path) -> Path:
    """The a2a_bridges namespace as symlinks onto the folders, for tools that read sources."""
    shutil.rmtree(dest, ignore_errors=True)
    package = dest / "a2a_bridges"
    package.mkdir(parents=True)
    for item in (ROOT / "bridges").iterdir():
        if item.name != "__pycache__":
            (package / item.name).symlink_to(item)
    for folder in ("adapters", "scenarios"):
        (package / folder).symlink_to(ROOT / folder)
    return dest


@nox.session(python=DEFAULT_PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy, strict on the whole a2a_bridges namespace: the core, the adapters, the scenarios."""
    session.install(".[all]", *GROUPS["lint"], *GROUPS["test"], *SETS["all"][1])
    tree = _namespace(Path(session.create_tmp()) / "namespace")
    session.run("mypy", "-p", "a2a_bridges", env={"MYPYPATH": str(tree)})


@nox.session(python=DEFAULT_PYTHON)
def packaging(session: nox.Session) -> None:
    """The wheel in a fresh virtualenv, beside a user project's own adapters/ and scenarios/."""
    session.install(".", *GROUPS["test"], "uv")
    session.run("python", "-m", "pytest", "-q", "-m", "packaging", "tests/packaging")


@nox.session(python=DEFAULT_PYTHON)
def minimums(session: nox.Session) -> None:
    """The core at the lowest versions it allows."""
    session.install("--resolution=lowest-direct", ".", *GROUPS["test"])
    session.run("python", "-m", "pytest", "-q", "-n", "2", *RERUN, "tests/bridges")


@nox.session(python=DEFAULT_PYTHON)
def bench(session: nox.Session) -> None:
    """What a2a-bridges costs over its floors and beside its peers, as ratios measured in one run:
    docs/benchmarks.md and docs/benchmarks.svg. `nox -s bench -- --quick` for a short run."""
    session.install(".[all]", *SETS["all"][1], *GROUPS["peers-bench"])
    for name in ("throughput", "instructions", "latency", "scale"):
        out = f"docs/benchmarks/{name}.json"
        session.run("python", "-m", f"benchmarks.{name}", "--out", out, *session.posargs)
    session.run("python", "-m", "benchmarks.report")


@nox.session(python=DEFAULT_PYTHON)
def conformance(session: nox.Session) -> None:
    """The A2A conformance kit against a2a-bridges and a bare a2a-sdk server: docs/conformance.md.

    `nox -s conformance -- PATH [--levels must]`, or `A2A_TCK=PATH nox -s conformance`: PATH is
    an a2a-tck checkout (branch 1.0-dev), which is not on the package index.
    """
    args = list(session.posargs)
    tck = args.pop(0) if args and not args[0].startswith("-") else os.environ.get("A2A_TCK", "")
    if not (tck and (Path(tck) / "run_tck.py").is_file()):
        session.error(
            f"no a2a-tck checkout at {tck or '(none given)'}; the kit is not on the package index:"
            " git clone -b 1.0-dev https://github.com/a2aproject/a2a-tck PATH, then"
            " nox -s conformance -- PATH (or A2A_TCK=PATH nox -s conformance)"
        )
    session.install(".[grpc]")
    session.run("python", "benchmarks/conformance.py", "--tck", str(Path(tck).resolve()), *args)


@nox.session(python=DEFAULT_PYTHON)
def interop(session: nox.Session) -> None:
    """Every peer's client against our servers and ours against theirs: docs/interop.md.

    Each peer's virtualenv is built from the package index into .nox/interop-peers and kept
    for the next run (`nox -s interop -- --upgrade` brings the peers up to date). Fails when a
    cell that is ours fails.
    """
    session.install(".[all]", "uv")
    session.run("python", "-m", "interop.matrix", *session.posargs)

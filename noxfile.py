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
nox.options.sessions = ["tests", "scenarios", "lint", "typecheck", "minimums"]  # bench: by name

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
    "all": ("all", GROUPS["peers-pydantic-ai"] + GROUPS["peers-langchain"]),
}

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
    session.run("python", "-m", "pytest", *(session.posargs or ["-q"]))


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


@nox.session(python=DEFAULT_PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy, strict on bridges/."""
    session.install(".[all]", *GROUPS["lint"])
    session.run("mypy")


@nox.session(python=DEFAULT_PYTHON)
def minimums(session: nox.Session) -> None:
    """The core at the lowest versions it allows."""
    session.install("--resolution=lowest-direct", ".", *GROUPS["test"])
    session.run("python", "-m", "pytest", "-q", "tests/bridges")


@nox.session(python=DEFAULT_PYTHON)
def bench(session: nox.Session) -> None:
    """What a2a-bridges costs over a bare a2a-sdk server, as a ratio measured in one run."""
    session.install(".")
    session.run("python", "benchmarks/overhead.py", *session.posargs)

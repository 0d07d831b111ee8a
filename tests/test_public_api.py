"""The public surface, pinned: every public module's `__all__` is exactly what it defines, and
nothing outside the core imports a private part of it."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import a2a_bridges

ROOT = Path(__file__).resolve().parents[1]


def _isort_style(name: str) -> tuple[int, str]:
    # As ruff's RUF022 sorts `__all__`: CONSTANTS, then Classes, then everything else.
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def _public_modules() -> list[str]:
    names = ["a2a_bridges"]
    for info in pkgutil.walk_packages(a2a_bridges.__path__, "a2a_bridges."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts):
            continue
        names.append(info.name)
    return sorted(names)


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        # A module of a framework (or of gRPC) this dependency set does not install.
        third_party = isinstance(exc, ModuleNotFoundError) and not (exc.name or "").startswith(
            "a2a_bridges"
        )
        if third_party or "a2a-bridges[" in str(exc) or "pip install" in str(exc):
            pytest.skip(f"{name}: its framework is not installed")
        raise


def _defined(module: ModuleType) -> set[str]:
    """The public names a module binds itself: definitions and assignments, not imports."""
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_") and n != "logger"}


@pytest.mark.parametrize("name", _public_modules())
def test_all_is_sorted_and_exactly_what_the_module_defines(name: str) -> None:
    module = _import(name)
    exported = list(getattr(module, "__all__", None) or [])
    assert exported == sorted(exported, key=_isort_style), f"{name}.__all__ is not sorted"
    if module.__file__ and module.__file__.endswith("__init__.py"):
        # A package re-exports: every name it lists must be reachable.
        for member in exported:
            assert getattr(module, member) is not None
        return
    assert set(exported) == _defined(module), name


def test_the_top_level_names() -> None:
    assert {"to_a2a", "serve", "from_a2a", "RemoteAgent", "RemoteConversation"} <= set(
        a2a_bridges.__all__
    )


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names]
    return found


@pytest.mark.parametrize("folder", ["adapters", "scenarios"])
def test_nothing_outside_the_core_imports_a_private_core_module(folder: str) -> None:
    private = [
        (str(path.relative_to(ROOT)), name)
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in _imports(path)
        if name.startswith("a2a_bridges.")
        and not name.startswith(("a2a_bridges.adapters", "a2a_bridges.scenarios"))
        and any(part.startswith("_") for part in name.split(".")[1:])
    ]
    assert private == []


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_the_client_loads_nothing_beyond_the_sdk_client() -> None:
    # httpx itself imports rich (through its own command line) where rich is installed.
    base = _modules_after("import a2a.client, httpx")
    loaded = _modules_after("from a2a_bridges import RemoteAgent, RemoteConversation")
    added = {m.split(".")[0] for m in loaded - base}
    assert added <= {"a2a_bridges", "anyio"}
    for heavy in ("a2a_bridges.server", "sqlalchemy", "uvicorn", "pydantic_ai", "autogen"):
        assert heavy not in loaded, heavy


def test_importing_the_package_loads_nothing_else() -> None:
    loaded = _modules_after("import a2a_bridges")
    assert {m for m in loaded if m.startswith("a2a_bridges")} == {"a2a_bridges"}
    assert "a2a" not in loaded

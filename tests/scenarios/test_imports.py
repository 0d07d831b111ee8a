"""The scenarios package's imports: no circles, and no framework named in its code."""

from __future__ import annotations

import ast
from pathlib import Path

import a2a_bridges.scenarios
from a2a_bridges.scenarios.frameworks import frameworks

PACKAGE = "a2a_bridges.scenarios"
ROOT = Path(a2a_bridges.scenarios.__path__[0])
MODULES = {f"{PACKAGE}.{p.stem}": p for p in ROOT.glob("*.py") if p.stem != "__init__"}
MODULES[PACKAGE] = ROOT / "__init__.py"
# The story scenarios name the frameworks their story is about.
STORIES = {"code_review", "research_relay", "structured_handoff"}


def _imports(path: Path) -> set[str]:
    """Every module of the package that `path` imports, at the top, in a function or only
    for type checking."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from package import module` imports the module; other names, the package.
            names = {f"{node.module}.{alias.name}" for alias in node.names}
            found |= names & MODULES.keys() or {node.module}
    return {name for name in found if name in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle in `graph`, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target] if target in path else [target]
            if target not in state and (found := visit(target, [*path, target])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_the_walk_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_itself_round_a_circle() -> None:
    graph = {name: _imports(path) - {name} for name, path in MODULES.items()}
    assert graph[f"{PACKAGE}.runner"], "the walk sees the imports"
    assert _cycle(graph) is None


def _strings(path: Path) -> set[str]:
    """The string constants of a module, those inside the story scenarios' functions left out."""
    tree = ast.parse(path.read_text())
    stories = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in STORIES]
    skip = {id(n) for story in stories for n in ast.walk(story)}
    return {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip
    }


def test_no_framework_is_named_but_in_the_stories() -> None:
    named = {
        (path.name, text)
        for path in MODULES.values()
        for text in _strings(path)
        if text in frameworks() and text != "functions"
    }
    assert named == set()

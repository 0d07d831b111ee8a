"""Installs the folders bridges/, adapters/ and scenarios/ as one namespace: a2a_bridges.

`adapters` and `scenarios` are common names in users' projects (and `adapters` is an unrelated
PyPI distribution), so nothing is installed under them. A wheel holds `a2a_bridges/`,
`a2a_bridges/adapters/` and `a2a_bridges/scenarios/`; an editable install maps the same three
names onto the checkout's folders with a small import finder, since hatchling's own editable
mode cannot rename a folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGES = {
    "a2a_bridges": "bridges",
    "a2a_bridges.adapters": "adapters",
    "a2a_bridges.scenarios": "scenarios",
}

FINDER = '''"""An editable install of a2a-bridges: a2a_bridges on the checkout's folders."""

import importlib.util
import sys

ROOTS = {roots!r}


class _Finder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        root = ROOTS.get(name)
        if root is None:
            return None
        return importlib.util.spec_from_file_location(
            name, root + "/__init__.py", submodule_search_locations=[root]
        )


sys.meta_path.insert(0, _Finder)
'''


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Maps the folders onto the namespace, in wheels and in editable installs."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        if version != "editable":
            for name, folder in PACKAGES.items():
                build_data["force_include"][str(root / folder)] = name.replace(".", "/")
            return
        roots = {name: str(root / folder) for name, folder in PACKAGES.items()}
        out = Path(tempfile.mkdtemp(prefix="a2a-bridges-editable-"))
        # pytest skips modules named like setuptools' editable finders when it looks for
        # plugin modules to rewrite; any other name warns that it was imported too early.
        finder = "__editable___a2a_bridges_finder"
        (out / f"{finder}.py").write_text(FINDER.format(roots=roots))
        (out / f"{finder}.pth").write_text(f"import {finder}\n")
        for name in (f"{finder}.py", f"{finder}.pth"):
            build_data["force_include_editable"][str(out / name)] = name

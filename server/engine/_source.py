"""Chooses between the compiled engine modules (mypyc, built by setup.py) and their Python source.

An editable install compiles the modules in place; a later edit of a `.py` file would otherwise be
ignored because Python prefers the extension module. When any compiled module is older than its
source, or VERSPROCHEN_PURE_PYTHON=1 is set, all engine modules load from source (never a mix:
compiled modules share their classes through one library).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

PACKAGE = "server.engine"
PURE_ENV = "VERSPROCHEN_PURE_PYTHON"


class SourceFinder:
    """A meta-path finder that loads `server.engine.*` modules from their `.py` files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        """The source spec for an engine module that has a `.py` file, else None (normal lookup)."""
        package, _, name = fullname.rpartition(".")
        source = self.directory / f"{name}.py"
        if package != PACKAGE or not source.is_file():
            return None
        return importlib.util.spec_from_file_location(fullname, source)


def compiled_modules(directory: Path) -> list[tuple[Path, Path]]:
    """(extension, source) pairs of the engine modules compiled in `directory`."""
    pairs = []
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for ext in directory.glob(f"*{suffix}"):
            source = directory / (ext.name[: -len(suffix)] + ".py")
            if source.is_file():
                pairs.append((ext, source))
    return pairs


def choose(directory: Path) -> str:
    """Install the source finder when needed; returns "compiled", "source" or "source (stale build)"."""
    pairs = compiled_modules(directory)
    if not pairs:
        return "source"
    if os.environ.get(PURE_ENV) == "1":
        reason = "source"
    elif any(source.stat().st_mtime > ext.stat().st_mtime for ext, source in pairs):
        # Silent on purpose: front-ends own stderr (the language server's client shows it). The
        # benchmarks print `server.engine.BUILD`.
        reason = "source (stale build)"
    else:
        return "compiled"
    if not any(isinstance(f, SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, SourceFinder(directory))
    return reason

"""Build hook: compiles the engine's hot modules to C with mypyc; pure Python where that is not possible.

Compiling makes `Engine.analyze` about twice as fast (see bench/bench_engine.py). Set
VERSPROCHEN_PURE_PYTHON=1 to install without compiling; the modules are then imported from source.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup

# The modules on the analysis path; the others (fixes, MIME reading, the package init) stay Python.
COMPILED = [
    f"server/engine/{name}.py"
    for name in (
        "types", "engine", "mail", "nlp", "clauses", "phrases", "promises", "risk", "tense",
        "deadlines", "deadline_patterns", "deadline_anchors", "calendar_de",
        "jargon", "deliveries", "delivery_match", "delivery_clauses", "delivery_patterns",
    )
]


def extensions() -> list[object]:
    """The mypyc extension modules, or none when compiling is switched off or impossible."""
    if os.environ.get("VERSPROCHEN_PURE_PYTHON") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("versprochen: mypyc not available, installing the engine as pure Python", file=sys.stderr)
        return []
    try:
        modules = mypycify(COMPILED, group_name="server.engine._compiled", opt_level="3")
    except SystemExit:  # mypyc exits on a type error it finds (e.g. a library's types missing here)
        print("versprochen: mypyc could not compile the engine (see above); installing it as pure Python",
              file=sys.stderr)
        return []
    for module in modules:
        module.optional = True  # a failing C compiler leaves the pure-Python engine, not a broken install
    return list(modules)


setup(ext_modules=extensions())

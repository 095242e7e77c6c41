"""Compiled (mypyc) or source engine modules: stale builds and the pure-Python switch, and equal results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import server.engine
from server.engine import _source

SUFFIX = ".cpython-311-x86_64-linux-gnu.so"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def module_dir(tmp_path: Path) -> Path:
    """A fake package directory with one compiled module and its source."""
    (tmp_path / "promises.py").write_text("X = 1\n")
    (tmp_path / f"promises{SUFFIX}").write_bytes(b"")
    (tmp_path / f"_compiled__mypyc{SUFFIX}").write_bytes(b"")  # the shared library has no source
    return tmp_path


@pytest.fixture
def clean_meta_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep finders installed by `choose` out of the rest of the test session."""
    # Without the session's own finder (present when this checkout's build is stale).
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if not isinstance(f, _source.SourceFinder)])
    monkeypatch.delenv(_source.PURE_ENV, raising=False)


def _touch(path: Path, mtime: int) -> None:
    os.utime(path, (mtime, mtime))


@pytest.mark.skipif(SUFFIX not in EXTENSION_SUFFIXES, reason="not CPython 3.11 on x86_64")
def test_pairs_only_modules_with_source(module_dir: Path) -> None:
    assert [(e.name, s.name) for e, s in _source.compiled_modules(module_dir)] == [
        (f"promises{SUFFIX}", "promises.py")]


@pytest.mark.skipif(SUFFIX not in EXTENSION_SUFFIXES, reason="not CPython 3.11 on x86_64")
@pytest.mark.usefixtures("clean_meta_path")
def test_fresh_build_is_used(module_dir: Path) -> None:
    _touch(module_dir / "promises.py", 1_000)
    _touch(module_dir / f"promises{SUFFIX}", 2_000)
    assert _source.choose(module_dir) == "compiled"
    assert not any(isinstance(f, _source.SourceFinder) for f in sys.meta_path)


@pytest.mark.skipif(SUFFIX not in EXTENSION_SUFFIXES, reason="not CPython 3.11 on x86_64")
@pytest.mark.usefixtures("clean_meta_path")
def test_edited_source_wins_over_stale_build(module_dir: Path) -> None:
    _touch(module_dir / f"promises{SUFFIX}", 1_000)
    _touch(module_dir / "promises.py", 2_000)
    assert _source.choose(module_dir) == "source (stale build)"
    finder = next(f for f in sys.meta_path if isinstance(f, _source.SourceFinder))
    spec = finder.find_spec("server.engine.promises")
    assert spec is not None and spec.origin == str(module_dir / "promises.py")
    assert finder.find_spec("server.engine.missing") is None
    assert finder.find_spec("server.lsp.promises") is None


@pytest.mark.skipif(SUFFIX not in EXTENSION_SUFFIXES, reason="not CPython 3.11 on x86_64")
@pytest.mark.usefixtures("clean_meta_path")
def test_switch_forces_source(module_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _touch(module_dir / "promises.py", 1_000)
    _touch(module_dir / f"promises{SUFFIX}", 2_000)
    monkeypatch.setenv(_source.PURE_ENV, "1")
    assert _source.choose(module_dir) == "source"


def test_no_build_means_source(tmp_path: Path) -> None:
    (tmp_path / "engine.py").write_text("")
    assert _source.choose(tmp_path) == "source"


PROBE = """
import json, sys
from datetime import datetime
import server.engine as e
from server.engine import Engine
import server.engine.promises as p
engine = Engine()
out = []
for text in json.load(sys.stdin):
    a = engine.analyze(text, datetime(2026, 11, 23, 10, 0))
    out.append([[x.start, x.end, x.risk, x.rule, x.deadline.due_iso() if x.deadline else None] for x in a.promises]
               + [[j.start, j.end, j.term, j.plain] for j in a.jargon]
               + [[d.start, d.end, d.object, d.phrased] for d in a.deliveries])
print(json.dumps({"build": e.BUILD, "file": p.__file__, "found": out}))
"""

TEXTS = [
    "Hallo Frau Reuter,\n\nwir liefern garantiert bis Freitag. Das Angebot schicke ich Ihnen zeitnah.\n\n"
    "Anbei erhalten Sie wie versprochen die Rechnung. Wir machen ein Meeting asap.\n\nViele Grüße\nTom",
    "Die Ware ist übermorgen bei Ihnen, spätestens aber am 27.11. um 15 Uhr.",
    "Am 20.11.2026 schrieb Anna:\n> Können Sie mir bis Freitag ein Angebot schicken?\n\nAnbei das Angebot.",
]


def _probe(env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE], input=json.dumps(TEXTS), capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.skipif(server.engine.BUILD != "compiled", reason="the engine is not compiled in this install")
def test_compiled_and_source_find_the_same() -> None:
    compiled = _probe({**os.environ, _source.PURE_ENV: "0"})
    if compiled["build"] != "compiled":
        pytest.skip("an engine source was edited after the build (stale): nothing compiled to compare")
    source = _probe({**os.environ, _source.PURE_ENV: "1"})
    assert str(compiled["file"]).endswith(".so")
    assert source["build"] == "source" and str(source["file"]).endswith(".py")
    assert compiled["found"] == source["found"]
    found = compiled["found"]
    assert isinstance(found, list) and all(found)  # every text has findings: the comparison is not vacuous

"""Diagnostics reused from the previous version (unchanged head and tail) equal a fresh conversion."""

from __future__ import annotations

import json
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.engine import Engine
from server.lsp.analysis import Job, analyse
from server.lsp.convert import Options
from server.lsp.positions import LineIndex
from server.lsp.wire import DiagnosticCache, common_prefix, common_suffix

SENT = datetime(2026, 11, 23, 10, 0)
HEADER = "Date: Mon, 23 Nov 2026 10:00:00 +0100\nAn: Anna Reuter <anna@kunde.de>\nBetreff: Angebot\n\n"
PARAGRAPH = ("Wir liefern garantiert bis Freitag. Das Meeting ist zeitnah, ich melde mich asap. "
             "Anbei erhalten Sie das Angebot, wie versprochen.")
START = HEADER + "\n\n".join([PARAGRAPH] * 6) + (
    "\n\nAm 20.11.2026 schrieb Anna Reuter:\n> Können Sie mir bis Freitag ein Angebot schicken?\n")
PIECES = ["x", " ", "\n", "\r\n", "\n\n", "ä", "😀", " garantiert", " Meeting", " bis morgen.", "Wir liefern "]


def convert(engine: Engine, text: str, cache: DiagnosticCache, version: int) -> list[str]:
    """Analyse `text` and convert its findings with `cache`."""
    options = Options(rules=engine.lexicon.rules, data_support=True)
    job = Job(uri="file:///a.txt", version=version, text=text, kind="mail", encoding="utf-16", options=options,
              max_chars=1_000_000, reference_time="now", sent_hint=SENT, index=LineIndex(text), cache=cache)
    return list(analyse(engine, job).diagnostics)


edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 12), st.sampled_from(PIECES)), min_size=1,
                 max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=edits)
def test_reused_diagnostics_equal_a_fresh_conversion(engine: Engine, steps: list[tuple[float, int, str]]) -> None:
    """After every edit (insertions, deletions, line breaks, astral characters) the reused JSON texts are the
    ones a new cache produces for the same text."""
    cache = DiagnosticCache("file:///a.txt")
    text = START
    convert(engine, text, cache, 1)
    for version, (where, removed, piece) in enumerate(steps, 2):
        at = int(where * len(text))
        text = text[:at] + piece + text[at + removed:]
        incremental = convert(engine, text, cache, version)
        assert incremental == convert(engine, text, DiagnosticCache("file:///a.txt"), version), text


def test_typing_reuses_the_diagnostics_before_and_after_the_edit(engine: Engine) -> None:
    """A space typed in the third paragraph keeps the JSON texts (same objects) of the other lines; a line
    break before everything moves every diagnostic down one line."""
    cache = DiagnosticCache("file:///a.txt")
    first = convert(engine, START, cache, 1)
    at = START.index("Meeting", len(HEADER) + 2 * len(PARAGRAPH))
    second = convert(engine, START[:at] + " " + START[at:], cache, 2)
    assert len(first) == len(second) > 6
    edited = START.count("\n", 0, at)
    for a, b in zip(first, second, strict=True):
        if json.loads(a)["range"]["start"]["line"] != edited:
            assert a is b
    moved = convert(engine, "\n" + START, cache, 3)
    lines = [json.loads(d)["range"]["start"]["line"] for d in moved]
    assert lines == [json.loads(d)["range"]["start"]["line"] + 1 for d in second]


@given(st.text("ab\n", max_size=12), st.text("ab\n", max_size=12))
def test_common_prefix_and_suffix(a: str, b: str) -> None:
    """The binary searches find the longest common prefix and suffix (the suffix not overlapping it)."""
    p = common_prefix(a, b)
    assert a[:p] == b[:p] and (p == min(len(a), len(b)) or a[p] != b[p])
    limit = min(len(a), len(b)) - p
    s = common_suffix(a, b, limit)
    assert s <= limit and a[len(a) - s:] == b[len(b) - s:]
    assert s == limit or a[len(a) - s - 1] != b[len(b) - s - 1]


def test_settle_heap_freezes_and_a_rebuild_releases_the_old_cycles() -> None:
    """The engine's objects leave the collector's generations; after a rebuild a dropped cycle is freed."""
    import gc
    import weakref

    from server.lsp.analysis import settle_heap

    class Node:
        """A reference cycle standing in for an old engine."""

        def __init__(self) -> None:
            self.me = self

    try:
        old = Node()
        gone = weakref.ref(old)
        settle_heap(rebuilt=False)
        assert gc.get_freeze_count() > 0
        del old
        settle_heap(rebuilt=True)
        assert gone() is None and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()

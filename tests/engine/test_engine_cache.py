"""Paragraph cache and run analysis: re-analysis after an edit equals analysing the edited text cold."""

from __future__ import annotations

import random

from bench.corpus import mail
from server.engine import Engine
from tests.conftest import MONDAY


def _findings(engine: Engine, text: str) -> tuple[object, ...]:
    analysis = engine.analyze(text, MONDAY)
    return analysis.promises, analysis.jargon, analysis.deliveries, analysis.earlier_promises


def test_edits_give_the_same_findings_as_a_cold_run(engine: Engine) -> None:
    rng = random.Random(11)
    text = mail(rng, 300) + "\n\n> Am 2.11.2026 schrieb Anna:\n> Den Vertrag schicke ich Ihnen morgen."
    engine.analyze(text, MONDAY)  # warm the cache
    paragraphs = text.split("\n\n")
    for n in range(1, len(paragraphs) - 1, 2):
        edited = "\n\n".join([*paragraphs[:n], paragraphs[n] + " Wir liefern garantiert bis Freitag.",
                              *paragraphs[n + 1:]])
        warm = _findings(engine, edited)
        engine._cache.clear()
        assert _findings(engine, edited) == warm


def test_offsets_point_at_the_finding_text(engine: Engine) -> None:
    rng = random.Random(5)
    text = mail(rng, 400)
    analysis = engine.analyze(text, MONDAY)
    assert analysis.promises and analysis.jargon
    for p in analysis.promises:
        assert text[p.start:p.end] == p.text
        if p.deadline is not None:
            assert text[p.deadline.start:p.deadline.end] == p.deadline.text
    for j in analysis.jargon:
        assert text[j.start:j.end].casefold() == j.term.casefold() or j.term in text[j.start:j.end] or "…" in j.term

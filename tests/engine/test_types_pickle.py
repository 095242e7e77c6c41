"""Findings survive pickling (worker processes, caches), compiled with mypyc or not."""

from __future__ import annotations

import pickle
from datetime import datetime

from server.engine import Engine
from server.engine.types import Analysis

TEXT = ("An: Anna Reuter <anna@kunde.de>\nBetreff: Angebot\n\nHallo Frau Reuter,\n\n"
        "wir liefern garantiert bis Freitag. Wie versprochen, erhalten Sie anbei das Angebot.\n"
        "Das Meeting machen wir asap.\n\nAm 20.11.2026 schrieb Anna Reuter:\n"
        "> Wir schicken Ihnen das Angebot bis Montag.\n\nViele Grüße\nTom")


def test_analysis_round_trips_through_pickle() -> None:
    analysis = Engine().analyze(TEXT, datetime(2026, 11, 23, 10, 0))
    assert analysis.promises and analysis.jargon and analysis.deliveries  # every kind is exercised
    assert any(p.triggers and p.deadline for p in analysis.promises)
    restored = pickle.loads(pickle.dumps(analysis))
    assert isinstance(restored, Analysis)
    assert restored == analysis
    assert restored.mail.recipients() == analysis.mail.recipients()

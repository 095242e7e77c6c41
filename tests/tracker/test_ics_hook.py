"""`versprochen promises list --ics` writes a parseable calendar of the open promises."""

from __future__ import annotations

import io
import sys
from datetime import datetime
from pathlib import Path

import icalendar
import pytest

from server.cli import main
from server.engine import Engine
from server.tracker.store import SentMail, TrackerStore


def test_promises_list_ics(tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "t.sqlite3"
    sent = datetime(2026, 11, 23, 10, 0)
    store = TrackerStore(db)
    mail = SentMail("<m1@example.de>", "anna@firma.de", ("kunde@example.com",), "Angebot", sent)
    store.record_mail(mail, engine.analyze("Ich schicke Ihnen das Angebot bis Freitag.", sent))
    store.close()
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, encoding="utf-8"))
    assert main(["promises", "list", "--db", str(db), "--ics"]) == 0
    sys.stdout.flush()
    calendar = icalendar.Calendar.from_ical(out.getvalue())
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 1
    assert events[0].decoded("DTSTART").isoformat() == "2026-11-27"
    assert [a for a in events[0].walk("VALARM")]

"""A seeded tracker for dashboard tests: open, overdue, due-soon, kept, broken and hostile promises."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from server.tracker.store import TrackerStore
from tests.tracker.tracker_factories import Clock, make_analysis, make_mail, make_promise

# The dashboard's "now" in these tests: Wednesday 2026-11-25 09:00.
NOW = datetime(2026, 11, 25, 9, 0)
HOSTILE = '<script>alert("x")</script> Wir liefern & montieren „sofort“.'
HOSTILE_NAME = '"<img src=x onerror=alert(1)>" <boese@firma.de>'
ANNA = "Anna Kunde <anna@kunde.de>"
BOB = "Bob Bau <bob@bau.de>"
MAX = "Max Muster <max@firma.de>"
EVA = "Eva Engel <eva@firma.de>"


def _record(store: TrackerStore, clock: Clock, when: datetime, message_id: str, sender: str, recipient: str,
            subject: str, text: str, due: date | datetime | None, deadline_text: str | None = None) -> int:
    clock.now = when
    promise = make_promise(text, due=due, deadline_text=deadline_text, vague=due is None and bool(deadline_text))
    ids = store.record_mail(make_mail(message_id, sender=sender, recipients=(recipient,), subject=subject,
                                      sent=when), make_analysis(text, (promise,)))
    return ids[0]


def seed(path: Path) -> dict[str, int]:
    """Fill a new tracker at `path`; returns the promise ids by role."""
    clock = Clock(datetime(2026, 11, 16, 10, 0))
    ids: dict[str, int] = {}
    with TrackerStore(path, clock=clock) as store:
        ids["overdue"] = _record(store, clock, datetime(2026, 11, 16, 10, 0), "<a1@firma.de>", MAX, ANNA,
                                 "Muster", "Ich schicke Ihnen bis Freitag die Muster.", date(2026, 11, 20),
                                 "bis Freitag")
        ids["kept"] = _record(store, clock, datetime(2026, 11, 16, 11, 0), "<a2@firma.de>", MAX, ANNA,
                              "Rückruf", "Ich rufe Sie morgen zurück.", date(2026, 11, 17), "morgen")
        clock.now = datetime(2026, 11, 17, 15, 0)
        store.set_state(ids["kept"], "kept", by="max", note="Telefonat geführt")
        ids["broken"] = _record(store, clock, datetime(2026, 11, 17, 9, 0), "<a3@firma.de>", EVA, ANNA,
                                "Lieferung", "Die Lieferung ist am Donnerstag bei Ihnen.", date(2026, 11, 19),
                                "am Donnerstag")
        clock.now = datetime(2026, 11, 20, 8, 0)
        store.set_state(ids["broken"], "broken", by="eva")
        ids["soon"] = _record(store, clock, datetime(2026, 11, 23, 10, 0), "<a4@firma.de>", MAX, ANNA,
                              "Angebot Küche", "Ich schicke Ihnen bis Freitag das Angebot.", date(2026, 11, 27),
                              "bis Freitag")
        ids["timed"] = _record(store, clock, datetime(2026, 11, 23, 11, 0), "<b1@firma.de>", EVA, BOB,
                               "Montage", "Die Monteure sind am Donnerstag um 8 Uhr bei Ihnen.",
                               datetime(2026, 11, 26, 8, 0), "am Donnerstag um 8 Uhr")
        ids["later"] = _record(store, clock, datetime(2026, 11, 23, 12, 0), "<b2@firma.de>", EVA, BOB,
                               "Rechnung", "Die Gutschrift erhalten Sie Mitte Dezember.", date(2026, 12, 15),
                               "Mitte Dezember")
        ids["vague"] = _record(store, clock, datetime(2026, 11, 24, 9, 0), "<b3@firma.de>", MAX, BOB,
                               "Frage", "Ich melde mich zeitnah.", None, "zeitnah")
        ids["hostile"] = _record(store, clock, datetime(2026, 11, 24, 10, 0), "<h1@firma.de>", HOSTILE_NAME,
                                 '"<b>Kunde</b>" <evil@kunde.de>', "<i>Betreff</i>", HOSTILE,
                                 date(2026, 11, 30), "<u>bald</u>")
    return ids

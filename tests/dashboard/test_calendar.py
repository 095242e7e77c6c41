"""The iCalendar feed parsed back with icalendar: events, all-day dates, alarms, stable UIDs; the CLI."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from starlette.testclient import TestClient

from server.cli import main
from server.tracker.store import TrackerStore


def events(data: bytes) -> dict[str, icalendar.Event]:
    """The VEVENTs of a feed by UID, after a strict parse."""
    cal = icalendar.Calendar.from_ical(data)
    assert cal["VERSION"] == "2.0" and "PRODID" in cal
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_feed_has_one_event_per_open_dated_promise(client: TestClient, ids: dict[str, int]) -> None:
    response = client.get("/calendar.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    found = events(response.content)
    # Open or postponed with a due date: overdue, soon, timed, later, hostile (not kept/broken/vague).
    assert len(found) == 5
    assert all(uid.startswith("promise-") and uid.endswith("@versprochen") for uid in found)
    by_id = {int(uid.split("-")[1]): e for uid, e in found.items()}
    assert set(by_id) == {ids[k] for k in ("overdue", "soon", "timed", "later", "hostile")}
    soon, timed = by_id[ids["soon"]], by_id[ids["timed"]]
    # A date-only deadline is an all-day event; a clock time is a timed one.
    assert soon.decoded("DTSTART") == date(2026, 11, 27) and soon["DTSTART"].params["VALUE"] == "DATE"
    assert soon.decoded("DTEND") == date(2026, 11, 28)
    assert timed.decoded("DTSTART") == datetime(2026, 11, 26, 8, 0)
    for event in found.values():
        alarms = event.walk("VALARM")
        assert len(alarms) == 1
        assert alarms[0]["ACTION"] == "DISPLAY" and alarms[0].decoded("TRIGGER") == -timedelta(days=1)
    assert "Anna Kunde" in str(soon["SUMMARY"]) and "/promise/" in str(soon["DESCRIPTION"])


def test_uids_stay_stable_across_changes(client: TestClient, store: TrackerStore, ids: dict[str, int]) -> None:
    before = set(events(client.get("/calendar.ics").content))
    store.set_state(ids["soon"], "postponed", by="t", new_due="2026-12-03T10:00")
    after = events(client.get("/calendar.ics").content)
    assert set(after) == before
    moved = next(e for uid, e in after.items() if uid.startswith(f"promise-{ids['soon']}-"))
    assert moved.decoded("DTSTART") == datetime(2026, 12, 3, 10, 0)
    store.set_state(ids["soon"], "kept", by="t")
    assert set(events(client.get("/calendar.ics").content)) == before - {moved["UID"]}


def test_calendar_command_writes_file(db: tuple[Path, dict[str, int]], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "zusagen.ics"
    assert main(["calendar", "--db", str(db[0]), "-o", str(out)]) == 0
    assert len(events(out.read_bytes())) == 5
    assert "5 Termine" in capsys.readouterr().err
    assert main(["calendar", "--db", str(db[0]), "-o", str(out), "--customer", "bob@bau.de"]) == 0
    assert len(events(out.read_bytes())) == 2


def test_calendar_command_without_database_is_empty(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["calendar", "--db", str(tmp_path / "fehlt.sqlite3")]) == 0
    captured = capsysbinary.readouterr()
    assert events(captured.out) == {}
    assert "keine Datenbank" in captured.err.decode()

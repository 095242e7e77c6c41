"""iCalendar feed of open promises: one VEVENT with a reminder alarm per promise that has a due date."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from icalendar import Alarm, Calendar, Event

from server.tracker.dates import local_naive, parse_due
from server.tracker.matching import display_name
from server.tracker.models import ACTIVE_STATES, TrackedPromise

PRODID = "-//versprochen//Zusagen//DE"
ALARM_BEFORE = timedelta(days=1)
# A promise due at a clock time blocks this much time in the calendar.
TIMED_DURATION = timedelta(minutes=30)
SUMMARY_WIDTH = 80


def promise_uid(p: TrackedPromise) -> str:
    """A UID stable for the life of a promise (id plus its mail, so two databases rarely collide)."""
    digest = hashlib.sha256(p.message_id.encode()).hexdigest()[:12]
    return f"promise-{p.id}-{digest}@versprochen"


def _summary(p: TrackedPromise) -> str:
    customer = display_name(p.recipients[0]) if p.recipients else "Empfänger"
    quote = " ".join(p.quote.split())
    text = f"Zusage an {customer}: {quote}"
    return text if len(text) <= SUMMARY_WIDTH else text[: SUMMARY_WIDTH - 1] + "…"


def _description(p: TrackedPromise, base_url: str | None) -> str:
    lines = [f"„{p.quote}“", f"Mail: {p.subject}", f"An: {', '.join(p.recipients) or '–'}",
             f"Von: {p.sender}"]
    if p.deadline_text:
        lines.append(f"Frist laut Mail: {p.deadline_text}")
    if p.state == "postponed":
        lines.append("Verschoben auf dieses Datum.")
    if base_url:
        lines.append(f"{base_url.rstrip('/')}/promise/{p.id}")
    return "\n".join(lines)


def calendar_event(p: TrackedPromise, stamp: datetime, base_url: str | None = None) -> Event:
    """The VEVENT (with a DISPLAY alarm a day before) for one promise with a due date."""
    assert p.due is not None
    start = parse_due(p.due)
    event = Event()
    event.add("uid", promise_uid(p))
    event.add("dtstamp", stamp)
    event.add("last-modified", local_naive(p.updated).astimezone(UTC))
    event.add("summary", _summary(p))
    event.add("description", _description(p, base_url))
    if isinstance(start, datetime):
        # Floating local time: the tracker stores naive local wall time, like the mails it came from.
        event.add("dtstart", start)
        event.add("dtend", start + TIMED_DURATION)
    else:
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # an all-day deadline does not block the day
    event.add("status", "CONFIRMED")
    event.add("categories", ["Zusage"])
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -ALARM_BEFORE)
    alarm.add("description", f"Morgen fällig: {_summary(p)}")
    event.add_component(alarm)
    return event


def calendar_bytes(promises: Iterable[TrackedPromise], *, now: datetime | None = None,
                   base_url: str | None = None) -> bytes:
    """The whole VCALENDAR for the open (or postponed) promises that have a due date."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Offene Zusagen (versprochen)")
    for p in promises:
        if p.state in ACTIVE_STATES and p.due is not None:
            cal.add_component(calendar_event(p, stamp, base_url))
    return bytes(cal.to_ical())


def write_calendar(promises: Iterable[TrackedPromise], out: BinaryIO) -> int:
    """Write the feed to a binary stream (the `promises --ics` hook); returns the number of events."""
    items = [p for p in promises if p.state in ACTIVE_STATES and p.due is not None]
    out.write(calendar_bytes(items))
    return len(items)


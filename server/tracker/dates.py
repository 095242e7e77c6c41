"""Due dates as the tracker stores them (ISO date or date+time, local wall time) and their comparisons."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

DueBound = date | datetime | str

DURATION = re.compile(r"(\d+)\s*([dhms])", re.IGNORECASE)
UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
GERMAN_DATE = re.compile(
    r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?(?:[ ,]+(?:um\s+)?(\d{1,2})[:.](\d{2})(?:\s*Uhr)?)?\s*$"
)


def local_naive(moment: datetime) -> datetime:
    """The moment as naive local wall time: the engine's due dates are naive local times too."""
    if moment.tzinfo is not None:
        return moment.astimezone().replace(tzinfo=None)
    return moment


def now_local() -> datetime:
    """The current local wall time, to the second."""
    return datetime.now().replace(microsecond=0)


def iso_time(moment: datetime) -> str:
    """A timestamp as stored: naive local ISO text, to the second."""
    return local_naive(moment).replace(microsecond=0).isoformat(timespec="seconds")


def parse_due(text: str) -> date | datetime:
    """A stored or typed ISO due date (`2026-11-27` or `2026-11-27T14:00`); ValueError in German otherwise."""
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return local_naive(datetime.fromisoformat(value)).replace(second=0, microsecond=0)
    except ValueError:
        raise ValueError(f"Ungültiges Datum: „{text}“ (erwartet z. B. 2026-11-27 oder 27.11.2026)") from None


def normalize_due(value: DueBound) -> str:
    """The canonical ISO text of a due date: `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM` when it has a time."""
    parsed = parse_due(value) if isinstance(value, str) else value
    if isinstance(parsed, datetime):
        return local_naive(parsed).strftime("%Y-%m-%dT%H:%M")
    return parsed.isoformat()


def parse_user_date(text: str, today: date | None = None) -> str:
    """A date typed by a user (ISO, `27.11.2026`, `27.11.`, `27.11.2026 14:00`) as canonical ISO text.

    A German date without a year means its next occurrence (today counts), as in the mails themselves.
    """
    match = GERMAN_DATE.match(text)
    if not match:
        return normalize_due(text)
    day, month, year, hour, minute = match.groups()
    today = today or date.today()
    try:
        if year is None:
            found = date(today.year, int(month), int(day))
            if found < today:
                found = date(today.year + 1, int(month), int(day))
        else:
            found = date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))
        if hour is not None:
            return normalize_due(datetime.combine(found, time(int(hour), int(minute or 0))))
    except ValueError:
        raise ValueError(f"Ungültiges Datum: „{text}“") from None
    return found.isoformat()


def due_day(due: str) -> date:
    """The calendar day a due date falls on."""
    parsed = parse_due(due)
    return parsed.date() if isinstance(parsed, datetime) else parsed


def due_day_text(bound: DueBound, *, days: int = 0) -> str:
    """The ISO day of a bound, moved by `days`: `p.due >= '2026-11-27'` narrows a query by day."""
    parsed = parse_due(bound) if isinstance(bound, str) else bound
    day = parsed.date() if isinstance(parsed, datetime) else parsed
    return (day + timedelta(days=days)).isoformat()


def deadline_start(due: str) -> datetime:
    """The moment a deadline refers to: its time, or the start of its day when only a date was named."""
    parsed = parse_due(due)
    return parsed if isinstance(parsed, datetime) else datetime.combine(parsed, time())


def deadline_end(due: str) -> datetime:
    """The first moment the promise is late: its time, or the end of its day when only a date was named."""
    parsed = parse_due(due)
    if isinstance(parsed, datetime):
        return parsed
    return datetime.combine(parsed + timedelta(days=1), time())


def is_overdue(due: str | None, now: datetime) -> bool:
    """True when a due date has passed (a date-only deadline lasts until the end of its day)."""
    return due is not None and local_naive(now) >= deadline_end(due)


def due_in_range(due: str | None, lo: DueBound | None, hi: DueBound | None) -> bool:
    """True when `due` lies within [lo, hi]; a bound or due given as a bare date compares by day."""
    if due is None:
        return lo is None and hi is None
    parsed = parse_due(due)
    for bound, sign in ((lo, 1), (hi, -1)):
        if bound is None:
            continue
        b = parse_due(bound) if isinstance(bound, str) else bound
        if isinstance(b, datetime) and isinstance(parsed, datetime):
            left: date | datetime = parsed
            right: date | datetime = local_naive(b)
        else:
            left = parsed.date() if isinstance(parsed, datetime) else parsed
            right = b.date() if isinstance(b, datetime) else b
        if (left < right) if sign == 1 else (left > right):
            return False
    return True


def format_due(due: str | None) -> str:
    """A due date for German tables: `27.11.2026` or `27.11.2026 14:00`; an en dash for none."""
    if due is None:
        return "–"
    parsed = parse_due(due)
    if isinstance(parsed, datetime):
        return parsed.strftime("%d.%m.%Y %H:%M")
    return parsed.strftime("%d.%m.%Y")


def parse_duration(text: str) -> timedelta:
    """`24h`, `90m`, `2d`, `1h30m` as a timedelta; ValueError with a German message otherwise."""
    value = text.strip()
    parts = DURATION.findall(value)
    if not parts or DURATION.sub("", value).strip():
        raise ValueError(f"Ungültige Dauer „{text}“ (z. B. 24h, 90m, 2d)")
    return timedelta(seconds=sum(int(n) * UNIT_SECONDS[u.lower()] for n, u in parts))

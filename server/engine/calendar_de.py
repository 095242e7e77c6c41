"""German calendar arithmetic for deadlines: public holidays, working days, months, next occurrences."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache

DAY_NAMES = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
# A date named without a year this recently in the past is a reference ("Ihre Mail vom 20.11."),
# not a deadline a year ahead.
PAST_WINDOW_DAYS = 92


def safe_date(make: Callable[[int], date], year: int) -> date | None:
    """`make(year)`, or None when that day does not exist (31.11., KW 53 of a 52-week year)."""
    try:
        return make(year)
    except ValueError:
        return None


def upcoming(today: date, make: Callable[[int], date], window: int = PAST_WINDOW_DAYS) -> date | None:
    """The next occurrence of a day named without a year; None for an invalid or a recently past one."""
    for year in range(today.year, today.year + 5):
        day = safe_date(make, year)
        if day is None:
            continue
        if day >= today:
            return day
        if (today - day).days <= window:
            return None
    return None


def last_day(d: date) -> int:
    """The number of days in d's month."""
    return calendar.monthrange(d.year, d.month)[1]


def add_months(d: date, n: int) -> date:
    """The same day n months later, clamped to the month's end (31.1. + 1 → 28./29.2.)."""
    y, m = divmod(d.month - 1 + n, 12)
    first = date(d.year + y, m + 1, 1)
    return first.replace(day=min(d.day, last_day(first)))


def monday_of(d: date) -> date:
    """The Monday of d's ISO week."""
    return d - timedelta(days=d.weekday())


def next_weekday(today: date, wd: int) -> date:
    """The next day with weekday `wd` after today (today's weekday gives next week's)."""
    return today + timedelta(days=(wd - today.weekday() - 1) % 7 + 1)


def in_year(year: int, pos: str) -> date:
    """Anfang (5.1.), Mitte (30.6.) or Ende (31.12.) of a year."""
    if pos in ("anfang", "beginn"):
        return date(year, 1, 5)
    return date(year, 6, 30) if pos == "mitte" else date(year, 12, 31)


def in_quarter(year: int, q: int, pos: str) -> date:
    """Anfang (5th of its first month), Mitte (15th of its middle month) or Ende of quarter q."""
    if pos in ("anfang", "beginn"):
        return date(year, 3 * q - 2, 5)
    if pos == "mitte":
        return date(year, 3 * q - 1, 15)
    end = date(year, 3 * q, 1)
    return end.replace(day=last_day(end))


def easter(year: int) -> date:
    """Easter Sunday (Gregorian computus, Meeus/Jones/Butcher)."""
    a, (b, c) = year % 19, divmod(year, 100)
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    r = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * r) // 451
    month, day = divmod(h + r - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=32)
def holidays(year: int) -> frozenset[date]:
    """Nationwide German public holidays (regional ones differ by state and are left out)."""
    sunday = easter(year)
    fixed = {date(year, m, d) for m, d in ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26))}
    # Karfreitag, Ostermontag, Christi Himmelfahrt, Pfingstmontag
    return frozenset(fixed | {sunday + timedelta(days=k) for k in (-2, 1, 39, 50)})


def is_workday(day: date) -> bool:
    """Monday to Friday and no nationwide German public holiday."""
    return day.weekday() < 5 and day not in holidays(day.year)


def add_workdays(day: date, n: int) -> date:
    """The n-th working day after `day`."""
    while n > 0:
        day += timedelta(days=1)
        n -= is_workday(day)
    return day


def workday_on_or_before(day: date) -> date:
    """`day` itself if it is a working day, else the last working day before it."""
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


def full_year(raw: str) -> int:
    """A year as written: "26" is 2026."""
    return int(raw) + (2000 if len(raw) == 2 else 0)


def day_month(today: date, day: str, month: str, year: str) -> date | None:
    """A date written as day, month and maybe year; without a year, its next occurrence (see `upcoming`)."""
    d, m = int(day or 0), int(month or 0)
    if year:
        return safe_date(lambda y: date(y, m, d), full_year(year))
    return upcoming(today, lambda y: date(y, m, d))


def add_duration(sent: datetime, n: float, unit: str) -> date | datetime:
    """`sent` plus n units ("stunden", "werktage", "wochen", ...): a datetime for hours and minutes, else a date."""
    now = sent.replace(second=0, microsecond=0)
    if unit.startswith("min"):
        return now + timedelta(minutes=n)
    if unit.startswith(("stund", "std")) or unit == "h":
        return now + timedelta(hours=n)
    if unit.startswith(("werk", "arbeit", "gesch")):
        return add_workdays(now.date(), int(n))
    if unit.startswith("tag"):
        return now.date() + timedelta(days=int(n))
    if unit.startswith("woche"):
        return now.date() + timedelta(days=int(7 * n))
    return add_months(now.date(), round(n * (1 if unit.startswith("monat") else 12)))


def holiday(name: str, year: int) -> date:
    """A holiday or season by its German name ("weihnachten", "ostern", "zwischen den jahren") in a year."""
    if name in ("ostern", "pfingsten"):
        return easter(year) + timedelta(days=0 if name == "ostern" else 49)
    month, day = {"weihnachten": (12, 24), "heiligabend": (12, 24), "heiligen abend": (12, 24),
                  "silvester": (12, 31), "neujahr": (1, 1), "nikolaus": (12, 6),
                  "zwischen den jahren": (12, 30)}[name]
    return date(year, month, day)


def compound_day(word: str, today: date) -> date:
    """The next day a compound names ("monatsende", "jahresanfang", "wochenmitte", "eod"), from today."""
    monday, quarter = monday_of(today), (today.month - 1) // 3 + 1
    last, friday = today.replace(day=last_day(today)), monday_of(today) + timedelta(days=4)
    table = {
        "wochenmitte": monday + timedelta(days=2), "wochenanfang": monday, "wochenbeginn": monday,
        "monatsende": last, "ultimo": last, "monatsletzten": last, "end of month": last, "end of the month": last,
        "monatsanfang": today.replace(day=5), "monatsbeginn": today.replace(day=5),
        "monatsmitte": today.replace(day=15), "monatsersten": today.replace(day=1),
        "jahresende": date(today.year, 12, 31), "jahreswechsel": date(today.year, 12, 31),
        "jahresanfang": date(today.year, 1, 5), "jahresbeginn": date(today.year, 1, 5),
        "jahresmitte": date(today.year, 6, 30), "eow": friday, "end of week": friday, "end of the week": friday,
        "this week": friday, "next week": friday + timedelta(days=7),
        "quartalsende": in_quarter(today.year, quarter, "ende"),
        "quartalsanfang": in_quarter(today.year, quarter, "anfang"),
        "quartalsbeginn": in_quarter(today.year, quarter, "anfang"),
    }
    day = table.get(word, today)  # the rest names the end of today: Feierabend, EOD, Dienstschluss
    if day >= today:
        return day
    if word.startswith("quartals"):
        return add_months(day, 3)
    return add_months(day, 1 if word.startswith("monat") else 12) if word.startswith(("monat", "jahr")) else \
        day + timedelta(days=7)

"""Deadline anchors resolved to dates: one handler per kind of phrase ("bis Freitag", "KW 49", "in zwei Wochen")."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.engine.calendar_de import (
    add_duration,
    add_months,
    add_workdays,
    compound_day,
    day_month,
    full_year,
    holiday,
    in_quarter,
    in_year,
    last_day,
    monday_of,
    next_weekday,
    safe_date,
    upcoming,
)
from server.engine.deadline_patterns import (
    APPOS,
    AT_CLOCK,
    CONTINUATIONS,
    DAYPART,
    EVENT_AFTER,
    IN_WEEK,
    LATER,
    MOD,
    MONTHS,
    MORGEN_NOUN,
    NEXT_WORD,
    NOT_CLOCK,
    OR_DAY,
    SOFORT_EVENT,
    STILL_NOT,
    TAIL,
    WD_RANGE,
    WEEK_OF,
    WEEKDAY_ABBR,
    WEEKDAYS,
    clock_time,
    number_value,
)

Due = date | datetime


@dataclass(slots=True)
class Core:
    """What one anchor resolved to before the shared context checks."""

    end: int
    due: Due | None
    relative: bool = False  # counted from the sent time, so it may hang on an event instead
    service: bool = False  # may describe general service times ("täglich bis 18 Uhr"): checked by context
    event: bool = False
    ambiguous: bool = False
    keep: bool = True  # False: the span is no deadline but must not be read as one piece by piece


@dataclass(slots=True)
class Ctx:
    """One anchor match with its text (and the lowercased twin most patterns run on), sent time, prefix."""

    text: str
    low: str
    m: re.Match[str]
    sent: datetime
    prep: str
    start: int

    @property
    def today(self) -> date:
        """The sent day."""
        return self.sent.date()

    def g(self, name: str) -> str:
        """A group of the anchor match, lowercased, "" when it did not take part."""
        return (self.m.group(name) or "").lower()


# --- one handler per anchor ---------------------------------------------------------------------------

def _h_window(c: Ctx) -> Core:
    return Core(c.m.end(), None, keep=False)  # a time window without a day: service hours, not a deadline


def _h_dur(c: Ctx) -> Core | None:
    event = EVENT_AFTER.match(c.text, c.m.end())
    if event:
        return Core(event.end(), None, relative=True, service=True, event=True)
    if not c.m.group("dp"):
        return None  # "3 Tage" without "in"/"innerhalb": a length, not a deadline
    n = number_value(c.m.group("dn")) * (0.5 if c.m.group("half") else 1)
    return Core(c.m.end(), add_duration(c.sent, n, c.g("du")), relative=True, service=True)


def _h_date(c: Ctx) -> Core:
    return _date_core(c, day_month(c.today, c.g("dd"), c.g("mm"), c.g("yy")), c.m.end())


def _h_datem(c: Ctx) -> Core:
    return _date_core(c, day_month(c.today, c.g("md"), str(MONTHS[c.g("mon").rstrip(".")]), c.g("my")), c.m.end())


def _h_dateb(c: Ctx) -> Core | None:
    if c.prep not in ("bis", "am", "zum", "ab", "für", "vor"):
        return None  # "2.1" without a deadline word is a version or an amount
    return _date_core(c, day_month(c.today, c.g("bd"), c.g("bm"), ""), c.m.end())


def _h_iso(c: Ctx) -> Core:
    return _date_core(c, safe_date(lambda y: date(y, int(c.g("im")), int(c.g("id"))), int(c.g("iy"))), c.m.end())


def _same_month_day(first: date, day: int) -> date | None:
    """The given day in the month of `first`, or None where the month has no such day."""
    try:
        return first.replace(day=day)
    except ValueError:
        return None


def _h_dayonly(c: Ctx) -> Core:
    n, today = int(c.g("do")), c.today
    months = (add_months(today.replace(day=1), k) for k in range(3))
    candidates = (_same_month_day(f, n) for f in months)
    day = next((d for d in candidates if d and d >= today), None)
    if day and c.m.group().lower().startswith("vor"):
        day -= timedelta(days=1)
    return Core(c.m.end(), None, keep=False) if day is None else _day_core(c, day, c.m.end())


def _date_core(c: Ctx, day: date | None, end: int) -> Core:
    if day is None:
        return Core(end, None, keep=False)
    if c.prep == "vor":
        day -= timedelta(days=1)
    return _day_core(c, day, end)


def _day_core(c: Ctx, day: date, end: int, part: str = "") -> Core:
    due, end = _day_tail(c.low, day, end, part)
    # "heute oder morgen", "Freitag, spätestens Montag": the later day counts
    if _continues(c.low, end) and (alt := OR_DAY.match(c.low, end)):
        rel = (alt.group("rel") or "").lower()
        other = c.today + timedelta(days=2 if rel == "übermorgen" else 1) if rel else \
            next_weekday(c.today, WEEKDAYS[alt.group("wd").lower()])
        later, end = _day_tail(c.low, other, alt.end(), "")
        due = later if _day(later) >= _day(due) else due
    return Core(end, due)


def _continues(low: str, end: int) -> bool:
    """Whether the word after `end` can extend a day phrase (see CONTINUATIONS)."""
    nxt = NEXT_WORD.match(low, end)
    return nxt is not None and (nxt.group(1) in CONTINUATIONS or nxt.group(1)[0].isdigit())


def _day(due: Due) -> date:
    return due.date() if isinstance(due, datetime) else due


def _apposition(c: Ctx, end: int) -> tuple[date | None, int] | None:
    """A date in apposition ("Dienstag, den 1.12.", "morgen (24.11.)"): the date and where it ends."""
    appos = APPOS.match(c.low, end) if _continues(c.low, end) else None
    if appos is None:
        return None
    g = {k: (v or "").lower() for k, v in appos.groupdict().items()}
    month = g["mm"] or str(MONTHS.get(g["mon"].rstrip("."), 0))
    return day_month(c.today, g["dd"] or g["md"], month, g["yy"] or g["my"]), appos.end()


def _day_tail(text: str, day: date, end: int, part: str) -> tuple[Due, int]:
    """Daypart, clock time or window, and "noch"/"EOD" after a day: "morgen früh um 8", "Freitag, 14 Uhr"."""
    due: Due = day
    for _ in range(4):
        if not _continues(text, end):
            break
        if (dp := DAYPART.match(text, end)) and not isinstance(due, datetime):
            part, end = dp.group("p").lower(), dp.end()
        elif (ck := AT_CLOCK.match(text, end)) and not isinstance(due, datetime):
            end = ck.end()
            if not ck.group("win"):  # a window ("zwischen 8 und 12 Uhr") keeps the date only
                due = datetime.combine(day, clock_time(ck, part))
        elif tail := TAIL.match(text, end):
            end = tail.end()
        else:
            break
    return due, end


# "bis 12 Uhr morgen": a day word after the clock time names its day.
DAY_AFTER_CLOCK = re.compile(r"\s+(heute|morgen|übermorgen)(?!\w)")
DAY_OFFSETS = {"heute": 0, "morgen": 1, "übermorgen": 2}


def _h_clock(c: Ctx) -> Core:
    at = datetime.combine(c.today, clock_time(c.m, ""))
    day = DAY_AFTER_CLOCK.match(c.low, c.m.end())
    if day is not None:
        return Core(day.end(), at + timedelta(days=DAY_OFFSETS[day.group(1)]), service=True)
    return Core(c.m.end(), at if at >= c.sent else at + timedelta(days=1), service=True)


def _h_bare(c: Ctx) -> Core | None:
    h = int(c.m.group("bh"))
    if not 6 <= h <= 22 or NOT_CLOCK.match(c.low, c.m.end()) or \
            re.search(r"\d\s*$", c.text[max(0, c.m.start() - 4):c.m.start()]):
        return None  # "um 5 erhöht", "Punkte 1 bis 12"
    return _h_clock(c)


def _h_kw(c: Ctx) -> Core:
    week, year = int(c.g("kw") or c.g("kw2")), c.g("kwy") or c.g("kwy2")
    wd = {"anfang": 1, "mitte": 3}.get(c.g("kpos"), 5)

    def make(y: int) -> date:
        return date.fromisocalendar(y, week, wd)
    day = safe_date(make, full_year(year)) if year else upcoming(c.today, make)
    return Core(c.m.end(), None, keep=False) if day is None else _day_core(c, day, c.m.end())


def _h_quarter(c: Ctx) -> Core:
    q = int(c.g("q1") or {"ersten": 1, "zweiten": 2, "dritten": 3, "vierten": 4}.get(c.g("q2"), 0)
            or c.g("q2").rstrip("."))

    def make(y: int) -> date:
        return in_quarter(y, q, c.g("qpos"))
    day = safe_date(make, full_year(c.g("qy"))) if c.g("qy") else upcoming(c.today, make)
    return Core(c.m.end(), None, keep=False) if day is None else _day_core(c, day, c.m.end())


def _h_period(c: Ctx) -> Core | None:
    pos, mods, per, today = c.g("ppos"), c.g("pmods"), c.g("per"), c.today
    k = 2 if "übernächst" in mods else 1 if re.search("nächst|kommend|folgend", mods) else 0
    if not pos and not re.search(MOD, mods):
        return None  # "pro Woche", "im Jahr": no particular one
    start = c.prep == "ab" and not pos  # "ab nächster Woche": from its first day
    if per == "woche":
        monday = monday_of(today) + timedelta(days=7 * k)
        # "nächste Woche Dienstag"
        if not pos and _continues(c.low, c.m.end()) and (wd := IN_WEEK.match(c.low, c.m.end())):
            return _day_core(c, monday + timedelta(days=WEEKDAYS[wd.group("wd").lower()]), wd.end())
        day = monday + timedelta(days=0 if start else {"anfang": 0, "beginn": 0, "mitte": 2}.get(pos, 4))
    elif per.startswith("monat"):
        first = add_months(today.replace(day=1), k)
        day = first if start else first.replace(day={"anfang": 5, "beginn": 5, "mitte": 15}.get(pos, last_day(first)))
    elif per.startswith("jahr"):
        day = date(today.year + k, 1, 1) if start else in_year(today.year + k, pos)
    else:
        qi = (today.month - 1) // 3 + k
        day = date(today.year + qi // 4, 3 * (qi % 4) + 1, 1) if start else in_quarter(today.year + qi // 4, qi % 4 + 1, pos)
    if start:
        day = max(day, today)  # "ab dieser Woche" said on a Wednesday: from today
    elif k == 0 and day < today:
        day = day + timedelta(days=7) if per == "woche" else _h_roll(day, per)
    return _day_core(c, day, c.m.end())


def _h_roll(day: date, per: str) -> date:
    """The same point of the next month/year/quarter ("Anfang des Monats" said on the 23rd)."""
    n = 1 if per.startswith("monat") else 12 if per.startswith("jahr") else 3
    return add_months(day, n)


def _h_monthp(c: Ctx) -> Core | None:
    pos, month = c.g("mpos").split(" ")[0], MONTHS[c.g("mname").rstrip(".")]
    if not pos and c.prep not in ("im", "in", "bis", "ab", "zum", "für", "vor", "gegen"):
        return None  # a bare month name ("Frau Mai", "der Dezember war ruhig")
    if not pos and c.prep in ("im", "in", "für", "gegen"):
        pos = "ende"  # "im Dezember": by its end
    days = {"anfang": 5, "beginn": 5, "mitte": 15}

    def make(y: int) -> date:
        first = date(y, month, 1)
        return first.replace(day=days.get(pos, last_day(first) if pos else 1))
    day = safe_date(make, int(c.g("myr"))) if c.g("myr") else upcoming(c.today, make)
    return _date_core(c, day, c.m.end()) if not pos else _day_core(c, day, c.m.end()) if day else \
        Core(c.m.end(), None, keep=False)


def _h_year(c: Ctx) -> Core:
    return _day_core(c, in_year(int(c.g("yr")), c.g("ypos")), c.m.end())


def _h_cmp(c: Ctx) -> Core | None:
    word, today, mod = re.sub(r"\s+", " ", c.g("cmp")), c.today, c.g("cmod")
    monday, k = monday_of(today), 7 if "übernächst" in mod else 0
    if word == "wochenende":
        if c.prep == "nach":
            return _day_core(c, monday + timedelta(days=7 + k), c.m.end())
        day = monday + timedelta(days=(5 if c.prep in ("am", "an") else 4) + k)
        return _day_core(c, day if day >= today else day + timedelta(days=7), c.m.end())
    if c.prep == "nach":
        return Core(c.m.end(), None, keep=False)
    day = compound_day(word, today)  # Monatsende, Jahresanfang, EOD, ...
    return _day_core(c, day, c.m.end())


def _h_hol(c: Ctx) -> Core | None:
    name = re.sub(r"\s+", " ", c.g("hol"))
    if not c.prep and name != "zwischen den jahren":
        return None  # "Frohe Weihnachten"
    def make(y: int) -> date:
        return holiday(name, y)
    day = safe_date(make, int(c.g("hy"))) if c.g("hy") else upcoming(c.today, make, window=0)
    if day is None:
        return Core(c.m.end(), None, keep=False)
    if c.prep == "vor":  # the last working day before it: Gründonnerstag before Easter, Friday before Whitsun
        day -= timedelta(days={"ostern": 3, "pfingsten": 2}.get(name, 1))
    return _day_core(c, day, c.m.end())


def _h_nextday(c: Ctx) -> Core:
    day = add_workdays(c.today, 1) if c.m.group("nd") else c.today + timedelta(days=1)
    core = _day_core(c, day, c.m.end())
    core.relative = core.service = True
    return core


def _h_adj(c: Ctx) -> Core:
    day = c.today + timedelta(days={"heutig": 0, "morgig": 1}.get(c.g("adj"), 2))
    return _day_core(c, day, c.m.end())


def _h_dpart(c: Ctx) -> Core | None:
    if c.prep not in ("bis", "gegen", "am", "im", "zum", "ab"):
        return None
    return _day_core(c, c.today, c.m.end(), c.m.group().split()[-1].lower())


def _h_wday(c: Ctx) -> Core | None:
    mod, wd, end = c.g("wmod"), WEEKDAYS[c.g("wd")], c.m.end()
    if mod.startswith(("letzt", "vergang", "vorig")):
        return Core(end, None, keep=False)
    if _continues(c.low, end) and (rng := WD_RANGE.match(c.low, end)):
        return Core(rng.end(), None, keep=False)  # "Montag bis Freitag": service days
    return _weekday_core(c, wd, mod, end, c.g("wdp"))


def _h_wabbr(c: Ctx) -> Core | None:
    return _weekday_core(c, WEEKDAY_ABBR[c.g("wab")], "", c.m.end(), "")


def _weekday_core(c: Ctx, wd: int, mod: str, end: int, part: str) -> Core:
    today = c.today
    day: date | None = next_weekday(today, wd)
    if appos := _apposition(c, end):  # "Dienstag, 1.12.": the date decides, the weekday must agree
        named, end = appos
        if named is None:
            return Core(end, None, keep=False)
        if named.weekday() != wd:
            return Core(end, None, ambiguous=True)
        day = named
    elif _continues(c.low, end) and (week := WEEK_OF.match(c.low, end)):
        k = 2 if "übernächst" in week.group("m").lower() else 0 if week.group("m").lower().startswith("dies") else 1
        day, end = monday_of(today) + timedelta(days=7 * k + wd), week.end()
    elif mod.startswith("übernächst"):
        day = next_weekday(today, wd) + timedelta(days=7)
    elif mod.startswith("nächst") and today.weekday() < wd:
        day = None  # "nächsten Dienstag" on a Monday: tomorrow or in eight days?
    elif mod.startswith("dies") and today.weekday() <= wd:
        day = today + timedelta(days=wd - today.weekday())
    if day is not None and _continues(c.low, end) and (later := LATER.match(c.low, end)):
        day, end = day + _later_days(later), later.end()
    if day is None:
        return Core(end, None, ambiguous=True)
    return _date_core(c, day, end) if not part else _day_core(c, day, end, part)


def _h_rel(c: Ctx) -> Core | None:
    w, end, today = c.g("rel"), c.m.end(), c.today
    if w == "morgen" and c.text[c.m.start()] == "M" and (
            c.prep in ("am", "zum", "den", "vom", "bis") or MORGEN_NOUN.search(c.low, max(0, c.start - 12), c.start)):
        return None  # "am Morgen", "den Morgen": the noun
    if w == "sofort":
        if event := EVENT_AFTER.match(c.text, end):
            return Core(event.end(), None, relative=True, service=True, event=True)
        return Core(end, today, relative=True, service=True, event=bool(SOFORT_EVENT.match(c.low, end)))
    if w in ("heute", "today") and c.prep == "bis" and STILL_NOT.match(c.low, end):
        return Core(end, None, keep=False)  # "bis heute nicht": until now
    day = today + timedelta(days=2 if w == "übermorgen" else 1 if w in ("morgen", "tomorrow", "tmrw") else 0)
    if _continues(c.low, end) and (later := LATER.match(c.low, end)):  # "heute in einer Woche"
        day += _later_days(later)
        end = later.end()
    elif appos := _apposition(c, end):  # "morgen, den 24.11."
        named, end = appos
        if named != day:
            return Core(end, None, ambiguous=named is not None, keep=named is not None)
    core = _day_core(c, day, end, "abend" if w == "tonight" else "")
    if isinstance(core.due, datetime) and core.due < c.sent:
        core.keep = False  # "heute um 9 Uhr" written at ten: the past
    return core


HANDLERS: dict[str, Callable[[Ctx], Core | None]] = {
    "WINDOW": _h_window, "DUR": _h_dur, "DATE": _h_date, "DATEM": _h_datem, "DATEB": _h_dateb, "ISO": _h_iso,
    "DAYONLY": _h_dayonly, "CLOCK": _h_clock, "BARE": _h_bare, "KW": _h_kw, "QUARTER": _h_quarter,
    "PERIOD": _h_period, "MONTHP": _h_monthp, "YEAR": _h_year, "CMP": _h_cmp, "HOL": _h_hol,
    "NEXTDAY": _h_nextday, "ADJ": _h_adj, "DPART": _h_dpart, "WDAY": _h_wday, "WABBR": _h_wabbr, "REL": _h_rel,
}


def _later_days(later: re.Match[str]) -> timedelta:
    """ "in zwei Wochen", "in 14 Tagen" after a day ("Freitag in zwei Wochen")."""
    return timedelta(days=round(number_value(later.group("n")) * (7 if "w" in later.group("u").lower() else 1)))

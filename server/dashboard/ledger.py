"""Data for the customer ledger (kept, open, broken promises) and the weekly team digest."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from server.dashboard.views import Row, make_row, sort_rows, week_start
from server.tracker.dates import deadline_end, deadline_start, is_overdue, local_naive
from server.tracker.matching import bare_address, display_name
from server.tracker.models import ACTIVE_STATES, TrackedPromise
from server.tracker.store import TrackerStore


@dataclass(frozen=True)
class LedgerEntry:
    """One promise as the customer sees it: what, when made, by when, and what became of it."""

    id: int
    quote: str
    subject: str
    made: datetime
    due: str | None
    deadline_text: str | None
    state: str
    settled: datetime | None  # when it was kept, broken or cancelled
    on_time: bool | None  # kept before its deadline ended (None: no deadline or not kept)
    overdue: bool  # still open and its deadline has passed
    postponed: int  # how often the deadline was moved (the original date lives on in `deadline_text`)
    note: str | None  # the note of the final change, if staff left one


@dataclass(frozen=True)
class Ledger:
    """Every promise made to one customer, grouped for an honest account."""

    customer: str
    customer_label: str
    customer_name: str  # display name for the greeting, "" when unknown
    generated: datetime
    kept: list[LedgerEntry] = field(default_factory=list)
    open: list[LedgerEntry] = field(default_factory=list)
    broken: list[LedgerEntry] = field(default_factory=list)
    cancelled: list[LedgerEntry] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)  # display names of the staff who made the promises

    @property
    def total(self) -> int:
        """How many promises the ledger lists."""
        return len(self.kept) + len(self.open) + len(self.broken) + len(self.cancelled)

    @property
    def kept_on_time(self) -> int:
        """Kept promises that were kept before their deadline ended."""
        return sum(1 for e in self.kept if e.on_time)


def _entry(store: TrackerStore, p: TrackedPromise, now: datetime) -> LedgerEntry:
    history = store.history(p.id)
    last = history[-1] if history else None
    settled = last.at if last is not None and p.state not in ACTIVE_STATES else None
    on_time = None
    if p.state == "kept" and p.due is not None and settled is not None:
        on_time = settled < deadline_end(p.due)
    return LedgerEntry(id=p.id, quote=p.quote, subject=p.subject, made=p.created, due=p.due,
                       deadline_text=p.deadline_text, state=p.state, settled=settled, on_time=on_time,
                       overdue=p.state in ACTIVE_STATES and is_overdue(p.due, now),
                       postponed=sum(c.new_state == "postponed" for c in history),
                       note=last.note if last is not None and settled is not None else None)


def build_ledger(store: TrackerStore, customer: str, now: datetime) -> Ledger:
    """The ledger of every promise made to `customer` (an address, or "@domain.de" for a whole company)."""
    wanted = customer.strip()
    promises = store.list(recipient=wanted)
    now = local_naive(now)
    label, name = wanted, ""
    target = bare_address(wanted)
    for p in promises:
        for r in p.recipients:
            if bare_address(r) == target:
                label, name = display_name(r), display_name(r) if display_name(r) != bare_address(r) else ""
                break
        if name:
            break
    groups: dict[str, list[LedgerEntry]] = {"kept": [], "open": [], "broken": [], "cancelled": []}
    owners: list[str] = []
    for p in promises:
        entry = _entry(store, p, now)
        groups["open" if p.state in ACTIVE_STATES else p.state].append(entry)
        owner = display_name(p.sender)
        if owner not in owners:
            owners.append(owner)
    # Open promises by due date (store order); settled ones newest first, as a customer reads them.
    for key in ("kept", "broken", "cancelled"):
        groups[key].sort(key=lambda e: e.settled or e.made, reverse=True)
    return Ledger(customer=wanted, customer_label=label, customer_name=name, generated=now, owners=owners,
                  **groups)


@dataclass(frozen=True)
class OwnerLine:
    """One line of the digest's per-person table."""

    owner: str
    active: int
    overdue: int
    kept: int
    broken: int


@dataclass(frozen=True)
class Digest:
    """The team's week: new, kept and broken promises, what is overdue and what comes next."""

    week_start: date
    week_end: date
    generated: datetime
    new: list[Row]
    kept: list[Row]
    broken: list[Row]
    overdue: list[Row]
    upcoming: list[Row]  # active, due within the seven days after `generated`
    owners: list[OwnerLine]

    @property
    def week(self) -> int:
        """The ISO week number."""
        return self.week_start.isocalendar().week


def build_digest(store: TrackerStore, day: date, now: datetime) -> Digest:
    """The digest for the ISO week containing `day`, with overdue and upcoming promises as of `now`."""
    now = local_naive(now)
    monday = week_start(day)
    sunday = monday + timedelta(days=6)
    rows = sort_rows(make_row(p, now) for p in store.list())

    def in_week(moment: datetime) -> bool:
        return monday <= moment.date() <= sunday

    horizon = now + timedelta(days=7)
    upcoming = [r for r in rows if r.urgency in (1, 2) and r.promise.due is not None
                and deadline_start(r.promise.due) <= horizon]
    counts: dict[str, Counter[str]] = {}
    for r in rows:
        c = counts.setdefault(r.owner_label, Counter())
        c["active"] += r.active
        c["overdue"] += r.urgency == 0
        if in_week(r.promise.updated):
            c[r.promise.state] += 1
    owners = [OwnerLine(owner, c["active"], c["overdue"], c["kept"], c["broken"])
              for owner, c in sorted(counts.items(), key=lambda kv: (-kv[1]["overdue"], kv[0].casefold()))
              if any(c.values())]
    return Digest(
        week_start=monday, week_end=sunday, generated=now,
        new=[r for r in rows if in_week(r.promise.created)],
        kept=[r for r in rows if r.promise.state == "kept" and in_week(r.promise.updated)],
        broken=[r for r in rows if r.promise.state == "broken" and in_week(r.promise.updated)],
        overdue=[r for r in rows if r.urgency == 0], upcoming=upcoming, owners=owners)

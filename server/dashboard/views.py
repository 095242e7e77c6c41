"""Read models for the dashboard: listed promises with urgency, filters, counts and kept/broken outcomes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from server.tracker.dates import deadline_start, is_overdue, local_naive, parse_user_date
from server.tracker.matching import bare_address, display_name
from server.tracker.models import ACTIVE_STATES, STATE_LABELS, STATES, TrackedPromise
from server.tracker.store import TrackerStore

# A promise whose deadline starts within this window counts as "bald fällig" and is listed right after
# the overdue ones.
DUE_SOON = timedelta(days=2)
URGENCY_LABELS = ("überfällig", "bald fällig", "offen", "offen, ohne Datum", "erledigt")
MAX_TEXT_FILTER = 200


@dataclass(frozen=True)
class Row:
    """One promise as the dashboard lists it: who, to whom, how urgent."""

    promise: TrackedPromise
    urgency: int  # index into URGENCY_LABELS: 0 overdue … 4 closed
    status: str  # German status text shown in the table
    owner: str  # bare address of the sender
    owner_label: str
    customer: str  # bare address of the first recipient ("" when none)
    customer_label: str

    @property
    def active(self) -> bool:
        """True while the promise can still be kept, broken, postponed or cancelled."""
        return self.promise.state in ACTIVE_STATES


@dataclass(frozen=True)
class Filters:
    """What the user narrowed the list to; empty strings mean no filter."""

    state: str = ""
    owner: str = ""
    customer: str = ""
    due_from: str = ""
    due_to: str = ""
    text: str = ""

    def query(self) -> dict[str, str]:
        """The non-empty filters as query parameters."""
        return {k: v for k, v in vars(self).items() if v}


def urgency(p: TrackedPromise, now: datetime) -> int:
    """0 overdue, 1 due soon, 2 active with a later date, 3 active without a date, 4 closed."""
    if p.state not in ACTIVE_STATES:
        return 4
    if p.due is None:
        return 3
    if is_overdue(p.due, now):
        return 0
    return 1 if deadline_start(p.due) <= local_naive(now) + DUE_SOON else 2


@lru_cache(maxsize=8192)
def address_label(value: str) -> tuple[str, str]:
    """(bare address, display label) of `Name <a@b.de>`; cached because parseaddr dominates listing time."""
    return bare_address(value), display_name(value)


def customer_of(p: TrackedPromise) -> tuple[str, str]:
    """(bare address, label) of the customer a promise was made to: its first recipient."""
    if not p.recipients:
        return "", "–"
    return address_label(p.recipients[0])


def make_row(p: TrackedPromise, now: datetime) -> Row:
    """The listed form of a promise."""
    level = urgency(p, now)
    status = URGENCY_LABELS[0] if level == 0 else STATE_LABELS.get(p.state, p.state)
    if level == 1:
        status += ", bald fällig"
    customer, customer_label = customer_of(p)
    owner, owner_label = address_label(p.sender)
    return Row(promise=p, urgency=level, status=status, owner=owner, owner_label=owner_label,
               customer=customer, customer_label=customer_label)


def sort_rows(rows: Iterable[Row]) -> list[Row]:
    """Overdue first, then due soon, then by due date (undated last), closed promises at the end."""
    return sorted(rows, key=lambda r: (r.urgency, r.promise.due is None, r.promise.due or "", r.promise.id))


def parse_filters(params: Mapping[str, str]) -> Filters:
    """Filters from query parameters; a bad state or date is a ValueError with a German message."""
    def get(key: str) -> str:
        return (params.get(key) or "").strip()[:MAX_TEXT_FILTER]

    state = get("state")
    if state and state not in STATES and state != "active":
        raise ValueError(f"Unbekannter Status „{state}“")
    due_from, due_to = get("due_from"), get("due_to")
    # Normalised now so the store and the form see the same value; raises on nonsense.
    due_from = parse_user_date(due_from) if due_from else ""
    due_to = parse_user_date(due_to) if due_to else ""
    return Filters(state=state, owner=get("owner"), customer=get("customer"), due_from=due_from,
                   due_to=due_to, text=get("text"))


def _states(filters: Filters) -> tuple[str, ...] | None:
    if filters.state == "active":
        return ACTIVE_STATES
    return (filters.state,) if filters.state else None


def select_rows(store: TrackerStore, filters: Filters, now: datetime,
                everything: list[Row] | None = None) -> list[Row]:
    """The promises matching the filters, most urgent first.

    `everything` (all rows, already made) saves building rows twice when the page also shows totals.
    """
    if everything is not None and filters == Filters():
        return everything
    found = store.list(state=_states(filters), owner=filters.owner or None, recipient=filters.customer or None,
                       due_from=filters.due_from or None, due_to=filters.due_to or None)
    if filters.text:
        needle = filters.text.casefold()
        found = [p for p in found if needle in p.quote.casefold() or needle in p.subject.casefold()]
    if everything is not None:
        made = {r.promise.id: r for r in everything}
        return sort_rows(made.get(p.id) or make_row(p, now) for p in found)
    return sort_rows(make_row(p, now) for p in found)


@dataclass(frozen=True)
class Counts:
    """How many promises per state, per owner and per customer (with labels for the filter menus)."""

    states: list[tuple[str, str, int]]  # (state, label, count)
    owners: list[tuple[str, str, int]]  # (address, label, count of active promises)
    customers: list[tuple[str, str, int]]
    overdue: int
    due_soon: int


def count_rows(rows: list[Row]) -> Counts:
    """Counts over all listed promises; owners and customers by their active promises, busiest first."""
    states = Counter(r.promise.state for r in rows)
    owners: Counter[str] = Counter()
    customers: Counter[str] = Counter()
    owner_labels: dict[str, str] = {}
    customer_labels: dict[str, str] = {}
    for r in rows:
        owner_labels.setdefault(r.owner, r.owner_label)
        customer_labels.setdefault(r.customer, r.customer_label)
        owners[r.owner] += r.active
        customers[r.customer] += r.active
    def ranked(c: Counter[str], labels: dict[str, str]) -> list[tuple[str, str, int]]:
        return sorted(((k, labels[k], n) for k, n in c.items() if k), key=lambda t: (-t[2], t[1].casefold()))
    return Counts(states=[(s, STATE_LABELS[s], states[s]) for s in STATES],
                  owners=ranked(owners, owner_labels), customers=ranked(customers, customer_labels),
                  overdue=sum(r.urgency == 0 for r in rows), due_soon=sum(r.urgency == 1 for r in rows))


def week_start(day: date) -> date:
    """The Monday of the ISO week `day` falls in."""
    return day - timedelta(days=day.weekday())


def weekly_outcomes(promises: Iterable[TrackedPromise], today: date, weeks: int = 12) -> list[tuple[str, int, int]]:
    """(label "KW 48", kept, broken) for the last `weeks` ISO weeks, oldest first.

    Leaving kept or broken needs a reopen, which moves the promise out of these states, so a promise's
    `updated` stamp is the moment it (last) got there.
    """
    first = week_start(today) - timedelta(weeks=weeks - 1)
    kept: Counter[date] = Counter()
    broken: Counter[date] = Counter()
    for p in promises:
        monday = week_start(p.updated.date())
        if monday >= first and p.state in ("kept", "broken"):
            (kept if p.state == "kept" else broken)[monday] += 1
    out = []
    for i in range(weeks):
        monday = first + timedelta(weeks=i)
        out.append((f"KW {monday.isocalendar().week}", kept[monday], broken[monday]))
    return out


def customer_outcomes(promises: Iterable[TrackedPromise], limit: int = 10) -> list[tuple[str, int, int]]:
    """(customer label, kept, broken) for the customers with the most settled promises."""
    kept: Counter[str] = Counter()
    broken: Counter[str] = Counter()
    labels: dict[str, str] = {}
    for p in promises:
        if p.state not in ("kept", "broken"):
            continue
        address, label = customer_of(p)
        labels.setdefault(address, label)
        (kept if p.state == "kept" else broken)[address] += 1
    ranked = sorted(labels, key=lambda a: (-(kept[a] + broken[a]), labels[a].casefold()))[:limit]
    return [(labels[a], kept[a], broken[a]) for a in ranked]

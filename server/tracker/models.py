"""Tracker value types, states and errors (re-exported by `server.tracker.store`)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from server.tracker.dates import iso_time

if TYPE_CHECKING:
    from server.engine.types import Analysis

STATES = ("open", "kept", "broken", "postponed", "cancelled")
# Promises still waiting to be kept: reminders, `due`/`overdue` and the language server look at these.
ACTIVE_STATES = ("open", "postponed")
# Settled promises can be reopened (kept detection can be wrong, people mis-click); a postponed promise is
# still active, so there is nothing to reopen.
REOPENABLE = ("kept", "broken", "cancelled")
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"kept", "broken", "postponed", "cancelled"}),
    "postponed": frozenset({"kept", "broken", "postponed", "cancelled"}),
    "kept": frozenset({"open"}),
    "broken": frozenset({"open"}),
    "cancelled": frozenset({"open"}),
}
STATE_LABELS = {
    "open": "offen", "kept": "gehalten", "broken": "gebrochen", "postponed": "verschoben",
    "cancelled": "abgesagt",
}
AUTO = "auto"


class TrackerError(Exception):
    """Base of every tracker failure; the message is German and meant for users."""


class TrackerUnavailable(TrackerError):
    """The database is unusable right now (locked, disk full, I/O error, read-only): the proxy answers 4xx."""


class SchemaError(TrackerError):
    """The file is not a tracker database, or it was written by a newer version of versprochen."""


class PromiseNotFound(TrackerError, LookupError):
    """No promise has the given id."""


class InvalidTransition(TrackerError, ValueError):
    """A state change the state machine does not allow, or a bad new due date."""


@dataclass(frozen=True)
class SentMail:
    """One outgoing mail the upstream accepted."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    sent: datetime
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrackedPromise:
    """A promise as stored, with the mail it was made in and its current state."""

    id: int
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    quote: str
    kind: str
    risk: str
    deadline_text: str | None
    due: str | None  # ISO date or date+time
    vague: bool
    object: str | None
    state: str  # open|kept|broken|postponed|cancelled
    created: datetime
    updated: datetime


@dataclass(frozen=True)
class StateChange:
    """One entry of a promise's history: who changed it, when, why and on what evidence."""

    promise_id: int
    old_state: str | None
    new_state: str
    by: str
    at: datetime
    evidence: str | None
    note: str | None
    new_due: str | None


def promise_from_row(row: sqlite3.Row) -> TrackedPromise:
    """A promise from a row of promises joined with its mail."""
    return TrackedPromise(
        id=row["id"], message_id=row["message_id"], sender=row["sender"],
        recipients=tuple(json.loads(row["recipients"])), subject=row["subject"], quote=row["quote"],
        kind=row["kind"], risk=row["risk"], deadline_text=row["deadline_text"], due=row["due"],
        vague=bool(row["vague"]), object=row["object"], state=row["state"],
        created=datetime.fromisoformat(row["created"]), updated=datetime.fromisoformat(row["updated"]),
    )


def due_sort_key(p: TrackedPromise) -> tuple[int, str, int]:
    """Sort by due date, undated promises last, then by id."""
    return (p.due is None, p.due or "", p.id)


def check_states(state: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """The wanted states as a tuple (None for all); an unknown state is an InvalidTransition."""
    if state is None:
        return None
    wanted = (state,) if isinstance(state, str) else tuple(state)
    for s in wanted:
        if s not in STATES:
            raise InvalidTransition(f"Unbekannter Status „{s}“ (erlaubt: {', '.join(STATES)})")
    return wanted


def refusal(promise_id: int, old: str, new: str) -> str:
    """The German message refusing a change from `old` to `new` that TRANSITIONS does not allow."""
    if new == "open":
        reopenable = "nur eine gehaltene, gebrochene oder abgesagte Zusage lässt sich wieder öffnen"
        if old == "open":
            return f"Zusage {promise_id} ist bereits offen; {reopenable}"
        return f"Zusage {promise_id} ist {STATE_LABELS[old]} und damit noch offen; {reopenable}"
    return f"Zusage {promise_id} ist {STATE_LABELS[old]} und kann nicht „{STATE_LABELS[new]}“ werden"


def synthetic_message_id(mail: SentMail, analysis: Analysis) -> str:
    """A stable stand-in for a missing Message-ID, so a retried mail still records its promises once."""
    parts = [mail.sender, *mail.recipients, mail.subject, iso_time(mail.sent),
             *(p.text for p in analysis.promises)]
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
    return f"<{digest}@versprochen.invalid>"

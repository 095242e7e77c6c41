"""Reminders before a promise's deadline: planning, pending→sent bookkeeping, rendering and SMTP sending."""

from __future__ import annotations

import re
import smtplib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import TYPE_CHECKING

from server.tracker.dates import (
    deadline_end,
    deadline_start,
    due_day,
    iso_time,
    local_naive,
    parse_duration,
)
from server.tracker.matching import display_name
from server.tracker.models import ACTIVE_STATES, TrackedPromise
from server.tracker.store import TrackerStore

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "PlannedReminder", "ReminderResult", "Sender", "kinds_due", "parse_duration", "plan_reminders",
    "run_reminder_cycle", "smtp_sender",
]

Sender = Callable[[EmailMessage], None]
DEFAULT_FROM = "versprochen@localhost"
DEFAULT_LEAD = timedelta(hours=24)
# A pending row older than this belongs to a cycle that died mid-send: report it, never resend it.
STALE_AFTER = timedelta(minutes=10)
# Business days between the old deadline (or today, when later) and the date the draft proposes.
POSTPONE_BY_BUSINESS_DAYS = 3
KIND_ORDER = ("due", "lead")


@dataclass(frozen=True)
class PlannedReminder:
    """A reminder that is due now: which promise, which kind (`lead` or `due`), and the rendered mail."""

    promise: TrackedPromise
    kind: str
    due: str
    message: EmailMessage
    # Earlier kinds this one supersedes (their moment passed unsent); recorded as skipped when it is sent.
    supersedes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderResult:
    """What a cycle did with one reminder: sent, failed (retried next cycle), uncertain, or skipped."""

    promise_id: int
    kind: str
    due: str
    recipient: str
    status: str
    error: str | None = None
    message_id: str | None = None


def add_business_days(start: date, days: int) -> date:
    """The date `days` working days (Monday to Friday) after `start`."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def propose_new_date(due: str, now: datetime) -> date:
    """The new date the postponement draft proposes: a few working days after the deadline or today."""
    return add_business_days(max(due_day(due), local_naive(now).date()), POSTPONE_BY_BUSINESS_DAYS)


def kinds_due(promise: TrackedPromise, now: datetime, lead: timedelta) -> list[str]:
    """Reminder kinds whose moment has come for this promise, latest moment first.

    `lead`: `lead` before the deadline; `due`: the start of the due day. None once the deadline has passed,
    and none whose moment lay before the promise (or its postponement) was recorded.
    """
    if promise.due is None or promise.state not in ACTIVE_STATES:
        return []
    now = local_naive(now)
    if now >= deadline_end(promise.due):
        return []
    moments = {"due": datetime.combine(due_day(promise.due), time()),
               "lead": deadline_start(promise.due) - lead}
    ready = [k for k in KIND_ORDER if promise.updated <= moments[k] <= now]
    return sorted(ready, key=lambda k: moments[k], reverse=True)


def _customer(promise: TrackedPromise) -> tuple[str, str]:
    """(label for the customer, name for the greeting or "")."""
    if not promise.recipients:
        return "den Empfänger", ""
    first = promise.recipients[0]
    name, _addr = parseaddr(first)
    label = display_name(first)
    if len(promise.recipients) > 1:
        label += " u. a."
    return label, name.strip()


def render_reminder(env: jinja2.Environment, promise: TrackedPromise, kind: str, now: datetime,
                    from_address: str) -> EmailMessage:
    """The reminder mail for one promise, with the postponement draft for the customer inside."""
    assert promise.due is not None
    customer, customer_name = _customer(promise)
    owner_name = parseaddr(promise.sender)[0].strip()
    subject = promise.subject.strip()
    reply = subject if re.match(r"(?i)(re|aw|antw):", subject) else f"Re: {subject}".strip()
    context = {
        "id": promise.id, "kind": kind, "quote": promise.quote, "subject": subject, "due": promise.due,
        "deadline_text": promise.deadline_text, "made": promise.created, "customer": customer,
        "customer_name": customer_name, "owner_name": owner_name, "reply_subject": reply,
        "new_date": propose_new_date(promise.due, now),
    }
    draft = env.get_template("postponement.txt.j2").render(context).strip("\n")
    text = env.get_template("reminder.txt.j2").render(context, draft=draft)
    first, _sep, body = text.partition("\n")
    if not first.startswith("Betreff:"):
        raise ValueError("reminder.txt.j2 muss mit einer Zeile „Betreff: …“ beginnen")
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = promise.sender
    message["Subject"] = first.removeprefix("Betreff:").strip()
    message["Date"] = format_datetime(local_naive(now).astimezone())
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("versprochen", domain=domain)
    # Auto-Submitted keeps vacation replies away; the X- header tells the proxy not to track this mail.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Versprochen-Reminder"] = f"{promise.id}; {kind}; {promise.due}"
    message.set_content(body.lstrip("\n"))
    return message


def _recorded(store: TrackerStore, since: date) -> set[tuple[int, str, str]]:
    """Reminders already handled for dues from `since` on (anything but failed, which is retried)."""
    rows = store.read("SELECT promise_id, kind, due FROM reminders WHERE status <> 'failed' AND due >= ?",
                      (since.isoformat(),))
    return {(r["promise_id"], r["kind"], r["due"]) for r in rows}


def plan_reminders(store: TrackerStore, now: datetime, lead: timedelta = DEFAULT_LEAD, *,
                   env: jinja2.Environment | None = None,
                   from_address: str = DEFAULT_FROM) -> list[PlannedReminder]:
    """The reminders a cycle at `now` would send (read-only: `--dry-run` prints these)."""
    if env is None:
        from templates import make_environment

        env = make_environment()
    now = local_naive(now)
    done = _recorded(store, now.date())
    planned: list[PlannedReminder] = []
    # Only promises due between today and the end of the lead window can have a reminder due now.
    for promise in store.list(state=ACTIVE_STATES, due_from=now.date(), due_to=(now + lead).date()):
        due = promise.due or ""
        kinds = [k for k in kinds_due(promise, now, lead) if (promise.id, k, due) not in done]
        if not kinds:
            continue
        message = render_reminder(env, promise, kinds[0], now, from_address)
        planned.append(PlannedReminder(promise, kinds[0], due, message, tuple(kinds[1:])))
    return planned


def _claim(conn: sqlite3.Connection, plan: PlannedReminder, at: str) -> bool:
    """Insert (or re-open a failed) pending row; False when another cycle has it or the promise changed."""
    row = conn.execute("SELECT state, due FROM promises WHERE id = ?", (plan.promise.id,)).fetchone()
    if row is None or row["state"] not in ACTIVE_STATES or row["due"] != plan.due:
        return False
    cur = conn.execute(
        """INSERT INTO reminders (promise_id, kind, due, status, recipient, created, updated, attempts)
           VALUES (?, ?, ?, 'pending', ?, ?, ?, 1)
           ON CONFLICT (promise_id, kind, due) DO UPDATE
           SET status = 'pending', attempts = attempts + 1, updated = excluded.updated, error = NULL
           WHERE reminders.status = 'failed'""",
        (plan.promise.id, plan.kind, plan.due, plan.promise.sender, at, at))
    if not cur.rowcount:
        return False
    for kind in plan.supersedes:
        conn.execute(
            """INSERT INTO reminders (promise_id, kind, due, status, recipient, created, updated)
               VALUES (?, ?, ?, 'skipped', ?, ?, ?)
               ON CONFLICT (promise_id, kind, due) DO UPDATE
               SET status = 'skipped', updated = excluded.updated WHERE reminders.status = 'failed'""",
            (plan.promise.id, kind, plan.due, plan.promise.sender, at, at))
    return True


def _flag_stale(store: TrackerStore, now: datetime) -> list[ReminderResult]:
    """Mark pending rows left by a crashed cycle as uncertain (maybe sent): reported once, never resent."""
    cutoff = iso_time(local_naive(now) - STALE_AFTER)
    with store.transaction() as conn:
        rows = conn.execute("SELECT * FROM reminders WHERE status = 'pending' AND updated < ?",
                            (cutoff,)).fetchall()
        conn.execute("UPDATE reminders SET status = 'uncertain', updated = ? "
                     "WHERE status = 'pending' AND updated < ?", (iso_time(now), cutoff))
    return [ReminderResult(r["promise_id"], r["kind"], r["due"], r["recipient"], "uncertain",
                           "Versand wurde begonnen, aber nicht bestätigt (Absturz?); nicht erneut gesendet")
            for r in rows]


def run_reminder_cycle(store: TrackerStore, now: datetime, lead: timedelta, send: Sender, *,
                       env: jinja2.Environment | None = None,
                       from_address: str = DEFAULT_FROM) -> list[ReminderResult]:
    """Send every reminder due at `now` once: claim a pending row, send, then mark it sent or failed.

    A failed send is retried by the next cycle; a crash between sending and marking leaves a pending row
    that a later cycle reports as uncertain instead of sending twice. `send` raises on failure.
    """
    results = _flag_stale(store, now)
    at = iso_time(now)
    for plan in plan_reminders(store, now, lead, env=env, from_address=from_address):
        with store.transaction() as conn:
            if not _claim(conn, plan, at):
                continue
        results.append(_send_claimed(store, plan, send, at))
        if results[-1].status == "sent":
            results += [ReminderResult(plan.promise.id, kind, plan.due, plan.promise.sender, "skipped")
                        for kind in plan.supersedes]
    return results


def _send_claimed(store: TrackerStore, plan: PlannedReminder, send: Sender, at: str) -> ReminderResult:
    """Send a claimed reminder and mark its row sent, or failed (to be retried) when sending raised."""
    where = (plan.promise.id, plan.kind, plan.due)
    try:
        send(plan.message)
    except Exception as exc:  # any transport failure: keep the row, retry next cycle
        error = f"{type(exc).__name__}: {exc}"
        with store.transaction() as conn:
            conn.execute("UPDATE reminders SET status = 'failed', error = ?, updated = ? "
                         "WHERE promise_id = ? AND kind = ? AND due = ?", (error, at, *where))
        return ReminderResult(*where, plan.promise.sender, "failed", error=error)
    message_id = str(plan.message["Message-ID"])
    with store.transaction() as conn:
        conn.execute("UPDATE reminders SET status = 'sent', reminder_message_id = ?, updated = ? "
                     "WHERE promise_id = ? AND kind = ? AND due = ?", (message_id, at, *where))
    return ReminderResult(*where, plan.promise.sender, "sent", message_id=message_id)


def smtp_sender(host: str, port: int, *, timeout: float = 30.0) -> Sender:
    """A `send` function that delivers each reminder through the upstream SMTP server."""
    def send(message: EmailMessage) -> None:
        """Deliver one message over a fresh connection; raises on any SMTP or network failure."""
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            smtp.send_message(message)

    return send

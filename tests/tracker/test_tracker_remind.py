"""Reminders: when they are due, never twice (also across restarts and crashes), and `versprochen remind`."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from server.cli import main
from server.tracker.models import TrackedPromise
from server.tracker.remind import (
    STALE_AFTER,
    add_business_days,
    kinds_due,
    parse_duration,
    plan_reminders,
    run_reminder_cycle,
)
from server.tracker.remind_command import parse_upstream
from server.tracker.store import TrackerStore
from templates import make_environment
from tests.tracker.tracker_factories import MONDAY, make_analysis, make_mail, make_promise

DAY = timedelta(hours=24)
THU_9 = datetime(2026, 11, 26, 9, 0)
FRI_8 = datetime(2026, 11, 27, 8, 0)
ENV = make_environment(use_config=False)


def tracked(due: str | None, *, state: str = "open", updated: datetime = MONDAY) -> TrackedPromise:
    """A stored promise made on Monday."""
    return TrackedPromise(
        id=1, message_id="<m@x>", sender="max@firma.de", recipients=("anna@kunde.de",), subject="Angebot",
        quote="Ich schicke Ihnen das Angebot.", kind="explicit", risk="medium", deadline_text="bis Freitag",
        due=due, vague=False, object="Angebot", state=state, created=MONDAY, updated=updated)


@pytest.mark.parametrize(("due", "lead", "now", "expected"), [
    ("2026-11-27", DAY, datetime(2026, 11, 25, 12, 0), []),
    ("2026-11-27", DAY, datetime(2026, 11, 26, 0, 0), ["lead"]),
    ("2026-11-27", DAY, datetime(2026, 11, 26, 15, 0), ["lead"]),
    ("2026-11-27", DAY, FRI_8, ["due", "lead"]),
    ("2026-11-27", DAY, datetime(2026, 11, 28, 0, 0), []),
    ("2026-11-27T14:00", timedelta(hours=1), datetime(2026, 11, 27, 13, 30), ["lead", "due"]),
    ("2026-11-27T14:00", timedelta(hours=1), datetime(2026, 11, 27, 9, 0), ["due"]),
    ("2026-11-27T14:00", timedelta(hours=1), datetime(2026, 11, 27, 14, 0), []),
    ("2026-11-27T14:00", DAY, datetime(2026, 11, 26, 14, 0), ["lead"]),
])
def test_kinds_due(due: str, lead: timedelta, now: datetime, expected: list[str]) -> None:
    assert kinds_due(tracked(due), now, lead) == expected


def test_no_reminder_for_a_moment_before_the_promise_was_made() -> None:
    late = tracked("2026-11-27", updated=datetime(2026, 11, 26, 15, 0))
    assert kinds_due(late, datetime(2026, 11, 26, 16, 0), DAY) == []
    assert kinds_due(late, datetime(2026, 11, 27, 0, 1), DAY) == ["due"]


@pytest.mark.parametrize("promise", [tracked(None), tracked("2026-11-27", state="kept"),
                                     tracked("2026-11-27", state="cancelled")])
def test_no_reminder_without_due_date_or_when_settled(promise: TrackedPromise) -> None:
    assert kinds_due(promise, FRI_8, DAY) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("24h", timedelta(hours=24)), ("90m", timedelta(minutes=90)), ("2d", timedelta(days=2)),
    ("1h30m", timedelta(minutes=90)), ("1d 12h", timedelta(hours=36)),
])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "24", "bald", "24x", "h"])
def test_parse_duration_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="Ungültige Dauer"):
        parse_duration(text)


def test_business_days_skip_weekends() -> None:
    assert add_business_days(date(2026, 11, 27), 3) == date(2026, 12, 2)  # Fri -> Wed


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:2525", ("127.0.0.1", 2525)), ("mail.firma.de", ("mail.firma.de", 25)),
    ("[::1]:587", ("::1", 587)),
])
def test_parse_upstream(text: str, expected: tuple[str, int]) -> None:
    assert parse_upstream(text) == expected


class Outbox:
    """A `send` function that collects messages and can fail on demand."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_with: BaseException | None = None
        self.fail_after_send = False
        self.lock = threading.Lock()

    def __call__(self, message: EmailMessage) -> None:
        if self.fail_with is not None and not self.fail_after_send:
            raise self.fail_with
        with self.lock:
            self.sent.append(message)
        if self.fail_with is not None:
            raise self.fail_with


def promise_for_friday(store: TrackerStore, message_id: str = "<p@firma.de>") -> int:
    text = "Ich schicke Ihnen bis Freitag das Angebot."
    promise = make_promise(text, obj="Angebot", due=date(2026, 11, 27))
    [pid] = store.record_mail(make_mail(message_id, sender="Max Muster <max@firma.de>"),
                              make_analysis("x", (promise,)))
    return pid


def cycle(store: TrackerStore, now: datetime, outbox: Outbox) -> list[tuple[str, str]]:
    return [(r.kind, r.status) for r in run_reminder_cycle(store, now, DAY, outbox, env=ENV)]


def test_lead_and_due_reminders_go_out_once_also_after_a_restart(store: TrackerStore, db_path: Path) -> None:
    outbox = Outbox()
    pid = promise_for_friday(store)
    assert cycle(store, datetime(2026, 11, 25, 23, 0), outbox) == []
    assert cycle(store, THU_9, outbox) == [("lead", "sent")]
    assert cycle(store, THU_9 + timedelta(hours=1), outbox) == []
    with TrackerStore(db_path) as restarted:
        assert cycle(restarted, THU_9 + timedelta(hours=2), outbox) == []
        assert cycle(restarted, FRI_8, outbox) == [("due", "sent")]
        assert cycle(restarted, FRI_8 + timedelta(hours=3), outbox) == []
    assert len(outbox.sent) == 2
    lead = outbox.sent[0]
    assert lead["To"] == "Max Muster <max@firma.de>"
    assert lead["X-Versprochen-Reminder"] == f"{pid}; lead; 2026-11-27"
    assert lead["Auto-Submitted"] == "auto-generated"
    assert "Erinnerung: Zusage an Anna Kunde" in str(lead["Subject"])
    body = lead.get_content()
    assert "„Ich schicke Ihnen bis Freitag das Angebot.“" in body
    assert "Guten Tag Anna Kunde," in body and "Mittwoch, 2. Dezember 2026" in body
    assert "heute läuft die Frist" in outbox.sent[1].get_content()
    rows = store.read("SELECT kind, status FROM reminders ORDER BY id")
    assert [tuple(r) for r in rows] == [("lead", "sent"), ("due", "sent")]


def test_missed_lead_reminder_is_skipped_not_sent_late(store: TrackerStore) -> None:
    outbox = Outbox()
    promise_for_friday(store)
    assert cycle(store, FRI_8, outbox) == [("due", "sent"), ("lead", "skipped")]
    assert cycle(store, FRI_8 + timedelta(hours=1), outbox) == []
    assert len(outbox.sent) == 1


def test_failed_send_is_retried_until_it_succeeds_once(store: TrackerStore) -> None:
    outbox = Outbox()
    promise_for_friday(store)
    outbox.fail_with = ConnectionRefusedError("upstream down")
    results = run_reminder_cycle(store, THU_9, DAY, outbox, env=ENV)
    assert [(r.status, r.error) for r in results] == [("failed", "ConnectionRefusedError: upstream down")]
    assert tuple(store.read("SELECT status, attempts FROM reminders")[0]) == ("failed", 1)
    outbox.fail_with = None
    assert cycle(store, THU_9 + timedelta(minutes=5), outbox) == [("lead", "sent")]
    assert cycle(store, THU_9 + timedelta(minutes=10), outbox) == []
    assert len(outbox.sent) == 1
    assert tuple(store.read("SELECT status, attempts FROM reminders")[0]) == ("sent", 2)


def test_crash_after_sending_is_reported_as_uncertain_never_resent(store: TrackerStore,
                                                                   db_path: Path) -> None:
    outbox = Outbox()
    promise_for_friday(store)
    outbox.fail_with, outbox.fail_after_send = KeyboardInterrupt(), True
    with pytest.raises(KeyboardInterrupt):
        run_reminder_cycle(store, THU_9, DAY, outbox, env=ENV)
    outbox.fail_with = None
    with TrackerStore(db_path) as restarted:
        assert cycle(restarted, THU_9 + timedelta(minutes=5), outbox) == []
        stale = THU_9 + STALE_AFTER + timedelta(minutes=1)
        results = run_reminder_cycle(restarted, stale, DAY, outbox, env=ENV)
        assert [(r.kind, r.status) for r in results] == [("lead", "uncertain")]
        assert results[0].error is not None and "nicht erneut gesendet" in results[0].error
        assert cycle(restarted, THU_9 + timedelta(hours=2), outbox) == []
    assert len(outbox.sent) == 1


def test_postponed_promise_is_reminded_for_its_new_date_and_kept_one_not_at_all(store: TrackerStore) -> None:
    outbox = Outbox()
    moved = promise_for_friday(store, "<a@x>")
    done = promise_for_friday(store, "<b@x>")
    assert [r for r in cycle(store, THU_9, outbox)] == [("lead", "sent"), ("lead", "sent")]
    store.set_state(moved, "postponed", by="max", new_due="2026-12-02")
    store.set_state(done, "kept", by="max")
    assert cycle(store, FRI_8, outbox) == []
    assert cycle(store, datetime(2026, 12, 1, 9, 0), outbox) == [("lead", "sent")]
    assert outbox.sent[-1]["X-Versprochen-Reminder"] == f"{moved}; lead; 2026-12-02"


def test_concurrent_cycles_send_each_reminder_once(store: TrackerStore, db_path: Path) -> None:
    outbox = Outbox()
    for n in range(20):
        promise_for_friday(store, f"<p{n}@x>")

    def slow_send(message: EmailMessage) -> None:
        time.sleep(0.002)
        outbox(message)

    def run_in(target: TrackerStore) -> None:
        run_reminder_cycle(target, THU_9, DAY, slow_send, env=ENV)

    other = TrackerStore(db_path)
    threads = [threading.Thread(target=run_in, args=(s,)) for s in (store, other, store)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    ids = sorted(str(m["X-Versprochen-Reminder"]) for m in outbox.sent)
    assert len(ids) == 20 and len(set(ids)) == 20


def test_plan_is_read_only(store: TrackerStore) -> None:
    promise_for_friday(store)
    planned = plan_reminders(store, THU_9, DAY, env=ENV, from_address="erinnerung@firma.de")
    assert [(p.kind, p.message["From"]) for p in planned] == [("lead", "erinnerung@firma.de")]
    assert store.read("SELECT count(*) FROM reminders")[0][0] == 0


# --- `versprochen remind` against a capturing upstream ---------------------------------------------------

class Capture:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def upstream() -> Iterator[tuple[int, Capture]]:
    """A capturing SMTP server on a free loopback port."""
    capture = Capture()
    port = free_port()
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, capture
    finally:
        controller.stop()


def remind(db: Path, port: int, now: datetime, *extra: str) -> int:
    return main(["remind", "--db", str(db), "--upstream", f"127.0.0.1:{port}", "--now", now.isoformat(),
                 "--from", "erinnerung@firma.de", *extra])


def test_remind_command_sends_through_upstream_once(store: TrackerStore, db_path: Path,
                                                    upstream: tuple[int, Capture],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    port, capture = upstream
    pid = promise_for_friday(store)
    assert remind(db_path, port, THU_9) == 0
    assert "gesendet: Erinnerung vor der Frist für Zusage" in capsys.readouterr().out
    assert remind(db_path, port, THU_9 + timedelta(hours=1)) == 0  # a new process: nothing again
    assert "Keine Erinnerungen fällig." in capsys.readouterr().out
    [envelope] = capture.messages
    assert envelope.mail_from == "erinnerung@firma.de" and envelope.rcpt_tos == ["max@firma.de"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert str(message["Subject"]).startswith("Erinnerung: Zusage an Anna Kunde – fällig Freitag")
    assert f"versprochen promises kept {pid}" in message.get_content()


def test_remind_dry_run_sends_and_records_nothing(store: TrackerStore, db_path: Path,
                                                  upstream: tuple[int, Capture],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    port, capture = upstream
    promise_for_friday(store)
    assert remind(db_path, port, FRI_8, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "=== Erinnerung am Fälligkeitstag an Max Muster <max@firma.de>" in out
    assert "heute läuft die Frist" in out and "1 Erinnerung(en) würden gesendet" in out
    assert capture.messages == []
    assert remind(db_path, port, FRI_8) == 0
    assert len(capture.messages) == 1


def test_remind_with_upstream_down_fails_then_recovers(store: TrackerStore, db_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    promise_for_friday(store)
    port = free_port()
    assert remind(db_path, port, THU_9) == 1
    assert "FEHLGESCHLAGEN" in capsys.readouterr().err
    capture = Capture()
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert remind(db_path, port, THU_9 + timedelta(minutes=5)) == 0
        assert remind(db_path, port, THU_9 + timedelta(minutes=10)) == 0
    finally:
        controller.stop()
    assert len(capture.messages) == 1


def test_remind_usage_errors(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remind", "--db", str(db_path), "--lead", "bald"]) == 2
    assert main(["remind", "--db", str(db_path), "--upstream", "host:port"]) == 2
    assert "Ungültig" in capsys.readouterr().err
    assert main(["remind", "--db", str(db_path), "--dry-run"]) == 0  # no database yet: nothing to do
    assert not db_path.exists()


"""Reopening a settled promise: the transition table, history, overdue again, and kept detection afterwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from server.tracker.dates import is_overdue
from server.tracker.remind import kinds_due
from server.tracker.store import (
    ACTIVE_STATES,
    REOPENABLE,
    STATES,
    TRANSITIONS,
    InvalidTransition,
    PromiseNotFound,
    TrackerStore,
)
from tests.tracker.tracker_factories import Clock, make_analysis, make_delivery, make_mail, make_promise

ANGEBOT = "Ich schicke Ihnen bis Freitag das Angebot."
FRIDAY = date(2026, 11, 27)
# Records a mail (Message-ID, sent) that kept detection recognises as keeping the offer promise.
Keeper = Callable[[TrackerStore, str, datetime], None]


def promise_angebot(store: TrackerStore, message_id: str = "<p@firma.de>") -> int:
    """Record Monday's promise to send the offer by Friday; its id."""
    promise = make_promise(ANGEBOT, obj="Angebot", due=FRIDAY)
    [pid] = store.record_mail(make_mail(message_id), make_analysis(ANGEBOT, (promise,)))
    return pid


def deliver(store: TrackerStore, message_id: str, sent: datetime) -> None:
    """Record a mail from the same sender to the same customer that delivers the offer."""
    store.record_mail(make_mail(message_id, sent=sent),
                      make_analysis("Anbei erhalten Sie das Angebot.", deliveries=(make_delivery("Angebot"),)))


def reply(store: TrackerStore, message_id: str, sent: datetime) -> None:
    """Record a colleague's "wie versprochen" reply in the promise's thread."""
    store.record_mail(make_mail(message_id, sender="eva@firma.de", sent=sent, in_reply_to="<p@firma.de>"),
                      make_analysis("Wie versprochen sende ich Ihnen die Zahlen."))


def put_in_state(store: TrackerStore, pid: int, state: str) -> None:
    """Bring a fresh open promise into `state`."""
    if state == "postponed":
        store.set_state(pid, "postponed", by="max", new_due="2026-12-02")
    elif state != "open":
        store.set_state(pid, state, by="max")


def state_of(store: TrackerStore, pid: int) -> str:
    found = store.get(pid)
    assert found is not None
    return found.state


def test_reopen_is_allowed_exactly_from_the_settled_states() -> None:
    assert REOPENABLE == ("kept", "broken", "cancelled")
    assert {s for s in STATES if "open" in TRANSITIONS[s]} == set(REOPENABLE)
    # A settled promise can only be reopened; changing its outcome directly stays refused.
    assert all(TRANSITIONS[s] == {"open"} for s in REOPENABLE)


@pytest.mark.parametrize("new", STATES)
@pytest.mark.parametrize("old", STATES)
def test_store_follows_the_transition_table(store: TrackerStore, old: str, new: str) -> None:
    pid = promise_angebot(store)
    put_in_state(store, pid, old)
    before = len(store.history(pid))
    kwargs = {"new_due": "2026-12-09"} if new == "postponed" else {}
    if new in TRANSITIONS[old]:
        assert store.set_state(pid, new, by="anna", **kwargs).state == new
        assert len(store.history(pid)) == before + 1
    else:
        with pytest.raises(InvalidTransition, match=f"Zusage {pid} ist"):
            store.set_state(pid, new, by="anna", **kwargs)
        assert state_of(store, pid) == old and len(store.history(pid)) == before


@pytest.mark.parametrize("settled", REOPENABLE)
def test_reopen_records_who_when_and_note_and_keeps_the_old_evidence(store: TrackerStore, clock: Clock,
                                                                      settled: str) -> None:
    pid = promise_angebot(store)
    clock.now = datetime(2026, 11, 24, 9, 0)
    store.set_state(pid, settled, by="max", evidence="<beleg@firma.de>", note="erledigt")
    clock.now = datetime(2026, 11, 24, 15, 30)
    reopened = store.reopen(pid, by=" anna ", note="Falsches Angebot erkannt")
    assert (reopened.state, reopened.updated, reopened.due) == ("open", clock.now, FRIDAY.isoformat())
    changes = store.history(pid)
    assert [(c.old_state, c.new_state, c.by) for c in changes] == [
        (None, "open", "auto"), ("open", settled, "max"), (settled, "open", "anna")]
    assert (changes[1].evidence, changes[1].note) == ("<beleg@firma.de>", "erledigt")
    assert (changes[2].evidence, changes[2].note, changes[2].at) == (None, "Falsches Angebot erkannt", clock.now)
    assert pid in [p.id for p in store.open_for_recipients(["anna@kunde.de"])]


@pytest.mark.parametrize(("state", "message"), [
    ("open", "ist bereits offen; nur eine gehaltene, gebrochene oder abgesagte Zusage lässt sich wieder öffnen"),
    ("postponed", "ist verschoben und damit noch offen; nur eine gehaltene"),
])
def test_reopening_an_active_promise_is_refused_in_german(store: TrackerStore, state: str, message: str) -> None:
    pid = promise_angebot(store)
    put_in_state(store, pid, state)
    before = store.history(pid)
    with pytest.raises(InvalidTransition, match=f"Zusage {pid} {message}"):
        store.reopen(pid, by="anna")
    assert state_of(store, pid) == state and store.history(pid) == before


def test_reopen_needs_a_name_and_an_existing_promise(store: TrackerStore) -> None:
    pid = promise_angebot(store)
    store.set_state(pid, "kept", by="max")
    with pytest.raises(InvalidTransition, match="Wer die Änderung macht"):
        store.reopen(pid, by="  ")
    with pytest.raises(PromiseNotFound, match="Keine Zusage mit der Nummer 99"):
        store.reopen(99, by="anna")
    assert state_of(store, pid) == "kept"


def test_reopened_promise_past_its_deadline_is_overdue_again(store: TrackerStore, clock: Clock) -> None:
    pid = promise_angebot(store)
    clock.now = datetime(2026, 11, 26, 12, 0)
    store.set_state(pid, "kept", by="max")
    clock.now = datetime(2026, 11, 30, 9, 0)
    reopened = store.reopen(pid, by="anna")
    assert reopened.state in ACTIVE_STATES and is_overdue(reopened.due, clock.now)
    assert [p.id for p in store.list(state=ACTIVE_STATES, due_to=clock.now)] == [pid]
    # No burst of reminders for moments that passed while it was settled; the overdue list shows it.
    assert kinds_due(reopened, clock.now, timedelta(hours=24)) == []
    # And it can be settled again, the whole story staying in the history.
    assert store.set_state(pid, "broken", by="anna").state == "broken"
    assert [c.new_state for c in store.history(pid)] == ["open", "kept", "open", "broken"]


def test_reopened_promise_before_its_deadline_gets_its_reminders(store: TrackerStore, clock: Clock) -> None:
    pid = promise_angebot(store)
    store.set_state(pid, "cancelled", by="max")
    clock.now = datetime(2026, 11, 24, 8, 0)
    reopened = store.reopen(pid, by="anna")
    assert kinds_due(reopened, datetime(2026, 11, 27, 0, 30), timedelta(hours=24)) == ["due", "lead"]


@pytest.mark.parametrize("keeper", [deliver, reply])
def test_the_evidence_mail_recorded_again_does_not_re_keep(store: TrackerStore, clock: Clock,
                                                           keeper: Keeper) -> None:
    pid = promise_angebot(store)
    keeper(store, "<k@firma.de>", datetime(2026, 11, 24, 10, 0))
    assert state_of(store, pid) == "kept"
    clock.now = datetime(2026, 11, 24, 16, 0)
    store.reopen(pid, by="anna", note="Das war ein anderes Angebot")
    before = store.history(pid)
    # The proxy retrying after a 4xx, or one delivery per recipient: the same Message-ID again.
    keeper(store, "<k@firma.de>", datetime(2026, 11, 24, 10, 0))
    assert state_of(store, pid) == "open" and store.history(pid) == before


@pytest.mark.parametrize("keeper", [deliver, reply])
def test_a_mail_sent_before_the_reopen_but_recorded_after_it_does_not_re_keep(
        store: TrackerStore, clock: Clock, keeper: Keeper) -> None:
    pid = promise_angebot(store)
    keeper(store, "<k@firma.de>", datetime(2026, 11, 24, 10, 0))
    clock.now = datetime(2026, 11, 24, 16, 0)
    store.reopen(pid, by="anna")
    # Sent at noon, deferred in the Postfix queue while the proxy was down, recorded after the reopen.
    clock.now = datetime(2026, 11, 24, 17, 0)
    keeper(store, "<late@firma.de>", datetime(2026, 11, 24, 12, 0))
    assert state_of(store, pid) == "open"
    assert [c.new_state for c in store.history(pid)] == ["open", "kept", "open"]


@pytest.mark.parametrize("keeper", [deliver, reply])
def test_a_new_mail_after_the_reopen_keeps_it_with_its_own_evidence(store: TrackerStore, clock: Clock,
                                                                     keeper: Keeper) -> None:
    pid = promise_angebot(store)
    keeper(store, "<k@firma.de>", datetime(2026, 11, 24, 10, 0))
    clock.now = datetime(2026, 11, 24, 16, 0)
    store.reopen(pid, by="anna")
    clock.now = datetime(2026, 11, 25, 9, 5)
    keeper(store, "<k2@firma.de>", datetime(2026, 11, 25, 9, 0))
    assert state_of(store, pid) == "kept"
    assert [(c.new_state, c.evidence) for c in store.history(pid)] == [
        ("open", "<p@firma.de>"), ("kept", "<k@firma.de>"), ("open", None), ("kept", "<k2@firma.de>")]


def test_the_reopen_guard_spares_promises_that_were_never_reopened(store: TrackerStore, clock: Clock) -> None:
    pid = promise_angebot(store)
    deliver(store, "<k@firma.de>", datetime(2026, 11, 24, 10, 0))
    clock.now = datetime(2026, 11, 24, 16, 0)
    store.reopen(pid, by="anna")
    other = promise_angebot(store, "<q@firma.de>")  # also promises the offer, made Monday, still open
    clock.now = datetime(2026, 11, 24, 17, 0)
    deliver(store, "<late@firma.de>", datetime(2026, 11, 24, 12, 0))
    assert (state_of(store, pid), state_of(store, other)) == ("open", "kept")
    assert store.history(other)[-1].evidence == "<late@firma.de>"

"""Kept detection in record_mail, and the matching helpers behind it."""

from __future__ import annotations

from datetime import date, datetime

import pytest

import server.tracker.store as store_module
from server.engine.types import Region
from server.tracker.matching import (
    bare_address,
    delivered_forms,
    delivery_matches,
    forms_match,
    normalize_message_id,
    promise_forms,
    split_references,
    word_forms,
    words_match,
)
from server.tracker.store import TrackerStore
from tests.tracker.tracker_factories import make_analysis, make_delivery, make_mail, make_promise

LATER = datetime(2026, 11, 25, 9, 0)
ANGEBOT = "Ich schicke Ihnen bis Freitag das Angebot."


def promise_angebot(store: TrackerStore, message_id: str = "<p@firma.de>", obj: str | None = "Angebot",
                    quote: str = ANGEBOT) -> int:
    """Record the Monday promise to send the offer; its id."""
    promise = make_promise(quote, obj=obj, due=date(2026, 11, 27))
    [pid] = store.record_mail(make_mail(message_id), make_analysis(quote, (promise,)))
    return pid


def deliver(store: TrackerStore, obj: str, *, message_id: str = "<d@firma.de>", **mail: object) -> None:
    """Record a later mail that delivers `obj`."""
    store.record_mail(make_mail(message_id, sent=mail.pop("sent", LATER), **mail),  # type: ignore[arg-type]
                      make_analysis(f"Anbei erhalten Sie {obj}.", deliveries=(make_delivery(obj),)))


def state(store: TrackerStore, pid: int) -> str:
    found = store.get(pid)
    assert found is not None
    return found.state


@pytest.mark.parametrize("delivered", ["Angebot", "das Angebot", "Preisangebot", "Angebote", "ANGEBOT"])
def test_delivery_of_the_promised_object_marks_it_kept(store: TrackerStore, delivered: str) -> None:
    pid = promise_angebot(store)
    deliver(store, delivered, recipients=("anna@KUNDE.de",), sender="max@firma.de")
    assert state(store, pid) == "kept"
    last = store.history(pid)[-1]
    assert (last.old_state, last.new_state, last.by) == ("open", "kept", "auto")
    assert last.evidence == "<d@firma.de>"
    assert last.note is not None and delivered in last.note


def test_delivery_matches_the_quote_when_the_promise_has_no_object(store: TrackerStore) -> None:
    pid = promise_angebot(store, obj=None, quote="Die Unterlagen bekommen Sie bis Freitag.")
    deliver(store, "Unterlage")
    assert state(store, pid) == "kept"


@pytest.mark.parametrize(("mail", "why"), [
    ({"recipients": ("bob@anderer-kunde.de",)}, "other customer"),
    ({"sender": "eva@firma.de"}, "other sender"),
    ({"sent": datetime(2026, 11, 20, 9, 0)}, "earlier mail"),
    ({"message_id": "<p@firma.de>"}, "the promise's own mail"),
])
def test_delivery_outside_the_promise_context_keeps_nothing(store: TrackerStore, mail: dict[str, object],
                                                          why: str) -> None:
    pid = promise_angebot(store)
    deliver(store, "Angebot", **mail)
    assert state(store, pid) == "open", why


@pytest.mark.parametrize("delivered", ["Rechnung", "Angebotsunterlagen", "Dividende", "Woche"])
def test_delivery_of_something_else_keeps_nothing(store: TrackerStore, delivered: str) -> None:
    pid = promise_angebot(store, quote="Das Angebot kommt bis Ende der Woche.")
    deliver(store, delivered)
    assert state(store, pid) == "open"


def test_delivery_keeps_a_postponed_promise_but_not_a_cancelled_one(store: TrackerStore) -> None:
    postponed = promise_angebot(store, "<p1@x>")
    cancelled = promise_angebot(store, "<p2@x>")
    store.set_state(postponed, "postponed", by="max", new_due="2026-12-02")
    store.set_state(cancelled, "cancelled", by="max")
    deliver(store, "Angebot")
    assert (state(store, postponed), state(store, cancelled)) == ("kept", "cancelled")


def reply(store: TrackerStore, text: str, *, in_reply_to: str | None = "<p@firma.de>",
          references: tuple[str, ...] = (), deliveries: tuple[str, ...] = (),
          new_text: tuple[Region, ...] = (), quoted: tuple[Region, ...] = ()) -> None:
    """Record a reply in the thread, from a colleague, with the given text."""
    store.record_mail(
        make_mail("<r@firma.de>", sender="eva@firma.de", sent=LATER, in_reply_to=in_reply_to,
                  references=references),
        make_analysis(text, deliveries=tuple(make_delivery(d) for d in deliveries), new_text=new_text,
                      quoted=quoted))


@pytest.mark.parametrize("text", [
    "Wie versprochen sende ich Ihnen die Zahlen.", "wie vereinbart: hier die Daten.",
    "Wie zugesagt, anbei die Übersicht.",
])
def test_reply_in_the_thread_saying_wie_versprochen_marks_kept(store: TrackerStore, text: str) -> None:
    pid = promise_angebot(store)
    reply(store, text)
    assert state(store, pid) == "kept"
    assert store.history(pid)[-1].evidence == "<r@firma.de>"


def test_reply_found_through_references(store: TrackerStore) -> None:
    pid = promise_angebot(store)
    reply(store, "Wie versprochen, die Zahlen.", in_reply_to="<other@x>",
          references=("<root@x> p@firma.de",))
    assert state(store, pid) == "kept"


def test_reply_without_the_phrase_or_outside_the_thread_keeps_nothing(store: TrackerStore) -> None:
    pid = promise_angebot(store)
    reply(store, "Kurze Rückfrage zu den Zahlen.")
    reply(store, "Wie versprochen, die Zahlen.", in_reply_to="<unrelated@x>")
    assert state(store, pid) == "open"


def test_phrase_only_in_the_quoted_history_does_not_count(store: TrackerStore) -> None:
    pid = promise_angebot(store)
    text = "Danke, ich melde mich.\n\n> Wie versprochen, die Zahlen."
    reply(store, text, new_text=(Region(0, 22),), quoted=(Region(24, len(text)),))
    assert state(store, pid) == "open"


def test_reply_delivering_one_of_two_thread_promises_keeps_only_that_one(store: TrackerStore) -> None:
    quote = "Ich schicke Ihnen das Angebot und die Zeichnung."
    first = make_promise("Ich schicke Ihnen das Angebot.", obj="Angebot", due=date(2026, 11, 27))
    second = make_promise("Die Zeichnung folgt.", obj="Zeichnung", due=date(2026, 11, 27), start=40)
    a, b = store.record_mail(make_mail("<p@firma.de>"), make_analysis(quote, (first, second)))
    reply(store, "Wie versprochen anbei die Zeichnung.", deliveries=("Zeichnung",))
    # The colleague's reply keeps it through the thread, although another sender delivered it.
    assert (state(store, a), state(store, b)) == ("open", "kept")


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("Angebot", "Angebots", True), ("Preisangebot", "Angebot", True), ("Unterlagen", "Unterlage", True),
    ("Preise", "Preis", True), ("Rechnungskopie", "Rechnung", False), ("Terminal", "Termin", False),
    ("PDF", "pdf", True), ("Plan", "Zeitplan", True), ("Tor", "Motor", False),
])
def test_words_match_is_compound_aware(a: str, b: str, expected: bool) -> None:
    assert words_match(a, b) is expected


WORDS = ["Angebot", "Angebots", "Preisangebot", "Unterlagen", "Unterlage", "Preise", "Preis", "Rechnungskopie",
         "Rechnung", "Terminal", "Termin", "PDF", "pdf", "Plan", "Zeitplan", "Tor", "Motor", "Reis",
         "Angebotsunterlagen", "Bericht", "Wochenbericht", "Kosten", "Nebenkosten", "Ofen", "Backofen"]


def test_precomputed_forms_match_exactly_like_words_match() -> None:
    for a in WORDS:
        for b in WORDS:
            assert forms_match(word_forms([a]), word_forms([b])) is words_match(a, b), (a, b)
    # Several words on each side: a match of any pair.
    assert forms_match(word_forms(["Zeichnung", "Preisangebot"]), word_forms(["Plan", "Angebote"]))
    assert not forms_match(word_forms(["Zeichnung", "Motor"]), word_forms(["Tor", "Rechnungskopie"]))


def test_promise_forms_are_computed_once_per_promise(store: TrackerStore) -> None:
    for n in range(3):
        promise_angebot(store, f"<p{n}@firma.de>", obj=None, quote=f"Die Unterlagen {n} bekommen Sie morgen.")
    promise_forms.cache_clear()
    delivered_forms.cache_clear()
    for n in range(4):
        deliver(store, "Unterlage" if n == 3 else "Zeichnung", message_id=f"<d{n}@firma.de>")
    # Four delivery mails compared with three open promises: each promise's stems computed once.
    info = promise_forms.cache_info()
    assert (info.misses, info.hits) == (3, 9)
    assert [p.state for p in store.list()] == ["kept"] * 3


def dump(store: TrackerStore) -> list[list[tuple[object, ...]]]:
    """Every row of the tables record_mail writes, in a stable order."""
    return [[tuple(row) for row in store.read(f"SELECT * FROM {table} ORDER BY 1, 2")]
            for table in ("mails", "mail_recipients", "promises", "history")]


def test_a_stored_message_id_runs_no_second_kept_detection(store: TrackerStore,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    first = promise_angebot(store, "<p1@firma.de>")
    deliver(store, "Angebot")
    assert state(store, first) == "kept"
    # A second offer promise, sent before the delivery, but recorded after it: the delivery mail arriving
    # again (a retry) must not keep it, since kept detection ran when the delivery was first stored.
    second = promise_angebot(store, "<p2@firma.de>")
    before = dump(store)
    calls: list[str] = []

    def counting(*args: object) -> dict[int, str]:
        calls.append(str(args[2]))
        return {}

    monkeypatch.setattr(store_module, "kept_by", counting)
    deliver(store, "Angebot")
    assert calls == []
    assert state(store, second) == "open"
    assert dump(store) == before


def test_delivery_matches_ignores_deadline_words() -> None:
    assert not delivery_matches("Wochenbericht", "Ich melde mich bis Ende der Woche.", None,
                                "bis Ende der Woche")
    assert delivery_matches("Wochenbericht", "Den Bericht schicke ich bis Ende der Woche.", None,
                            "bis Ende der Woche")


@pytest.mark.parametrize(("value", "expected"), [
    ("Anna Kunde <Anna@Kunde.DE>", "anna@kunde.de"), ("anna@kunde.de", "anna@kunde.de"),
    ('"Kunde, Anna" <anna@kunde.de>', "anna@kunde.de"), (" <a@b.de> ", "a@b.de"),
])
def test_bare_address(value: str, expected: str) -> None:
    assert bare_address(value) == expected


def test_message_ids_are_compared_in_canonical_form() -> None:
    assert normalize_message_id(" abc@x ") == normalize_message_id("<abc@x>") == "<abc@x>"
    assert normalize_message_id("") == normalize_message_id(None) == ""
    assert split_references(["<a@x> <b@x>", "<a@x>", "c@x"]) == ["<a@x>", "<b@x>", "<c@x>"]


def test_engine_findings_are_stored_as_found(store: TrackerStore, engine: object) -> None:
    from server.engine import Engine

    assert isinstance(engine, Engine)
    text = "Guten Tag Frau Kunde,\n\nich schicke Ihnen bis Freitag das Angebot.\n\nViele Grüße\nMax"
    analysis = engine.analyze(text, datetime(2026, 11, 23, 10, 0))
    assert analysis.promises, "the engine should find the offer promise"
    ids = store.record_mail(make_mail(), analysis)
    stored = [store.get(i) for i in ids]
    assert [(s.quote, s.due, s.object) for s in stored if s] == [
        (p.text, p.deadline.due_iso() if p.deadline else None, p.object) for p in analysis.promises]

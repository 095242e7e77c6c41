"""Promise detection: what counts as a promise, its kind and its risk, and what must stay clean."""

from __future__ import annotations

import pytest

from server.engine import Engine
from tests.conftest import MONDAY

# (sentence, kind, risk) — one promise expected, its span overlapping the sentence.
PROMISES = [
    ("Ich schicke Ihnen das Angebot bis Mittwoch.", "explicit", "medium"),
    ("Wir liefern garantiert bis Freitag.", "explicit", "high"),
    ("Die Rechnung bekommen Sie morgen per Post.", "explicit", "high"),  # the carrier decides
    ("Sie erhalten die Gutschrift in den nächsten Tagen.", "explicit", "medium"),
    ("Ich melde mich morgen früh bei Ihnen.", "explicit", "medium"),
    ("Wir kümmern uns darum.", "explicit", "medium"),
    ("Das Ersatzteil bestellen wir heute noch.", "explicit", "medium"),
    ("Ich rufe Sie heute Nachmittag zurück, versprochen.", "explicit", "high"),
    ("Ich verspreche Ihnen, dass der Fehler nicht noch einmal passiert.", "explicit", "high"),
    ("Wir erstatten Ihnen den Betrag selbstverständlich in voller Höhe.", "explicit", "high"),
    ("Wir versuchen, die Küche bis Ende nächster Woche zu montieren.", "explicit", "low"),
    ("Voraussichtlich liefern wir die Teile am Donnerstag.", "explicit", "low"),
    ("Sobald die Freigabe vorliegt, beginnen wir mit den Arbeiten.", "explicit", "low"),
    ("Unser Techniker kommt am Donnerstag zwischen 8 und 12 Uhr.", "implicit", "medium"),
    ("Die Ware wird übermorgen angeliefert.", "implicit", "medium"),
    ("Die Lieferung ist übermorgen bei Ihnen.", "implicit", "high"),  # the carrier decides
    ("Ihr Fahrzeug ist am Freitag abholbereit.", "implicit", "medium"),
    ("Der Hersteller liefert die Fenster in KW 3.", "implicit", "high"),
    ("Wir sind rund um die Uhr für Sie erreichbar.", "implicit", "high"),
    ("Die Reparatur können wir nächste Woche durchführen.", "implicit", "medium"),
    ("Die Überweisung sollte Anfang Dezember auf Ihrem Konto sein.", "implicit", "low"),
    ("Wir rufen Sie morgen Vormittag an.", "explicit", "medium"),  # not an imperative "Rufen Sie …"
    ("Melde mich morgen früh bei Ihnen.", "explicit", "medium"),  # chat without "ich"
    ("Ich gehe davon aus, dass wir das Dach bis Ende März decken.", "implicit", "low"),
    ("Spätestens am 11.12. sind wir mit dem Umzug durch.", "implicit", "medium"),
    ("Die Auszahlung erfolgt innerhalb von drei Tagen.", "implicit", "medium"),
    ("Danach ist der Abfluss garantiert wieder frei.", "implicit", "high"),
    ("Wenn das Teil pünktlich kommt, ist Ihr Auto am Mittwoch fertig.", "implicit", "low"),
    ("Wir schicken Ihnen am Donnerstag einen Gutachter vorbei.", "explicit", "medium"),
    ("Die Zugangsdaten übermittle ich Ihnen heute noch.", "explicit", "medium"),
    ("Versprochen: Das Angebot liegt Ihnen morgen vor.", "implicit", "high"),  # the tag grades, no 2nd promise
    ("Das schaffen wir bis Freitag. Versprochen!", "explicit", "high"),  # a tag sentence joins the promise
    ("Morgen informieren wir Sie über den Stand.", "explicit", "medium"),  # a dated speech act is announced
    ("Wir informieren Sie bis spätestens Mittwoch über das Ergebnis.", "explicit", "medium"),
    ("Ab Montag sind wir wieder für Sie erreichbar.", "implicit", "medium"),  # back from an absence: a promise
]

# Sentences that must not produce a promise.
NOT_PROMISES = [
    "Hiermit bestätigen wir Ihnen den Termin am Freitag.",  # done with this mail; the date is the content
    "Wir bestätigen Ihnen den Termin am Freitag um 10 Uhr.",
    "Die Frist endet am 31.12.",
    "Eine Rückerstattung erfolgt grundsätzlich auf das ursprüngliche Zahlungsmittel.",  # generic, no date
    "Ich bin ab Montag im Urlaub.",  # an absence, not a commitment
    "Wir freuen uns, Sie bald wieder bei uns begrüßen zu dürfen.",  # a closing formula: "Sie" is the object
    "Der Hersteller verspricht eine Lieferung bis Ende Januar.",  # the manufacturer's promise, reported
    "Können Sie uns die Unterlagen bis Freitag schicken?",
    "Bitte schicken Sie uns die Zählerstände bis zum 5. Dezember.",
    "Wir haben Ihnen das Angebot letzte Woche geschickt.",
    "Leider können wir den Termin am Freitag nicht halten.",
    "Einen Rabatt können wir Ihnen nicht gewähren.",
    "Der Lieferant hat uns zugesagt, dass die Ware am Montag kommt.",
    "Meine Kollegin sagte, dass wir uns morgen melden.",
    "Falls gewünscht, könnten wir den Termin verschieben.",
    "Wir würden Ihnen gern ein Angebot machen.",
    "Wir freuen uns auf Ihren Besuch am Freitag.",
    "Vielen Dank für Ihre Nachricht.",
    "Hiermit bestätigen wir den Eingang Ihrer Bestellung.",
    "Unser Unternehmen besteht seit 1985.",
    "Wie vereinbart erhalten Sie anbei die Rechnung.",
    "Der Estrich muss vier Wochen trocknen.",
    "Rufen Sie uns morgen an.",
    "Er sagt, sein Team kann die Küche erst im Januar aufbauen.",
    "Frau Ahrens will die offenen Posten bis Freitag klären.",
    "Ob es Donnerstag klappt, weiß ich erst morgen.",
    "Normalerweise brauchen wir für so ein Projekt drei Wochen.",
    "Für Rückfragen stehen wir Ihnen jederzeit gerne zur Verfügung.",
    "Das Prüfprotokoll erhalten Sie mit dieser Mail.",
    "Gegen den Bescheid kann innerhalb eines Monats Widerspruch erhoben werden.",
    "Die Unterlagen habe ich gestern vorbereitet.",
    "Wir sind ein Familienbetrieb und legen Wert auf Qualität.",
    "Bitte geben Sie uns bis zum 27.11. Bescheid, damit wir den Termin einplanen können.",  # one sentence
]


@pytest.mark.parametrize(("sentence", "kind", "risk"), PROMISES)
def test_promise_found_with_kind_and_risk(engine: Engine, sentence: str, kind: str, risk: str) -> None:
    promises = engine.analyze(sentence, MONDAY).promises
    assert len(promises) == 1, [p.text for p in promises]
    promise = promises[0]
    assert (promise.kind, promise.risk) == (kind, risk), promise
    assert promise.text and sentence.find(promise.text) == promise.start


@pytest.mark.parametrize("sentence", NOT_PROMISES)
def test_no_promise(engine: Engine, sentence: str) -> None:
    assert engine.analyze(sentence, MONDAY).promises == ()


def test_two_promises_in_one_sentence_are_separate(engine: Engine) -> None:
    text = "Die Gästeliste schicke ich Ihnen separat, die Namensschilder drucken wir bis Donnerstag."
    promises = engine.analyze(text, MONDAY).promises
    assert [p.text for p in promises] == [
        "Die Gästeliste schicke ich Ihnen separat", "die Namensschilder drucken wir bis Donnerstag"]
    assert promises[1].deadline is not None and promises[1].deadline.due_iso() == "2026-11-26"


def test_risk_trigger_names_the_word(engine: Engine) -> None:
    promise = engine.analyze("Wir liefern garantiert bis Freitag.", MONDAY).promises[0]
    assert [(t.rule, t.text) for t in promise.triggers] == [("AbsoluteWords", "garantiert")]
    assert "garantiert" in promise.message and promise.reason


def test_quoted_history_is_not_new_text(engine: Engine) -> None:
    text = "Hallo Herr Berg,\n\nanbei die Unterlagen.\n\n> Am 2.11.2026 schrieb Sie:\n> Wir liefern morgen.\n"
    analysis = engine.analyze(text, MONDAY)
    assert analysis.promises == ()
    assert [p.text for p in analysis.earlier_promises] == ["Wir liefern morgen"]


def test_promise_object_is_the_thing_promised(engine: Engine) -> None:
    promise = engine.analyze("Den Kostenvoranschlag schicke ich Ihnen morgen.", MONDAY).promises[0]
    assert promise.object == "Kostenvoranschlag"


def test_coordinated_promises_with_own_deadlines_keep_the_subject(engine: Engine) -> None:
    text = "Wir kümmern uns heute um den Schaden und schicken Ihnen bis Freitag einen Gutachter vorbei."
    promises = engine.analyze(text, MONDAY).promises
    assert [(p.kind, p.deadline.due_iso() if p.deadline else None) for p in promises] == [
        ("explicit", "2026-11-23"), ("explicit", "2026-11-27")]

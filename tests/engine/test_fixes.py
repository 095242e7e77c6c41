"""Quick-fix edits: hedges for risky promises, concrete dates, plain words, "Wie versprochen"."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from server.engine.fixes import (
    Fix,
    deadline_fixes,
    delivery_fixes,
    finite_verb_end,
    hedge_fixes,
    sentence_bounds,
)
from server.engine.fixes_jargon import jargon_fixes, noun_gender
from server.engine.types import Deadline, Delivery, Jargon, Promise, Severity, Trigger

MONDAY = datetime(2026, 11, 23, 10, 0)


def applied(text: str, fix: Fix) -> str:
    """The text after one fix."""
    return text[:fix.start] + fix.replacement + text[fix.end:]


def promise(text: str, clause: str, absolute: tuple[str, ...] = (), risk: str = "high") -> Promise:
    """A promise over `clause` inside `text`, with AbsoluteWords triggers on the given words."""
    start = text.index(clause)
    triggers = tuple(Trigger("AbsoluteWords", text.index(w), text.index(w) + len(w), w) for w in absolute)
    return Promise(start, start + len(clause), clause, "explicit", risk, "Commitments",  # type: ignore[arg-type]
                   "Riskante Zusage", "Grund", Severity.WARNING, triggers=triggers)


HEDGES = [
    ("Hallo Frau Reuter, wir liefern garantiert bis Freitag. Danke!", "wir liefern garantiert bis Freitag",
     ("garantiert",), {
         "„garantiert“ streichen": "Hallo Frau Reuter, wir liefern bis Freitag. Danke!",
         "Abschwächen: „voraussichtlich“": "Hallo Frau Reuter, wir liefern voraussichtlich bis Freitag. Danke!",
         "Abschwächen: „nach aktuellem Stand“":
             "Hallo Frau Reuter, wir liefern nach aktuellem Stand bis Freitag. Danke!",
     }),
    ("Selbstverständlich liefern wir morgen.", "Selbstverständlich liefern wir morgen", ("Selbstverständlich",), {
        "„Selbstverständlich“ streichen": "Wir liefern morgen.",
        "Abschwächen: „voraussichtlich“": "Wir liefern voraussichtlich morgen.",
    }),
    ("Keine Sorge, wir liefern morgen.", "wir liefern morgen", ("Keine Sorge",), {
        "„Keine Sorge“ streichen": "Wir liefern morgen.",
    }),
    ("Ich rufe Sie noch heute zurück, versprochen.", "Ich rufe Sie noch heute zurück, versprochen",
     ("versprochen",), {
         "„versprochen“ streichen": "Ich rufe Sie noch heute zurück.",
         "Abschwächen: „voraussichtlich“": "Ich rufe Sie voraussichtlich noch heute zurück.",
     }),
    ("Wir liefern auf jeden Fall ganz sicher bis Freitag.", "Wir liefern auf jeden Fall ganz sicher bis Freitag",
     ("auf jeden Fall", "ganz sicher"), {
         "„auf jeden Fall“, „ganz sicher“ streichen": "Wir liefern bis Freitag.",
         "Abschwächen: „voraussichtlich“": "Wir liefern voraussichtlich bis Freitag.",
     }),
    ("Die neue Ware ist übermorgen bei Ihnen.", "Die neue Ware ist übermorgen bei Ihnen", (), {
        "Abschwächen: „voraussichtlich“": "Die neue Ware ist voraussichtlich übermorgen bei Ihnen.",
    }),
    ("Ich kümmere mich sofort darum.", "Ich kümmere mich sofort darum", ("sofort",), {
        "Abschwächen: „voraussichtlich“": "Ich kümmere mich voraussichtlich darum.",
    }),
]


@pytest.mark.parametrize(("text", "clause", "absolute", "expected"), HEDGES)
def test_hedge_variants(text: str, clause: str, absolute: tuple[str, ...], expected: dict[str, str]) -> None:
    """Each expected variant is offered and yields exactly the expected text."""
    fixes = {f.title: applied(text, f) for f in hedge_fixes(text, promise(text, clause, absolute))}
    for title, result in expected.items():
        assert fixes.get(title) == result, (title, fixes)


def test_difficulty_variant_names_the_dependency() -> None:
    """"Naming the difficulty" drops the absolute word and leaves a placeholder for what it depends on."""
    text = "Wir liefern garantiert bis Freitag."
    fixes = hedge_fixes(text, promise(text, "Wir liefern garantiert bis Freitag", ("garantiert",)))
    named = [applied(text, f) for f in fixes if f.title.startswith("Schwierigkeit")]
    assert named == ["Wir liefern bis Freitag – das hängt allerdings noch von […] ab. "
                     "Falls es eng wird, melde ich mich rechtzeitig bei Ihnen."]


def test_third_party_trigger_is_not_dropped() -> None:
    """Only absolute words go; a trigger naming the carrier stays in the sentence."""
    text = "Die Spedition liefert garantiert am Freitag."
    start = text.index("Spedition")
    p = promise(text, "Die Spedition liefert garantiert am Freitag", ("garantiert",))
    p = dataclasses.replace(p, triggers=(*p.triggers, Trigger("ThirdParties", start, start + 9, "Spedition")))
    for fix in hedge_fixes(text, p):
        assert "Spedition" in applied(text, fix)
        assert "garantiert" not in applied(text, fix)


def test_hedges_keep_other_sentences() -> None:
    """Only the promise's sentence is replaced; text around it is untouched."""
    text = "Vielen Dank.\nWir liefern garantiert bis Freitag.\nGruß"
    for fix in hedge_fixes(text, promise(text, "Wir liefern garantiert bis Freitag", ("garantiert",))):
        result = applied(text, fix)
        assert result.startswith("Vielen Dank.\n") and result.endswith("\nGruß")


@pytest.mark.parametrize(("text", "expected"), [
    ("Wir liefern morgen.", "Wir liefern"),
    ("Ich melde mich morgen.", "Ich melde mich"),
    ("Unser Monteur kommt am Donnerstag.", "Unser Monteur kommt"),
    ("Morgen liefern wir Ihnen das.", "Morgen liefern wir Ihnen"),
    ("Die Muster für die Rinnen schicke ich Ihnen morgen.", "Die Muster für die Rinnen schicke ich Ihnen"),
    ("und die Rechnung erhalten Sie morgen.", "und die Rechnung erhalten Sie"),
    ("Für die Details schlage ich ein Treffen vor.", "Für die Details schlage ich"),
    ("Sofern es klappt, liefern wir.", None),
    ("Bitte schicken Sie uns die Unterlagen.", None),
])
def test_finite_verb(text: str, expected: str | None) -> None:
    """The V2 heuristic finds the verb after a pronoun or a noun phrase, else declines."""
    end = finite_verb_end(text)
    assert (text[:end] if end is not None else None) == expected


def test_hedge_goes_into_the_promise_clause() -> None:
    """A promise in the second clause is hedged there, as a pure insertion; the first clause stays."""
    text = "Das Material ist bestellt, das Gerüst steht ab Montag, den 30.11. Die Muster folgen."
    p = promise(text, "das Gerüst steht ab Montag, den 30.11.", risk="medium")
    fixes = {f.title: f for f in hedge_fixes(text, p)}
    fix = fixes["Abschwächen: „voraussichtlich“"]
    assert fix.start == fix.end == text.index(" ab Montag")
    assert applied(text, fix) == ("Das Material ist bestellt, das Gerüst steht voraussichtlich ab Montag, den 30.11. "
                                  "Die Muster folgen.")
    named = applied(text, fixes["Schwierigkeit benennen statt versprechen"])
    assert named.endswith("den 30.11. – das hängt allerdings noch von […] ab. Falls es eng wird, melde ich mich "
                          "rechtzeitig bei Ihnen. Die Muster folgen.")


def test_sentence_bounds() -> None:
    """A sentence ends at its punctuation and starts after the previous one or a line break."""
    text = "Erstens. Wir liefern z. B. am 30.11. ca. um 9 Uhr! Drittens"
    start = text.index("liefern")
    lo, hi = sentence_bounds(text, start, start + 7)
    assert text[lo:hi] == "Wir liefern z. B. am 30.11. ca. um 9 Uhr!"
    start = text.index("um 9")
    assert sentence_bounds(text, start, start + 4) == (lo, hi)


def test_vague_deadline_offers_concrete_dates() -> None:
    """A vague deadline gets 3-4 concrete dates from the engine, each replacing the phrase."""
    text = "Ich melde mich zeitnah bei Ihnen."
    start = text.index("zeitnah")
    fixes = deadline_fixes(text, Deadline(start, start + 7, "zeitnah", None, vague=True), MONDAY)
    assert 3 <= len(fixes) <= 4
    results = [applied(text, f) for f in fixes]
    assert results[0] == "Ich melde mich bis morgen, 24.11. bei Ihnen."
    assert "Ich melde mich bis Freitag, 27.11. bei Ihnen." in results
    assert all("zeitnah" not in r for r in results)


def test_vague_deadline_at_sentence_start_is_capitalised() -> None:
    """A replacement that starts a sentence starts with a capital letter."""
    text = "Zeitnah melde ich mich."
    fixes = deadline_fixes(text, Deadline(0, 7, "Zeitnah", None, vague=True), MONDAY)
    assert applied(text, fixes[0]).startswith("Bis morgen, 24.11. melde")


def test_ambiguous_weekday_offers_both_dates() -> None:
    """"nächsten Dienstag" said on a Monday: tomorrow or the week after, with the date spelled out."""
    text = "Wir kommen nächsten Dienstag."
    start = text.index("nächsten")
    d = Deadline(start, start + len("nächsten Dienstag"), "nächsten Dienstag", None, ambiguous=True)
    results = [applied(text, f) for f in deadline_fixes(text, d, MONDAY)]
    assert results == ["Wir kommen am Dienstag, 24.11.", "Wir kommen am Dienstag, 1.12."]


def jargon(text: str, term: str, plain: tuple[str, ...], written: str | None = None) -> Jargon:
    """A jargon finding on the first occurrence of `written` (default: the term)."""
    start = text.index(written or term)
    return Jargon(start, start + len(written or term), term, "anglicism", plain, "Anglicisms", "m", "r",
                  Severity.INFORMATION)


@pytest.mark.parametrize(("text", "term", "plain", "written", "expected"), [
    ("Das Meeting ist am Montag.", "Meeting", ("Besprechung",), None, "Die Besprechung ist am Montag."),
    ("Wir sehen uns im Meeting.", "Meeting", ("Besprechung",), None, "Wir sehen uns in der Besprechung."),
    ("Nach dem Meeting rufe ich an.", "Meeting", ("Besprechung",), None, "Nach der Besprechung rufe ich an."),
    ("Meeting um 10 Uhr.", "Meeting", ("Besprechung",), None, "Besprechung um 10 Uhr."),
    ("Feedback geben wir gern.", "Feedback", ("Rückmeldung",), None, "Rückmeldung geben wir gern."),
    ("Ich schicke es asap.", "asap", ("so bald wie möglich",), None, "Ich schicke es so bald wie möglich."),
    ("Asap schicke ich es.", "asap", ("so bald wie möglich",), "Asap", "So bald wie möglich schicke ich es."),
    ("Sie erhalten anbei das Angebot.", "anbei", ("streichen",), None, "Sie erhalten das Angebot."),
    ("Ich schlage ein kurzes Meeting vor.", "Meeting", ("Besprechung",), None,
     "Ich schlage eine kurze Besprechung vor."),
    ("Danke für Ihr schnelles Feedback.", "Feedback", ("Rückmeldung",), None, "Danke für Ihre schnelle Rückmeldung."),
    ("In unserem letzten Meeting ging es um Geld.", "Meeting", ("Besprechung",), None,
     "In unserer letzten Besprechung ging es um Geld."),
    ("Es gibt kein Meeting.", "Meeting", ("Besprechung",), None, "Es gibt keine Besprechung."),
    ("Anbei erhalten Sie das Angebot.", "Anbei", ("im Anhang", "hier ist"), None,
     "Im Anhang erhalten Sie das Angebot."),
    ("Anbei das Angebot.", "Anbei", ("hier ist",), None, "Hier ist das Angebot."),
])
def test_jargon_replacements(text: str, term: str, plain: tuple[str, ...], written: str | None,
                             expected: str) -> None:
    """The plain word replaces the term; capitals at a sentence start; the article follows a clear gender."""
    fixes = jargon_fixes(text, jargon(text, term, plain, written))
    assert [applied(text, f) for f in fixes] == [expected]


def test_jargon_unknown_gender_is_flagged_in_the_title() -> None:
    """Where the article cannot be adapted the title says so, and the noun is still replaced."""
    text = "Das Meeting ist am Montag."
    fixes = jargon_fixes(text, jargon(text, "Meeting", ("Termin",)))
    assert [f.title for f in fixes] == ["Ersetzen durch „Termin“ (Artikel prüfen)"]
    assert applied(text, fixes[0]) == "Das Termin ist am Montag."


def test_jargon_advice_is_no_edit() -> None:
    """Advice like "direkt formulieren" is shown on hover, not offered as a replacement."""
    text = "Hiermit teilen wir Ihnen mit, dass es klappt."
    finding = jargon(text, "Hiermit teilen wir Ihnen mit", ("direkt formulieren",))
    assert jargon_fixes(text, finding) == []


def test_jargon_inflected_match_is_flagged() -> None:
    """An inflected term ("Meetings") gets the base form, with a note to check the form."""
    text = "Die Meetings sind abgesagt."
    fixes = jargon_fixes(text, jargon(text, "Meeting", ("Besprechung",), "Meetings"))
    assert fixes[0].title.endswith("(Form prüfen)")


@pytest.mark.parametrize(("word", "gender"), [
    ("Besprechung", "f"), ("Rückmeldung", "f"), ("Dokument", "n"), ("Termin", None), ("zeitnah", None),
])
def test_noun_gender(word: str, gender: str | None) -> None:
    """Only suffixes that decide the gender are trusted."""
    assert noun_gender(word) == gender


def delivery(text: str, clause: str, matched: bool, phrased: bool = False) -> Delivery:
    """A delivery of "Angebot" over `clause`, matching an earlier promise when `matched`."""
    start = text.index(clause)
    earlier = Promise(0, 0, "Ich schicke Ihnen das Angebot", "explicit", "medium", "Commitments", "m", "r",
                      Severity.INFORMATION, object="Angebot") if matched else None
    return Delivery(start, start + len(clause), clause, "Angebot", phrased, "Deliveries", "m", "r",
                    Severity.HINT, matches=earlier)


def test_delivery_rewrite_when_promised() -> None:
    """A delivery that redeems a promise gets one "Wie versprochen" rewrite of its clause."""
    text = "Hallo,\n\nAnbei erhalten Sie das Angebot.\n"
    fixes = delivery_fixes(text, delivery(text, "Anbei erhalten Sie das Angebot", matched=True))
    assert len(fixes) == 1
    result = applied(text, fixes[0])
    assert result.startswith("Hallo,\n\nWie versprochen") and "Angebot" in result and result.endswith(".\n")


def test_delivery_rewrite_from_tracker_match() -> None:
    """`promised=True` (a tracker match) offers the rewrite although the draft has no quoted promise."""
    text = "Anbei erhalten Sie das Angebot."
    d = delivery(text, "Anbei erhalten Sie das Angebot", matched=False)
    assert delivery_fixes(text, d) == []
    assert len(delivery_fixes(text, d, promised=True)) == 1


def test_phrased_delivery_needs_no_rewrite() -> None:
    """"Wie versprochen" already said: nothing to offer."""
    text = "Wie versprochen erhalten Sie anbei das Angebot."
    assert delivery_fixes(text, delivery(text, text[:-1], matched=True, phrased=True)) == []


def test_fix_dates_are_dates() -> None:
    """Sanity: the Monday reference is what the date texts above assume."""
    assert MONDAY.date() == date(2026, 11, 23) and MONDAY.weekday() == 0

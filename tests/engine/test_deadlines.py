"""Deadline resolver: German deadline phrases in sentences -> span, due date and flags (DESIGN.md rules)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexicon import RULES_DIR, load_rule_file
from server.engine.calendar_de import add_workdays, easter, holidays, is_workday
from server.engine.deadlines import DeadlineFinder, concrete_date_options, format_due_de, is_tight
from server.engine.types import Deadline

MON = datetime(2026, 11, 23, 10, 0)  # DESIGN.md's reference: Monday 10:00
FRI = datetime(2026, 11, 27, 14, 45)  # Friday afternoon
MONTH_END = datetime(2026, 11, 30, 16, 0)  # Monday, last day of November
YEAR_END = datetime(2026, 12, 30, 11, 0)  # Wednesday between the years
SUN = datetime(2026, 11, 29, 18, 0)  # Sunday evening
DEC22 = datetime(2026, 12, 22, 9, 0)  # Tuesday before Christmas


@pytest.fixture(scope="module")
def finder() -> DeadlineFinder:
    """The finder with the built-in vague phrases (only this rule file, so others' edits cannot break it)."""
    return DeadlineFinder(load_rule_file(RULES_DIR / "VagueDeadlines.toml").phrases)


def only(finder: DeadlineFinder, sentence: str, sent: datetime) -> Deadline:
    """The one deadline in a sentence (failing with what was found otherwise)."""
    found = finder.find(sentence, sent)
    assert len(found) == 1, [(d.text, d.due_iso()) for d in found]
    return found[0]


# (sentence, sent, the phrase as a writer would quote it, due as ISO text)
RESOLVED = [
    # DESIGN.md "Deadline rules", Monday 2026-11-23 10:00
    ("Ich melde mich heute bei Ihnen.", MON, "heute", "2026-11-23"),
    ("Die Antwort kommt heute noch.", MON, "heute noch", "2026-11-23"),
    ("Ich rufe Sie heute Abend an.", MON, "heute Abend", "2026-11-23"),
    ("Das Paket geht morgen raus.", MON, "morgen", "2026-11-24"),
    ("Der Maler kommt morgen früh.", MON, "morgen früh", "2026-11-24"),
    ("Übermorgen liegt die Rechnung vor.", MON, "Übermorgen", "2026-11-25"),
    ("Die Fotos bekommen Sie bis Freitag.", MON, "bis Freitag", "2026-11-27"),
    ("Der Elektriker kommt am Donnerstag.", MON, "am Donnerstag", "2026-11-26"),
    ("Wir erledigen das bis Montag.", MON, "bis Montag", "2026-11-30"),  # today's weekday: next week
    ("Wir liefern kommenden Freitag.", MON, "kommenden Freitag", "2026-11-27"),
    ("Der Gutachter meldet sich nächste Woche.", MON, "nächste Woche", "2026-12-04"),
    ("Ende der Woche haben Sie die Zahlen.", MON, "Ende der Woche", "2026-11-27"),
    ("Die Schränke stehen bis zum Wochenende.", MON, "bis zum Wochenende", "2026-11-27"),
    ("Anfang nächster Woche schicke ich den Plan.", MON, "Anfang nächster Woche", "2026-11-30"),
    ("Mitte nächster Woche ist die Ware da.", MON, "Mitte nächster Woche", "2026-12-02"),
    ("Ende nächster Woche ziehen wir um.", MON, "Ende nächster Woche", "2026-12-04"),
    ("Die Abrechnung kommt zum Monatsende.", MON, "zum Monatsende", "2026-11-30"),
    ("Ende des Monats überweisen wir.", MON, "Ende des Monats", "2026-11-30"),
    ("Mitte Dezember ist das Dach dicht.", MON, "Mitte Dezember", "2026-12-15"),
    ("Ende Dezember endet die Aktion.", MON, "Ende Dezember", "2026-12-31"),
    ("Anfang Januar beginnen die Arbeiten.", MON, "Anfang Januar", "2027-01-05"),
    ("Wir montieren in KW 49.", MON, "in KW 49", "2026-12-04"),
    ("Die Lieferung ist für die 49. KW geplant.", MON, "49. KW", "2026-12-04"),
    ("Sie hören innerhalb von 24 Stunden von uns.", MON, "innerhalb von 24 Stunden", "2026-11-24T10:00"),
    ("In zwei Wochen ist die Küche fertig.", MON, "In zwei Wochen", "2026-12-07"),
    ("Die Bescheinigung kommt in drei Tagen.", MON, "in drei Tagen", "2026-11-26"),
    ("Die Reifen sind zum 30.11. eingelagert.", MON, "zum 30.11.", "2026-11-30"),
    ("Wir brauchen den Auftrag bis zum 2. Dezember.", MON, "bis zum 2. Dezember", "2026-12-02"),
    ("Die Übergabe ist am 14.12.2026.", MON, "am 14.12.2026", "2026-12-14"),
    ("Bis 12 Uhr haben Sie die Unterlagen.", MON, "Bis 12 Uhr", "2026-11-23T12:00"),
    ("Sie haben die Unterlagen bis 12 Uhr morgen.", MON, "bis 12 Uhr morgen", "2026-11-24T12:00"),
    ("Ich rufe Sie um 9 Uhr übermorgen an.", MON, "um 9 Uhr übermorgen", "2026-11-25T09:00"),
    ("Donnerstag 14 Uhr passt uns gut.", MON, "Donnerstag 14 Uhr", "2026-11-26T14:00"),
    ("Zum Jahresende läuft der Vertrag aus.", MON, "Zum Jahresende", "2026-12-31"),
    ("Ende des Quartals legen wir die Bilanz vor.", MON, "Ende des Quartals", "2026-12-31"),
    ("Vor Weihnachten bauen wir die Treppe ein.", MON, "Vor Weihnachten", "2026-12-23"),
    # DESIGN.md "Borderline cases"
    ("Das erledigen wir sofort.", MON, "sofort", "2026-11-23"),
    ("Ab Mittwoch ist die Straße frei.", MON, "Ab Mittwoch", "2026-11-25"),
    ("Diese Woche bekommen Sie den Bescheid.", MON, "Diese Woche", "2026-11-27"),
    ("Anfang Dezember starten wir.", MON, "Anfang Dezember", "2026-12-05"),
    ("Gegen Mittag ist der Wagen fertig.", MON, "Gegen Mittag", "2026-11-23"),
    ("Um 12 sind wir bei Ihnen.", MON, "Um 12", "2026-11-23T12:00"),
    ("Der Techniker kommt morgen zwischen 8 und 12 Uhr.", MON, "morgen zwischen 8 und 12 Uhr", "2026-11-24"),
    # phrases as writers quote them (the brief's span list), fresh sentences
    ("Die Flyer drucken wir bis Donnerstag.", MON, "bis Donnerstag", "2026-11-26"),
    ("Die Fenster werden am 3.12. eingesetzt.", MON, "am 3.12.", "2026-12-03"),
    ("Das Gutachten haben Sie spätestens übermorgen.", MON, "spätestens übermorgen", "2026-11-25"),
    ("Wir streichen den Flur bis zum 18. Dezember.", MON, "bis zum 18. Dezember", "2026-12-18"),
    ("Wir haben Sie für Dienstag, 1.12., um 15 Uhr eingetragen.", MON, "für Dienstag, 1.12., um 15 Uhr",
     "2026-12-01T15:00"),
    ("Ihr Rad steht morgen ab 16 Uhr bereit.", MON, "morgen ab 16 Uhr", "2026-11-24T16:00"),
    ("Wir melden uns noch heute.", MON, "noch heute", "2026-11-23"),
    ("Die Skizze mailen wir heute Nachmittag.", MON, "heute Nachmittag", "2026-11-23"),
    ("Der Prüfer kommt diese Woche noch vorbei.", MON, "diese Woche noch", "2026-11-27"),
    ("Das Logo schicke ich dir bis morgen EOD.", MON, "bis morgen EOD", "2026-11-24"),
    ("I'll send the slides tomorrow.", MON, "tomorrow", "2026-11-24"),
    ("Das Update spielen wir today ein.", MON, "today", "2026-11-23"),
    ("Die Heizung läuft ab heute Abend.", MON, "ab heute Abend", "2026-11-23"),
    ("Der Saal ist für den 12.12. reserviert.", MON, "für den 12.12.", "2026-12-12"),
    # more of German, Monday
    ("Die Bestätigung kommt bis spätestens Mittwoch.", MON, "bis spätestens Mittwoch", "2026-11-25"),
    ("Wir liefern spätestens bis zum 4.12.2026.", MON, "spätestens bis zum 4.12.2026", "2026-12-04"),
    ("Der Termin ist am Mittwoch, 2. Dezember, 14:30 Uhr.", MON, "am Mittwoch, 2. Dezember, 14:30 Uhr",
     "2026-12-02T14:30"),
    ("Wir kommen Fr., 27.11., um 9 Uhr.", MON, "Fr., 27.11., um 9 Uhr", "2026-11-27T09:00"),
    ("Wir rufen Sie um 16.30 Uhr an.", MON, "um 16.30 Uhr", "2026-11-23T16:30"),
    ("Wir rufen Sie um halb drei an.", MON, "um halb drei", "2026-11-23T14:30"),
    ("Wir rufen Sie um drei Uhr an.", MON, "um drei Uhr", "2026-11-23T15:00"),
    ("Bis 15:30 Uhr haben Sie Bescheid.", MON, "Bis 15:30 Uhr", "2026-11-23T15:30"),
    ("Wir melden uns in 2 Werktagen.", MON, "in 2 Werktagen", "2026-11-25"),
    ("Die Ware kommt in 5-7 Werktagen.", MON, "in 5-7 Werktagen", "2026-12-02"),
    ("Innerhalb einer Stunde sind wir da.", MON, "Innerhalb einer Stunde", "2026-11-23T11:00"),
    ("In einer halben Stunde rufe ich an.", MON, "In einer halben Stunde", "2026-11-23T10:30"),
    ("Binnen 48 Stunden erhalten Sie Antwort.", MON, "Binnen 48 Stunden", "2026-11-25T10:00"),
    ("Innerhalb der nächsten 48 Stunden melden wir uns.", MON, "Innerhalb der nächsten 48 Stunden",
     "2026-11-25T10:00"),
    ("Wir liefern in vierzehn Tagen.", MON, "in vierzehn Tagen", "2026-12-07"),
    ("Wir liefern innerhalb eines Monats.", MON, "innerhalb eines Monats", "2026-12-23"),
    ("In sechs Wochen ist alles fertig.", MON, "In sechs Wochen", "2027-01-04"),
    ("In den nächsten zwei Wochen liefern wir.", MON, "In den nächsten zwei Wochen", "2026-12-07"),
    ("Im Laufe des Tages melde ich mich.", MON, "Im Laufe des Tages", "2026-11-23"),
    ("Im Laufe der Woche melde ich mich.", MON, "Im Laufe der Woche", "2026-11-27"),
    ("Bis heute Abend 18 Uhr ist es erledigt.", MON, "Bis heute Abend 18 Uhr", "2026-11-23T18:00"),
    ("Am Montagvormittag kommt der Techniker.", MON, "Am Montagvormittag", "2026-11-30"),
    ("Freitagnachmittag um 3 ist es fertig.", MON, "Freitagnachmittag um 3", "2026-11-27T15:00"),
    ("Übernächste Woche kommt der Kran.", MON, "Übernächste Woche", "2026-12-11"),
    ("Nächste Woche Dienstag kommt der Kran.", MON, "Nächste Woche Dienstag", "2026-12-01"),
    ("Dienstag nächster Woche kommt der Kran.", MON, "Dienstag nächster Woche", "2026-12-01"),
    ("Ich melde mich am nächsten Montag.", MON, "am nächsten Montag", "2026-11-30"),
    ("Ich melde mich diesen Freitag.", MON, "diesen Freitag", "2026-11-27"),
    ("Ab dem 1.1.2027 gilt der neue Tarif.", MON, "Ab dem 1.1.2027", "2027-01-01"),
    ("Ab Januar gilt der neue Tarif.", MON, "Ab Januar", "2027-01-01"),
    ("Im Dezember räumen wir das Lager.", MON, "Im Dezember", "2026-12-31"),
    ("Bis Ende November ist es da.", MON, "Bis Ende November", "2026-11-30"),
    ("Noch vor Weihnachten liefern wir.", MON, "Noch vor Weihnachten", "2026-12-23"),
    ("Bis Weihnachten ist alles fertig.", MON, "Bis Weihnachten", "2026-12-24"),
    ("Zum 1. Januar kündigen wir den Vertrag.", MON, "Zum 1. Januar", "2027-01-01"),
    ("Bis zum 15. erledigen wir das.", MON, "Bis zum 15.", "2026-12-15"),
    ("Im ersten Quartal 2027 stellen wir um.", MON, "Im ersten Quartal 2027", "2027-03-31"),
    ("Bis Ende Q1 ist es fertig.", MON, "Bis Ende Q1", "2027-03-31"),
    ("Bis Ende des Jahres ist es erledigt.", MON, "Bis Ende des Jahres", "2026-12-31"),
    ("Anfang 2027 stellen wir um.", MON, "Anfang 2027", "2027-01-05"),
    ("Anfang nächsten Monats kommt die Gutschrift.", MON, "Anfang nächsten Monats", "2026-12-05"),
    ("Bis Mitte des Monats kommt die Gutschrift.", MON, "Bis Mitte des Monats", "2026-12-15"),
    ("Wir liefern in der 50. Kalenderwoche.", MON, "in der 50. Kalenderwoche", "2026-12-11"),
    ("Wir liefern in KW 3/2027.", MON, "in KW 3/2027", "2027-01-22"),
    ("Wir liefern Ende KW 50.", MON, "Ende KW 50", "2026-12-11"),
    ("Wir melden uns am nächsten Werktag.", MON, "am nächsten Werktag", "2026-11-24"),
    ("Ich melde mich nach dem Wochenende.", MON, "nach dem Wochenende", "2026-11-30"),
    ("Ich schicke es heute in einer Woche.", MON, "heute in einer Woche", "2026-11-30"),
    ("Wir liefern Freitag in zwei Wochen.", MON, "Freitag in zwei Wochen", "2026-12-11"),
    ("Der Monteur kommt am Donnerstag zwischen 8 und 12 Uhr.", MON, "am Donnerstag zwischen 8 und 12 Uhr",
     "2026-11-26"),
    ("Heute Nachmittag um 3 rufe ich an.", MON, "Heute Nachmittag um 3", "2026-11-23T15:00"),
    ("Bis 12 Uhr mittags ist es da.", MON, "Bis 12 Uhr mittags", "2026-11-23T12:00"),
    ("Ich melde mich heute oder morgen.", MON, "heute oder morgen", "2026-11-24"),
    ("Ich melde mich heute, spätestens morgen.", MON, "heute, spätestens morgen", "2026-11-24"),
    ("Wir kommen morgen gegen Mittag.", MON, "morgen gegen Mittag", "2026-11-24"),
    ("Wir kommen morgen im Laufe des Tages.", MON, "morgen im Laufe des Tages", "2026-11-24"),
    ("Wir kommen morgen, den 24.11.", MON, "morgen, den 24.11.", "2026-11-24"),
    ("Nicht später als Freitag bekommen Sie es.", MON, "Nicht später als Freitag", "2026-11-27"),
    ("Send it by EOD.", MON, "by EOD", "2026-11-23"),
    ("Wir melden uns bis Feierabend.", MON, "bis Feierabend", "2026-11-23"),
    ("Am morgigen Dienstag kommt der Kran.", MON, "Am morgigen Dienstag", "2026-11-24"),
    ("Die Ware ist in 2 Wochen bei Ihnen.", MON, "in 2 Wochen", "2026-12-07"),
    ("Wir kümmern uns gleich morgen früh darum.", MON, "gleich morgen früh", "2026-11-24"),
    ("Die Reparatur ist am 2026-12-03 eingeplant.", MON, "am 2026-12-03", "2026-12-03"),
    ("Ich melde mich, sobald ich mehr weiß – spätestens aber am Donnerstag.", MON, "spätestens aber am Donnerstag",
     "2026-11-26"),
    ("Ich melde mich im Laufe des morgigen Tages.", MON, "im Laufe des morgigen Tages", "2026-11-24"),
    ("Wir tauschen den Zähler am Dienstag, den 1. Dezember, zwischen 8 und 10 Uhr.", MON,
     "am Dienstag, den 1. Dezember, zwischen 8 und 10 Uhr", "2026-12-01"),
    ("Die Stornierung bestätigen wir bis morgen Mittag.", MON, "bis morgen Mittag", "2026-11-24"),
    ("Die Gutschrift erfolgt innerhalb der nächsten 5 Werktage.", MON, "innerhalb der nächsten 5 Werktage",
     "2026-11-30"),
    ("Bis zum 1.12. um 12 Uhr brauchen wir Ihre Freigabe.", MON, "Bis zum 1.12. um 12 Uhr", "2026-12-01T12:00"),
    ("Die Lieferung kommt Ende KW51/2026.", MON, "Ende KW51/2026", "2026-12-18"),
    ("Ich melde mich heute bis spätestens 16 Uhr.", MON, "heute bis spätestens 16 Uhr", "2026-11-23T16:00"),
    ("Freitag, spätestens 12 Uhr, haben Sie es.", MON, "Freitag, spätestens 12 Uhr", "2026-11-27T12:00"),
    ("Ab nächster Woche sind wir wieder da.", MON, "Ab nächster Woche", "2026-11-30"),
    ("Ab nächstem Monat gilt der neue Abschlag.", MON, "Ab nächstem Monat", "2026-12-01"),
    ("Gegen Ende der Woche melde ich mich.", MON, "Gegen Ende der Woche", "2026-11-27"),
    ("Vor dem 15. Dezember kommt die Ware.", MON, "Vor dem 15. Dezember", "2026-12-14"),
    ("Zum Monatsersten zahlen wir die Miete.", MON, "Zum Monatsersten", "2026-12-01"),
    ("Zum Quartalsanfang stellen wir um.", MON, "Zum Quartalsanfang", "2027-01-05"),
    ("Bis zur Wochenmitte ist es da.", MON, "Bis zur Wochenmitte", "2026-11-25"),
    ("I will send it by Friday.", MON, "by Friday", "2026-11-27"),
    ("We deliver next week.", MON, "next week", "2026-12-04"),
    ("Wir fixen das bis EOW.", MON, "bis EOW", "2026-11-27"),
    # Friday afternoon
    ("Ich schicke es bis Montag.", FRI, "bis Montag", "2026-11-30"),
    ("Ich schicke es bis Freitag.", FRI, "bis Freitag", "2026-12-04"),
    ("Ende der Woche ist es fertig.", FRI, "Ende der Woche", "2026-11-27"),
    ("Nächsten Dienstag komme ich.", FRI, "Nächsten Dienstag", "2026-12-01"),
    ("Den Ersatz schicken wir Montag los.", FRI, "Montag", "2026-11-30"),
    ("Bis 12 Uhr ist es da.", FRI, "Bis 12 Uhr", "2026-11-28T12:00"),
    ("Bis 16 Uhr ist es da.", FRI, "Bis 16 Uhr", "2026-11-27T16:00"),
    ("Innerhalb von 2 Werktagen ist es da.", FRI, "Innerhalb von 2 Werktagen", "2026-12-01"),
    ("Am Wochenende kommt der Notar.", FRI, "Am Wochenende", "2026-11-28"),
    # month end (Monday 30.11.)
    ("Zum Monatsende rechnen wir ab.", MONTH_END, "Zum Monatsende", "2026-11-30"),
    ("Anfang nächsten Monats kommt es.", MONTH_END, "Anfang nächsten Monats", "2026-12-05"),
    ("Nächste Woche kommt er.", MONTH_END, "Nächste Woche", "2026-12-11"),
    ("Bis 12 Uhr ist es da.", MONTH_END, "Bis 12 Uhr", "2026-12-01T12:00"),
    ("Im nächsten Quartal kommt es.", MONTH_END, "Im nächsten Quartal", "2027-03-31"),
    ("Die Zahlung folgt in einem Monat.", datetime(2027, 1, 31, 9, 0), "in einem Monat", "2027-02-28"),
    # year end (Wednesday 30.12.)
    ("Zum Jahresende kommt es.", YEAR_END, "Zum Jahresende", "2026-12-31"),
    ("Am 2.1. kommt es.", YEAR_END, "Am 2.1.", "2027-01-02"),
    ("Bis zum 5.1. ist es da.", YEAR_END, "Bis zum 5.1.", "2027-01-05"),
    ("In der KW 2 kommt es.", YEAR_END, "In der KW 2", "2027-01-15"),
    ("In drei Tagen ist es da.", YEAR_END, "In drei Tagen", "2027-01-02"),
    ("Innerhalb von 2 Werktagen ist es da.", YEAR_END, "Innerhalb von 2 Werktagen", "2027-01-04"),  # 1.1. off
    ("Nächste Woche kommt er.", YEAR_END, "Nächste Woche", "2027-01-08"),
    ("Vor Weihnachten kommt es.", YEAR_END, "Vor Weihnachten", "2027-12-23"),
    ("Die Abrechnung erhalten Sie in der KW 2.", DEC22, "in der KW 2", "2027-01-15"),
    ("Den Rest erledigen wir Anfang Januar.", DEC22, "Anfang Januar", "2027-01-05"),
    # Sunday evening
    ("Ich schicke es bis Montag.", SUN, "bis Montag", "2026-11-30"),
    ("Nächste Woche kommt er.", SUN, "Nächste Woche", "2026-12-04"),
    ("Diese Woche noch kommt er.", SUN, "Diese Woche noch", "2026-12-04"),
    ("Am Wochenende kommt es.", SUN, "Am Wochenende", "2026-12-05"),
    ("Das kommt morgen.", SUN, "morgen", "2026-11-30"),
    ("Bis 12 Uhr ist es da.", SUN, "Bis 12 Uhr", "2026-11-30T12:00"),
]


@pytest.mark.parametrize(("sentence", "sent", "phrase", "due"), RESOLVED, ids=[c[0][:40] for c in RESOLVED])
def test_resolves_phrase(finder: DeadlineFinder, sentence: str, sent: datetime, phrase: str, due: str) -> None:
    d = only(finder, sentence, sent)
    assert (d.text, d.due_iso()) == (phrase, due)
    assert sentence[d.start:d.end] == phrase
    assert not (d.vague or d.ambiguous or d.event_bound)


def test_clock_time_gives_datetime_and_day_gives_date(finder: DeadlineFinder) -> None:
    assert type(only(finder, "Ich rufe morgen um 9 Uhr an.", MON).due) is datetime
    assert type(only(finder, "Ich rufe morgen an.", MON).due) is date


VAGUE = [
    ("Wir melden uns zeitnah bei Ihnen.", "zeitnah"),
    ("Die Unterlagen kommen schnellstmöglich.", "schnellstmöglich"),
    ("Ich kläre das bald.", "bald"),
    ("Die Tabelle schick ich dir asap.", "asap"),
    ("Sie hören in Kürze von uns.", "in Kürze"),
    ("Demnächst bekommen Sie Post.", "Demnächst"),
    ("Wir kümmern uns umgehend um den Wasserschaden.", "umgehend"),
    ("Das erledigen wir so schnell wie möglich.", "so schnell wie möglich"),
    ("Die Teile kommen in den nächsten Tagen.", "in den nächsten Tagen"),
    ("Den Garten legen wir im Frühjahr an.", "im Frühjahr"),
    ("Wir informieren Sie rechtzeitig.", "rechtzeitig"),
    ("Ich rufe Sie gleich zurück.", "gleich"),
    ("Wir melden uns zu einem späteren Zeitpunkt.", "zu einem späteren Zeitpunkt"),
    ("Die Pakete kommen in ein paar Tagen.", "in ein paar Tagen"),
    ("Wir sorgen für eine zeitnahe Lösung.", "zeitnahe"),
    ("I'll fix it ASAP.", "ASAP"),
    ("Ich melde mich die nächsten Tage.", "die nächsten Tage"),
]


@pytest.mark.parametrize(("sentence", "phrase"), VAGUE)
def test_vague_phrases_have_no_date(finder: DeadlineFinder, sentence: str, phrase: str) -> None:
    d = only(finder, sentence, MON)
    assert (d.text, d.due, d.vague) == (phrase, None, True)
    assert sentence[d.start:d.end] == phrase


@pytest.mark.parametrize(("sentence", "phrase", "due"), [
    ("Wir melden uns zeitnah, spätestens aber bis Freitag.", "zeitnah, spätestens aber bis Freitag", "2026-11-27"),
    ("Ich schicke es asap – spätestens morgen.", "asap – spätestens morgen", "2026-11-24"),
])
def test_vague_phrase_bounded_by_a_date_is_that_date(finder: DeadlineFinder, sentence: str, phrase: str,
                                                     due: str) -> None:
    d = only(finder, sentence, MON)
    assert (d.text, d.due_iso(), d.vague) == (phrase, due, False)


def test_vague_phrase_and_a_later_date_of_another_clause_stay_apart(finder: DeadlineFinder) -> None:
    found = finder.find("Wir melden uns zeitnah. Bis Freitag kommt der Rest.", MON)
    assert [(d.text, d.vague) for d in found] == [("zeitnah", True), ("Bis Freitag", False)]


def test_teams_extend_vague_phrases_without_code() -> None:
    finder = DeadlineFinder(["am Sankt-Nimmerleins-Tag", "irgendwann   mal"])
    found = finder.find("Das zahlen wir am Sankt-Nimmerleins-Tag oder irgendwann mal.", MON)
    assert [(d.text, d.vague) for d in found] == [("am Sankt-Nimmerleins-Tag", True), ("irgendwann mal", True)]


AMBIGUOUS = [
    ("Nächsten Dienstag komme ich vorbei.", MON, "Nächsten Dienstag"),  # tomorrow or in eight days?
    ("Ich melde mich nächsten Freitag.", MON, "nächsten Freitag"),
    ("Wir kommen am Freitag, den 28.11.", MON, "am Freitag, den 28.11."),  # 28.11. is a Saturday
    ("Wir kommen morgen, den 25.11.", MON, "morgen, den 25.11."),
    ("Nächsten Dienstag komme ich vorbei.", datetime(2026, 11, 30, 16, 0), "Nächsten Dienstag"),
]


@pytest.mark.parametrize(("sentence", "sent", "phrase"), AMBIGUOUS)
def test_ambiguous_phrases_are_offered_for_clarification(finder: DeadlineFinder, sentence: str, sent: datetime,
                                                          phrase: str) -> None:
    d = only(finder, sentence, sent)
    assert (d.text, d.due, d.ambiguous, d.vague) == (phrase, None, True, False)


EVENT_BOUND = [
    ("Die Regulierung erfolgt innerhalb von 14 Tagen nach Eingang aller Unterlagen.",
     "innerhalb von 14 Tagen nach Eingang aller Unterlagen"),
    ("Wir erstatten den Betrag innerhalb von 14 Tagen ab Rückerhalt der Ware.",
     "innerhalb von 14 Tagen ab Rückerhalt der Ware"),
    ("Wir löschen die Daten binnen dreißig Tagen nach Vertragsende.", "binnen dreißig Tagen nach Vertragsende"),
    ("Der Betrag wird 10 Tage nach Rechnungsstellung fällig.", "10 Tage nach Rechnungsstellung"),
    ("Das Zeugnis erhalten Sie nach bestandener Prüfung innerhalb von vier Wochen.", "innerhalb von vier Wochen"),
    ("Sobald die Teile da sind, bauen wir sie sofort ein.", "sofort"),
    ("Wenn Sie zustimmen, dann erledigen wir das sofort.", "sofort"),
    ("Sofort nach Zahlungseingang versenden wir die Ware.", "Sofort nach Zahlungseingang"),
    ("Wir liefern nach Freigabe durch Sie in drei Tagen.", "in drei Tagen"),
    ("Wir kommen umgehend nach Eingang Ihrer Zahlung.", "umgehend nach Eingang Ihrer Zahlung"),
]


@pytest.mark.parametrize(("sentence", "phrase"), EVENT_BOUND)
def test_event_bound_deadlines_keep_text_but_get_no_date(finder: DeadlineFinder, sentence: str,
                                                         phrase: str) -> None:
    d = only(finder, sentence, MON)
    assert (d.text, d.due, d.event_bound) == (phrase, None, True)


NOT_DEADLINES = [
    # general service times
    "Unser Notdienst ist innerhalb von zwei Stunden vor Ort.",
    "Wir melden uns in der Regel innerhalb von 24 Stunden.",
    "Wir beantworten jede Anfrage innerhalb von zwei Werktagen.",
    "Wir sind Mo–Fr von 8 bis 17 Uhr erreichbar.",
    "Wir sind montags bis freitags von 8 bis 17 Uhr erreichbar.",
    "Wir sind von Montag bis Freitag für Sie da.",
    "Unser Büro ist täglich bis 18 Uhr besetzt.",
    "Bestellungen bis 14 Uhr versenden wir am selben Tag.",
    "Wir sind rund um die Uhr für Sie da, auch am Wochenende.",
    "Jeden Montag kommt die Müllabfuhr.",
    # numbers that are no dates or times
    "Rufen Sie mich unter 0171 2345678 an.",
    "Die Rechnung 2026-0815 über 1.234,56 € ist bezahlt.",
    "Ihre Bestellnr. 558201 ist eingegangen.",
    "Version 2.1 und 3.12 laufen stabil.",
    "Es gilt die VOB/B, Ihr ID.4 ist versichert.",
    "Laut § 3.1 gilt das.",
    "Die Miete wurde um 12 erhöht.",
    "Der Preis steigt um 5 Prozent.",
    "Das Seminar dauert 3 Tage.",
    "Der Estrich muss drei Wochen trocknen.",
    "Die Temperatur lag bei 12.5 Grad.",
    "Am 31.11. gibt es nicht.",
    # times of the past and references
    "Heute um 9 Uhr haben wir telefoniert.",
    "Gestern habe ich angerufen.",
    "Seit Montag ist die Heizung kaputt.",
    "Letzten Freitag haben wir geliefert.",
    "Die Rechnung vom 20.11. liegt vor.",
    "Am 20.11. haben wir geliefert.",
    "Ihre Mail vom 12.11.2026 haben wir erhalten.",
    "Bis heute haben wir keine Antwort erhalten.",
    "Das ändert sich nicht von heute auf morgen.",
    # words that only look like deadline words
    "Guten Morgen Herr Maier.",
    "Am Morgen war es kalt.",
    "Frau Mai ruft Sie an.",
    "Pro Woche liefern wir zweimal.",
    "Die Woche war anstrengend.",
    "Frohe Weihnachten und einen guten Rutsch!",
    "Über das Wochenende trocknet der Putz.",
    "Ich wünsche Ihnen einen schönen Feierabend.",
    "Das ist ein Jahresende-Angebot.",
    "Bis bald und viele Grüße!",
    "Bis später!",
    "Die Preise bleiben gleich.",
    "Das ist mir gleich.",
    "Die Mitte der Straße ist gesperrt.",
]


@pytest.mark.parametrize("sentence", NOT_DEADLINES)
def test_not_a_deadline(finder: DeadlineFinder, sentence: str) -> None:
    assert [(d.text, d.due_iso()) for d in finder.find(sentence, MON)] == []


def test_spans_in_a_longer_text_are_ordered_exact_and_disjoint(finder: DeadlineFinder) -> None:
    text = ("Guten Tag Frau Berger,\n\nden Kostenvoranschlag schicke ich Ihnen bis Freitag, die Fliesen kommen "
            "in der KW 50 und der Fliesenleger zeitnah danach. Rückfragen beantworte ich gern morgen ab 9 Uhr.\n")
    found = finder.find(text, MON)
    assert [(d.text, d.due_iso(), d.vague) for d in found] == [
        ("bis Freitag", "2026-11-27", False), ("in der KW 50", "2026-12-11", False), ("zeitnah", None, True),
        ("morgen ab 9 Uhr", "2026-11-24T09:00", False)]
    assert all(text[d.start:d.end] == d.text for d in found)
    assert all(a.end <= b.start for a, b in pairwise(found))


def test_offsets_survive_characters_that_grow_when_lowercased(finder: DeadlineFinder) -> None:
    text = "İstanbul-Lieferung: wir liefern bis Freitag."
    d = only(finder, text, MON)
    assert text[d.start:d.end] == "bis Freitag" and d.due_iso() == "2026-11-27"


def test_sent_time_with_a_zone_counts_as_the_writers_clock(finder: DeadlineFinder) -> None:
    aware = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    d = only(finder, "Sie haben es bis 12 Uhr.", aware)
    assert d.due == datetime(2026, 11, 23, 12, 0) and is_tight(d, aware)


def test_empty_and_deadline_free_text(finder: DeadlineFinder) -> None:
    assert finder.find("", MON) == []
    assert finder.find("Vielen Dank für Ihre Nachricht.", MON) == []
    assert DeadlineFinder().find("Wir melden uns zeitnah.", MON) == []  # no vague phrases configured


WORDS = ["bis", "am", "zum", "in", "der", "KW", "Ende", "Anfang", "nächste", "Woche", "Freitag", "morgen", "heute",
         "Uhr", "um", "Dezember", "innerhalb", "von", "Tagen", "nach", "Eingang", "zeitnah", "wie", "seit", "so",
         "Fr.", "Mo", "1.12.", "31.11.", "24", "12:00", "2026", "0,5", "1.234,56", "–", "(", ")", ",", ".", "\n",
         "İ", "ß", "zwischen", "und", "halb", "drei", "Q1", "Quartal", "Weihnachten", "vor", "sofort", "dann"]


SALAD_FINDER = DeadlineFinder(["zeitnah", "so schnell wie möglich"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=30), st.datetimes(min_value=datetime(2020, 1, 1),
                                                                   max_value=datetime(2035, 12, 31)))
def test_any_word_salad_gives_exact_disjoint_spans(words: list[str], sent: datetime) -> None:
    text = " ".join(words)
    found = SALAD_FINDER.find(text, sent)
    for d in found:
        assert 0 <= d.start < d.end <= len(text) and text[d.start:d.end] == d.text
        day = d.due.date() if isinstance(d.due, datetime) else d.due
        assert day is None or day >= sent.date()  # never a time of the past
    assert all(a.end <= b.start for a, b in pairwise(found))


# --- helpers for hovers and quick fixes -----------------------------------------------------------------

def test_format_due_de() -> None:
    assert format_due_de(date(2026, 11, 27)) == "Freitag, 27.11.2026"
    assert format_due_de(datetime(2026, 12, 1, 14, 0)) == "Dienstag, 1.12.2026, 14:00 Uhr"
    assert format_due_de(date(2027, 1, 5)) == "Dienstag, 5.1.2027"


@pytest.mark.parametrize(("sent", "expected"), [
    (MON, [("bis morgen, 24.11.", date(2026, 11, 24)), ("bis Freitag, 27.11.", date(2026, 11, 27)),
           ("bis Montag, 30.11.", date(2026, 11, 30)), ("bis Freitag, 4.12.", date(2026, 12, 4))]),
    (FRI, [("bis Montag, 30.11.", date(2026, 11, 30)), ("bis Freitag, 4.12.", date(2026, 12, 4)),
           ("bis Freitag, 11.12.", date(2026, 12, 11))]),
    (SUN, [("bis morgen, 30.11.", date(2026, 11, 30)), ("bis Freitag, 4.12.", date(2026, 12, 4)),
           ("bis Freitag, 11.12.", date(2026, 12, 11))]),
    # Thursday before Easter: Karfreitag, the weekend and Ostermontag are skipped
    (datetime(2027, 3, 25, 9, 0), [("bis Dienstag, 30.3.", date(2027, 3, 30)),
                                   ("bis Mittwoch, 31.3.", date(2027, 3, 31)),
                                   ("bis Freitag, 2.4.", date(2027, 4, 2)), ("bis Freitag, 9.4.", date(2027, 4, 9))]),
])
def test_concrete_date_options(sent: datetime, expected: list[tuple[str, date]]) -> None:
    options = concrete_date_options(sent)
    assert options == expected
    assert 3 <= len(options) <= 4 and all(is_workday(d) and d > sent.date() for _, d in options)


@pytest.mark.parametrize(("sentence", "tight"), [
    ("Wir melden uns innerhalb von 24 Stunden mit einer Lösung.", True),
    ("Ich schicke Ihnen die Unterlagen heute bis 12 Uhr.", True),
    ("Innerhalb einer Stunde sind wir da.", True),
    ("Um 16.30 Uhr rufe ich an.", True),
    ("Ich melde mich heute.", False),
    ("Ich schicke es Ihnen heute Nachmittag.", False),
    ("Ich rufe morgen um 9 Uhr an.", False),
    ("Wir liefern in drei Tagen.", False),
    ("Wir melden uns zeitnah.", False),
])
def test_is_tight(finder: DeadlineFinder, sentence: str, tight: bool) -> None:
    assert is_tight(only(finder, sentence, MON), MON) is tight


def test_calendar_knows_easter_and_german_holidays() -> None:
    assert [easter(y) for y in (2025, 2026, 2027)] == [date(2025, 4, 20), date(2026, 4, 5), date(2027, 3, 28)]
    assert {date(2026, 10, 3), date(2026, 12, 25), date(2026, 4, 3), date(2026, 5, 25)} <= holidays(2026)
    assert add_workdays(date(2026, 12, 23), 2) == date(2026, 12, 28)  # 25./26.12. and the weekend skipped


def test_vague_rule_file_is_valid_and_german() -> None:
    rule = load_rule_file(Path(RULES_DIR / "VagueDeadlines.toml"))
    assert rule.kind == "vague" and len(rule.phrases) >= 40
    assert "{trigger}" in rule.message and "Vertrauen" in rule.reason


def test_bare_clock_time_takes_the_day_named_before_it() -> None:
    sent = datetime(2026, 12, 17, 15, 10)
    found = DeadlineFinder().find("Am Samstag steht die Technik um 17 Uhr, der DJ ist um 19 Uhr da.", sent)
    assert [(d.text, d.due_iso()) for d in found] == [
        ("Am Samstag", "2026-12-19"), ("um 17 Uhr", "2026-12-19T17:00"), ("um 19 Uhr", "2026-12-19T19:00")]


def test_auf_jeden_fall_is_no_service_time() -> None:
    sent = datetime(2026, 12, 17, 15, 10)
    text = "Der Gutachter meldet sich innerhalb von 48 Stunden, die Kosten übernehmen wir auf jeden Fall."
    assert [d.due_iso() for d in DeadlineFinder().find(text, sent)] == ["2026-12-19T15:10"]

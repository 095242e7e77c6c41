"""Jargon finder: anglicisms, technical terms and officialese from the lexicon, with exact spans."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexicon import RULES_DIR, LexiconError, load_lexicon, load_rule_file
from server.engine import Engine, Jargon
from server.engine.jargon import _PLAIN_WORDS, JargonFinder
from tests.conftest import MONDAY

JARGON_RULES = ("Anglicisms", "TechnicalTerms", "Officialese")
Find = Callable[[str], list[Jargon]]


@pytest.fixture(scope="module")
def find(engine: Engine) -> Find:
    """The engine's finder applied to one paragraph (the engine is built once per session)."""

    def run(text: str) -> list[Jargon]:
        return engine.jargon_finder.find(engine.nlp(text))

    return run


def spans(found: list[Jargon], text: str) -> list[str]:
    """The flagged text of each finding; also checks that `term` is exactly that text."""
    for j in found:
        if "…" not in j.term:
            assert text[j.start:j.end] == j.term
    return [text[j.start:j.end] for j in found]


@pytest.mark.parametrize(
    ("text", "term", "kind", "plain"),
    [
        ("Wir haben für das Event 120 Zusagen.", "Event", "anglicism", "Veranstaltung"),
        ("Das Moodboard schicke ich dir bis morgen EOD.", "EOD", "anglicism", "bis Tagesende"),
        ("Wir liefern am Freitag, no matter what.", "no matter what", "anglicism", "auf jeden Fall"),
        ("Die Nebenkostenabrechnung schick ich dir asap.", "asap", "anglicism", "so schnell wie möglich"),
        ("FYI: der Raum ist gebucht.", "FYI", "anglicism", "zur Info"),
        ("Der Go-live ist für den 1. Dezember geplant.", "Go-live", "anglicism", "Start"),
        ("Wir bestätigen die vorläufige Deckungszusage.", "Deckungszusage", "technical",
         "vorläufiger Versicherungsschutz"),
        ("Die Kosten verteilen wir nach dem Umlageschlüssel.", "Umlageschlüssel", "technical",
         "Aufteilung der Kosten"),
        ("Der Selbstbehalt beträgt 300 Euro.", "Selbstbehalt", "technical", "Eigenanteil"),
        ("Die Abschlagszahlung ist am 1. fällig.", "Abschlagszahlung", "technical", "Teilzahlung"),
        ("Ihr Ticket ist beim Support.", "Ticket", "technical", "Anfrage"),
        ("Anbei die angepasste Leistungsbeschreibung.", "Anbei", "officialese", "im Anhang"),
        ("Seitens der Verwaltung ist alles erledigt.", "Seitens", "officialese", "von"),
        ("Zwecks Terminabsprache rufen wir an.", "Zwecks", "officialese", "für"),
        ("Die Zahlung ist bereits angewiesen.", "angewiesen", "officialese", "veranlasst"),
        ("Hiermit teilen wir Ihnen mit, dass der Termin entfällt.", "Hiermit teilen wir Ihnen mit",
         "officialese", "wir möchten Sie informieren"),
        ("Seitens der Verwaltung besteht kein Handlungsbedarf.", "besteht kein Handlungsbedarf",
         "officialese", "Sie müssen nichts unternehmen"),
    ],
)
def test_each_kind_is_found_with_plain_alternative(find: Find, text: str, term: str, kind: str, plain: str) -> None:
    found = [j for j in find(text) if j.term == term]
    assert len(found) == 1, spans(find(text), text)
    assert found[0].kind == kind
    assert found[0].plain[0] == plain
    assert term in found[0].message and plain in found[0].message
    assert found[0].rule_id == "versprochen." + {"anglicism": "Anglicisms", "technical": "TechnicalTerms",
                                                   "officialese": "Officialese"}[kind]
    assert found[0].reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bitte tragt eure Slots im Kalender ein.", ["Slots"]),
        ("Die offenen To-dos klären wir morgen.", ["To-dos"]),
        ("Alle Updates sind installiert.", ["Updates"]),
        ("Die Police folgt nach Eingang des SEPA-Mandats.", ["SEPA-Mandats"]),
        ("Hast du die Kollegen schon gebrieft?", ["gebrieft"]),
        ("Die Location ist für euch geblockt.", ["Location", "geblockt"]),
        ("Wir haben das Release gestern upgedatet.", ["Release", "upgedatet"]),
        ("Die Stakeholdern gefällt das nicht.", ["Stakeholdern"]),
        ("Die Unterlagen haben wir Ihnen übersandt.", ["übersandt"]),
        ("Beide Deckungszusagen liegen vor.", ["Deckungszusagen"]),
        ("Ich hab das gecheckt und committe mich darauf.", ["gecheckt", "committe"]),
        ("Bitte lassen Sie den Betrag bis Freitag anweisen, sonst fällt eine Zahlung aus.", ["anweisen"]),
    ],
)
def test_inflected_forms_are_found(find: Find, text: str, expected: list[str]) -> None:
    assert spans(find(text), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Die Belege aus Ihrem Upload-Portal übernehmen wir.", ["Upload-Portal"]),
        ("Ihr Ticket liegt beim 2nd-Level-Support.", ["Ticket", "2nd-Level-Support"]),
        ("Der Fehler liegt an der Druckerkonfiguration.", ["Druckerkonfiguration"]),
        ("Das Kick-Off-Meeting ist am Montag.", ["Kick-Off-Meeting"]),
        ("Kurzes Teammeeting um zehn?", ["Teammeeting"]),
        ("Die Eventlocation ist gebucht.", ["Eventlocation"]),
        ("Das Service-Level-Agreement regelt die Reaktionszeit.", ["Service-Level-Agreement"]),
        ("Der Feedbackbogen liegt bei.", ["Feedbackbogen"]),
    ],
)
def test_compounds_are_flagged_as_the_whole_word(find: Find, text: str, expected: list[str]) -> None:
    assert spans(find(text), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bezug nehmend auf unser Telefonat übersenden wir Ihnen anbei das Nachtragsangebot gemäß VOB/B.",
         ["Bezug nehmend auf", "übersenden", "anbei", "Nachtragsangebot", "VOB/B"]),
        ("Könnten Sie uns die Rechnung zukommen lassen?", ["zukommen lassen"]),
        ("Wir bitten Sie, uns die Belege zukommen zu lassen.", ["zukommen zu lassen"]),
        ("Bitte halten Sie Rücksprache mit Ihrer Bank.", ["halten Sie Rücksprache"]),
        ("Vorsorglich weisen wir darauf hin, dass die Frist endet.", ["Vorsorglich weisen wir darauf hin"]),
        ("Wir werden Sie in Kenntnis setzen.", ["in Kenntnis setzen"]),
        ("Das machen wir, no matter what!", ["no matter what"]),
        ("Bitte bis morgen EOD, FYI.", ["EOD", "FYI"]),
    ],
)
def test_phrases_match_in_order(find: Find, text: str, expected: list[str]) -> None:
    assert spans(find(text), text) == expected


def test_particle_split_phrase_spans_the_gap(find: Find) -> None:
    text = "Lassen Sie uns bitte die unterschriebene Vollmacht bis Freitag zukommen."
    (found,) = find(text)
    assert text[found.start:found.end] == "Lassen Sie uns bitte die unterschriebene Vollmacht bis Freitag zukommen"
    assert found.term == "Lassen … zukommen"
    assert found.kind == "officialese" and found.plain[0] == "„Schicken Sie uns …“"


@pytest.mark.parametrize(
    "text",
    [
        "Lassen Sie das. Die Ware wird Ihnen morgen zukommen.",  # a sentence end between the parts
        "Wir lassen die Tür offen, damit die Luft zukommen kann.",  # a comma between the parts
    ],
)
def test_gaps_stay_inside_one_clause(find: Find, text: str) -> None:
    assert spans(find(text), text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Unser Team und unser Service sind online und per E-Mail für Sie da.",
        "Ihr Handy, Ihr Computer und das Internet funktionieren wieder, okay?",
        "Die Software auf Ihrem Laptop ist aktuell, die Website auch.",
        "Eventuell verschiebt sich der Termin um einen Tag.",
        "Die Briefe und der Notizblock liegen auf dem Tisch.",
        "Ihr Bahnticket und die Flugtickets finden Sie im Anhang.",
        "Das Ticket für den Zug nach Hamburg ist gebucht.",
        "Wir sind auf Ihre Mithilfe angewiesen.",
        "Ich habe den Monteur angewiesen, die Tür abzudichten.",
        "Die Krankenhäuser und Ferienhäuser in der Gegend sind belegt.",
        "Den Versicherungsschein schicken wir per Post.",
        "Die Gewerkschaft hat gestreikt, das Nachschlagewerk ist vergriffen.",
        "Unser Büro liegt in der Calle Mayor in Madrid.",
        "Der Leihwagen steht Ihnen bis zum Abschluss der Reparatur zur Verfügung.",
        "Wir bestätigen Ihnen hiermit die Kündigung, die Bestätigung liegt dieser Mail bei.",
        "Bitte teilen Sie mir mit, wann die Lieferung kommt.",
        "Nach Rücksprache mit Ihrem Arzt können Sie die Tabletten absetzen.",
        "Die finalen Entwürfe kommen am Freitag, das Budget passt.",
        "Der Weg zur Werkstatt ist ausgeschildert, der Igel im Garten auch.",
    ],
)
def test_everyday_german_is_not_flagged(find: Find, text: str) -> None:
    assert spans(find(text), text) == []


@pytest.mark.parametrize(
    ("text", "flagged", "kind"),
    [
        # Officialese of insurers, banks, authorities and landlords, inflected and with gaps.
        ("Die Überweisung wurde mangels Kontodeckung nicht ausgeführt.", "mangels Kontodeckung", "officialese"),
        ("Ihr Antrag wurde positiv beschieden.", "positiv beschieden", "officialese"),
        ("Die Fahrtkosten haben wir mit 30 Euro in Ansatz gebracht.", "in Ansatz gebracht", "officialese"),
        ("Gegen den Bescheid kann Widerspruch erhoben werden.", "Widerspruch erhoben", "officialese"),
        ("Wir haben insoweit keine Einwände.", "insoweit", "officialese"),
        ("Die Unterlagen entnehmen Sie bitte dem Anhang.", "entnehmen Sie bitte", "officialese"),
        ("Die Kopie ist für Ihre Akten.", "für Ihre Akten", "officialese"),
        ("Wir erachten die Reparatur als notwendig.", "erachten", "officialese"),
        ("Im Rahmen der Wartung ist das Wasser abgestellt.", "Im Rahmen der", "officialese"),
        ("Nach Rücksprache mit unserer Fachabteilung bleibt es dabei.", "Nach Rücksprache mit", "officialese"),
        # Terms of trades.
        ("Die Dichtheitsprüfung der Gasleitung ist bestanden.", "Dichtheitsprüfung", "technical"),
        ("Die Fensterlaibung wird noch verputzt.", "Fensterlaibung", "technical"),
        ("Bitte schicken Sie uns die eVB-Nummer.", "eVB-Nummer", "technical"),
        ("Das Urteil ist seit gestern rechtskräftig.", "rechtskräftig", "technical"),
        ("Die Klageerwiderung geht morgen raus.", "Klageerwiderung", "technical"),
        ("Das Keramikinlay ist fertig.", "Keramikinlay", "technical"),
        ("Nach dem Firmware-Update startet der Router neu.", "Firmware-Update", "technical"),
        ("Die Zahllast für November ist gering.", "Zahllast", "technical"),
        ("Die Vorauszahlung zur Einkommensteuer wird gesenkt.", "Vorauszahlung", "technical"),
        ("Die Abdichtung erfolgt nach DIN 18534.", "nach DIN", "technical"),
        # Anglicisms of team chat, with German participles.
        ("Sorry, das hatte ich übersehen.", "Sorry", "anglicism"),
        ("Der Termin ist gecancelt.", "gecancelt", "anglicism"),
        ("Wir haben die Rechnung gesplittet.", "gesplittet", "anglicism"),
        ("Die neue Version ist seit heute deployed.", "deployed", "anglicism"),
        ("Wir gehen am Montag live.", "gehen am Montag live", "anglicism"),
        ("Die Assets liegen im Shared Drive.", "Assets", "anglicism"),
        ("Das QA-Team testet morgen.", "QA-Team", "anglicism"),
    ],
)
def test_second_pass_terms_are_found(find: Find, text: str, flagged: str, kind: str) -> None:
    """The broadened lists find their words inflected, in compounds and across a gap."""
    found = find(text)
    assert flagged in spans(found, text)
    assert next(j for j in found if text[j.start:j.end] == flagged).kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "Wir liefern nur gegen Vorauszahlung auf unser Konto.",  # a shop's wording, not a tax term
        "Das ist eine genetische Veranlagung, sagt die Ärztin.",
        "Bitte drucken Sie das Formular nach DIN A4 aus.",
        "Da kommen wir vom Regen in die Traufe.",
        "Unsere MFA ruft Sie morgen wegen des Termins an.",
        "Das ist nur ein Provisorium, bis die neue Tür kommt.",
        "Die fixen Kosten bleiben gleich.",
        "Zu Weihnachten schicken wir Aachener Printen.",
        "Der Estrich muss drei Wochen trocknen.",
        "Wir kümmern uns umgehend um den Schimmel im Bad.",
        "Die Mappen liegen am Empfang bereit.",
        "Vielen Dank für Ihre Geduld, wir melden uns.",
        "Einem Termin am Montag steht nichts im Wege.",
    ],
)
def test_second_pass_leaves_everyday_german_alone(find: Find, text: str) -> None:
    """Words left out or limited on purpose: paper sizes, idioms, practice staff, shop terms."""
    assert spans(find(text), text) == []


@pytest.mark.parametrize(
    "text",
    ["Hi Jule,", "Hey Tim,", "Cheers", "Best", "Best regards", "LG", "VG", "Thanks!", "Viele Grüße",
     "Hi Jule,\n\ndanke dir!\n\nCheers\nKai", "Hey ihr Lieben,\n\nbis morgen.\n\nBest\nTanja"],
)
def test_greetings_and_sign_offs_are_not_flagged(find: Find, text: str) -> None:
    assert spans(find(text), text) == []


@pytest.mark.parametrize(
    "text",
    ["i'll send you the file tomorrow, versprochen", "Please send me the update and the invoice today."],
)
def test_english_sentences_are_not_german_with_anglicisms(find: Find, text: str) -> None:
    assert spans(find(text), text) == []


def test_case_sensitive_abbreviations(find: Find) -> None:
    text = "Die WEG hat die IGeL-Leistung abgelehnt, der Igel ist weg."
    assert spans(find(text), text) == ["WEG", "IGeL-Leistung"]


def test_period_glued_to_a_term_stays_outside_the_span(find: Find) -> None:
    text = "Wir arbeiten nach VOB/B.\nMehr bzgl. der Kosten folgt."
    assert spans(find(text), text) == ["VOB/B", "bzgl."]


def test_context_word_inside_a_compound_suppresses_the_term(find: Find) -> None:
    text = "Die Zahlung ist angewiesen. Ihr Rückflugticket und das Ticket liegen bei."
    assert spans(find(text), text) == ["angewiesen"]


def test_longest_match_wins_and_findings_never_overlap(find: Find) -> None:
    text = "Es besteht kein Handlungsbedarf, das Service Level Agreement gilt ab dem Kick-off Meeting."
    assert spans(find(text), text) == ["Es besteht kein Handlungsbedarf", "Service Level Agreement",
                                       "Kick-off", "Meeting"]


WORDS = ["Meeting", "Kick-off", "Meeting", "anbei", "Bezug", "nehmend", "auf", "kein", "Handlungsbedarf",
         "besteht", "zukommen", "lassen", "Sie", "uns", "die", "Rechnung", ",", ".", "\n", "Upload-Portal",
         "Ticket", "Bahn", "Service", "Level", "Agreement", "VOB/B", "Team", "eventuell", "gebrieft", "Slots"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=40))
def test_random_text_gives_sorted_exact_disjoint_spans(engine: Engine, words: list[str]) -> None:
    text = " ".join(words)
    found = engine.jargon_finder.find(engine.nlp(text))
    assert engine.jargon_finder.find(engine.nlp(text)) == found  # the token cache changes nothing
    for a, b in itertools.pairwise(found):
        assert a.end <= b.start
    for j in found:
        assert 0 <= j.start < j.end <= len(text)
        if "…" not in j.term:
            assert text[j.start:j.end] == j.term


def test_docs_without_the_pipelines_token_table_give_the_same_findings(engine: Engine) -> None:
    text = "Anbei das Update zum Kick-off, gemäß VOB/B.\nLassen Sie uns die Belege bitte zukommen."
    with_table = engine.jargon_finder.find(engine.nlp(text))
    plain_doc = engine.nlp.make_doc(text)  # a bare spaCy Doc: the finder reads spaCy's arrays
    assert engine.jargon_finder.find(plain_doc) == with_table
    assert spans(with_table, text) == ["Anbei", "Update", "Kick-off", "VOB/B",
                                       "Lassen Sie uns die Belege bitte zukommen"]


def test_accepted_words_are_not_flagged_in_any_form(engine: Engine) -> None:
    lexicon = dataclasses.replace(engine.lexicon, accepted=frozenset({"meeting", "kick-off", "nach massgabe"}))
    finder = JargonFinder(lexicon, engine.nlp.nlp)
    text = "Nach dem Kickoff und zwei Meetings kam das Feedback nach Maßgabe der Regeln."
    assert spans(finder.find(engine.nlp(text)), text) == ["Feedback"]


def test_only_the_writers_new_text_is_checked(engine: Engine) -> None:
    text = ("Hallo Herr Arnold,\n\ndas Angebot kommt morgen.\n\nViele Grüße\nAnna\n\n"
            "> Am 18.11.2026 schrieb Tom:\n> Bitte schicken Sie das Update asap.")
    assert engine.analyze(text, MONDAY).jargon == ()


def test_engine_offsets_are_relative_to_the_whole_text(engine: Engine) -> None:
    text = "Hallo Frau Dietz,\n\nwir haben für das Event 120 Zusagen.\n\nViele Grüße\nEva"
    (found,) = engine.analyze(text, MONDAY).jargon
    assert text[found.start:found.end] == "Event"


@pytest.mark.parametrize("name", JARGON_RULES)
def test_rule_files_give_every_term_a_plain_alternative(name: str) -> None:
    rule = load_rule_file(RULES_DIR / f"{name}.toml")
    assert rule.kind == "substitution"
    assert rule.option("jargon_kind") in ("anglicism", "technical", "officialese")
    assert rule.terms
    assert "{term}" in rule.message and "{plain}" in rule.message
    seen: set[str] = set()
    for term in rule.terms:
        assert term.plain and all(p.strip() for p in term.plain), term.term
        assert term.term.casefold() not in seen, f"{name}: {term.term} twice"
        seen.add(term.term.casefold())


def test_terms_skipping_the_tokenizer_tokenize_as_spacy_would(engine: Engine) -> None:
    """Plain-word terms are split on spaces instead of tokenized: that must give spaCy's tokens."""
    for name in JARGON_RULES:
        for term in engine.lexicon.rules[name].terms:
            for segment in term.term.split("…"):
                if _PLAIN_WORDS.fullmatch(segment.strip()):
                    assert segment.split() == [t.text for t in engine.nlp.make_doc(segment.strip())], term.term


def test_gapped_terms_offer_patterns_not_replacements() -> None:
    """A gap spans the writer's own words: a one-word replacement of the whole span would lose them."""
    for name in JARGON_RULES:
        for term in load_rule_file(RULES_DIR / f"{name}.toml").terms:
            if "…" in term.term:
                assert all("…" in p or "formulieren" in p for p in term.plain), term.term


def test_every_term_of_the_three_files_matches_itself(engine: Engine) -> None:
    """Each listed term, written as listed, is found by its own rule (context terms in context)."""
    contexts = {"angewiesen": "Die Zahlung ist {} worden.", "anweisen": "Wir {} die Zahlung.",
                "anzuweisen": "Die Zahlung ist {}.", "beibringen": "Bitte die Unterlagen {}.",
                "regulieren": "Wir {} den Schaden.", "Regulierung": "Die {} des Schadens.",
                "Migration": "Die {} der Daten läuft.",
                "Indikation": "Die {} für die Behandlung ist gegeben.",
                "Vorauszahlung": "Die {} zur Einkommensteuer ist fällig."}
    missing = []
    for name in JARGON_RULES:
        for term in engine.lexicon.rules[name].terms:
            sample = contexts.get(term.term, "Text {} Text.").format(term.term.replace("…", "und dann"))
            if not any(j.rule == name for j in engine.jargon_finder.find(engine.nlp(sample))):
                missing.append(f"{name}: {term.term}")
    assert missing == []


def test_counts_are_broad_enough() -> None:
    lexicon = load_lexicon()
    counts = {name: len(lexicon.rules[name].terms) for name in JARGON_RULES}
    assert counts["Anglicisms"] >= 250 and counts["TechnicalTerms"] >= 120 and counts["Officialese"] >= 100


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[[context]]\nterm = "Nichtda"\nunless = ["x"]\n', "context[0].term"),
        ('[[context]]\nterm = "Zählerstand"\nonly_with = "x"\n', "context[0].only_with"),
        ('[verb_forms]\n"zählen" = "gezählt"\n', "verb_forms"),
    ],
)
def test_bad_options_name_file_and_key(engine: Engine, tmp_path: Path, extra: str, key: str) -> None:
    path = tmp_path / "TeamWords.toml"
    path.write_text(
        'kind = "substitution"\njargon_kind = "technical"\nmessage = "{term}: besser {plain}"\n'
        'reason = "Kunden kennen das Wort nicht."\nterms = [{ term = "Zählerstand", plain = ["Ablesung"] }]\n'
        + extra + '[examples]\nfail = ["Der Zählerstand."]\npass = ["Wir lesen ab."]\n', encoding="utf-8")
    with pytest.raises(LexiconError) as info:
        JargonFinder(load_lexicon([tmp_path]), engine.nlp.nlp)
    assert "TeamWords.toml" in str(info.value) and key in str(info.value)


def test_bad_message_placeholder_is_a_clear_error(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "TeamWords.toml").write_text(
        'kind = "substitution"\njargon_kind = "technical"\nmessage = "{wort} ist schwer"\n'
        'reason = "Kunden kennen das Wort nicht."\nterms = [{ term = "Zählerstand", plain = ["Ablesung"] }]\n'
        '[examples]\nfail = ["Der Zählerstand."]\npass = ["Wir lesen ab."]\n', encoding="utf-8")
    with pytest.raises(LexiconError, match=r"TeamWords\.toml: message"):
        JargonFinder(load_lexicon([tmp_path]), engine.nlp.nlp)

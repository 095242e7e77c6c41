"""Deliveries: hand-overs and done reports, their objects and spans, promise matching, the rewrite."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lexicon import Lexicon, LexiconError, load_lexicon, load_rule_file
from server.engine import Engine
from server.engine.deliveries import (
    DeliveryFinder,
    match_deliveries,
    promise_nouns,
    same_thing,
    wie_versprochen_rewrite,
)
from server.engine.delivery_clauses import segments, token_rows, windows
from server.engine.delivery_patterns import compile_pattern
from server.engine.types import Delivery, Promise, Severity
from tests.conftest import MONDAY

# (sentence, object, phrased): one delivery each, from many trades.
POSITIVES = [
    ("Anbei erhalten Sie das Angebot für den VW ID.4 inklusive Wartungspaket.", "Angebot", False),
    ("Hallo Frau Gerlach, hier die Kopie des Mietvertrags.", "Mietvertrag", False),
    ("Ihre neuen Zugangsdaten finden Sie im Anhang.", "Zugangsdaten", False),
    ("Die Bestätigung liegt dieser Mail bei.", "Bestätigung", False),
    ("Die Abrechnung ist fertig, ich schicke sie Ihnen heute Nachmittag.", "Abrechnung", False),
    ("Die Datenwiederherstellung ist abgeschlossen.", "Datenwiederherstellung", False),
    ("Hallo Herr Sander, die Inspektion ist durch, es war alles in Ordnung.", "Inspektion", False),
    ("Ihr Zahnersatz ist aus dem Labor zurück.", "Zahnersatz", False),
    ("Die Schuhe in Größe 42 haben wir Ihnen heute schon zugeschickt.", "Schuhe", False),
    ("Wir bestätigen Ihnen hiermit die vorläufige Deckungszusage ab dem 1. Dezember.", "Deckungszusage", False),
    ("Ihr Antrag auf Kostenübernahme wurde bewilligt.", "Kostenübernahme", False),
    ("Die Zahlung ist bereits angewiesen.", "Zahlung", False),
    ("Die Datenschutzerklärung wurde angepasst und ist ab sofort online.", "Datenschutzerklärung", False),
    ("Wie angekündigt haben wir heute die Software Ihres Fahrzeugs aktualisiert.", "Software", True),
    ("Im Anhang finden Sie die Nebenkostenabrechnung für 2025.", "Nebenkostenabrechnung", False),
    ("Hier ist der Kostenvoranschlag für die neue Heizung.", "Kostenvoranschlag", False),
    ("Beigefügt erhalten Sie Ihr Arbeitszeugnis.", "Arbeitszeugnis", False),
    ("Ihr Auto ist fertig und kann ab sofort abgeholt werden.", "Auto", False),
    ("Wir haben den Wasserhahn in der Küche ausgetauscht.", "Wasserhahn", False),
    ("Ihre Steuererklärung 2025 haben wir heute beim Finanzamt eingereicht.", "Steuererklärung", False),
    ("Ihr Internetanschluss ist seit heute Morgen freigeschaltet.", "Internetanschluss", False),
    ("Die Kaution haben wir Ihnen heute überwiesen.", "Kaution", False),
    ("Ihre Bestellung wurde heute versandt, die Sendungsnummer lautet 00340434.", "Bestellung", False),
    ("Wie besprochen, hier die überarbeitete Version des Logos.", "Logo", True),
    ("Das versprochene Gutachten finden Sie im Anhang.", "Gutachten", True),
    ("Ihre neue Brille ist da und kann abgeholt werden.", "Brille", False),
    ("Gerne bestätige ich Ihnen den Termin am Donnerstag um 14 Uhr.", "Termin", False),
    ("Unser Techniker hat die Störung an Ihrer Telefonanlage behoben.", "Störung", False),
    ("Die Mängel aus der Abnahme sind beseitigt.", "Mängel", False),
    ("Mit dieser Mail erhalten Sie die Zugangsdaten für das WLAN.", "Zugangsdaten", False),
    ("Den Vertragsentwurf habe ich Ihnen angehängt.", "Vertragsentwurf", False),
    ("Die Hausordnung reiche ich Ihnen hiermit nach.", "Hausordnung", False),
    ("Ich habe Ihnen die Datei eben noch einmal geschickt.", "Datei", False),
    ("Ich hänge Ihnen den Screenshot an.", "Screenshot", False),
    ("Die Rechnung ist raus.", "Rechnung", False),
    ("Bitte finden Sie anbei unsere Auftragsbestätigung.", "Auftragsbestätigung", False),
    ("Wie versprochen: Die Abrechnung ist fertig.", "Abrechnung", True),
    ("Anbei, wie besprochen, das Protokoll der Baubesprechung.", "Protokoll", True),
    ("Ihr Wagen steht zur Abholung bereit.", "Wagen", False),
    ("Wir konnten den Fehler in der Buchhaltungssoftware beheben.", "Fehler", False),
    ("Ihre Hörgeräte sind angepasst und können abgeholt werden.", "Hörgeräte", False),
    ("Die Baugenehmigung wurde erteilt.", "Baugenehmigung", False),
    ("Wie versprochen habe ich die Verfügbarkeit für Ostern geprüft.", "Verfügbarkeit", True),
    ("Wie versprochen erhalten Sie hiermit die Übersicht über Ihre Altersvorsorgeverträge.", "Übersicht", True),
    ("Bezug nehmend auf unser Telefonat übersenden wir Ihnen anbei das Nachtragsangebot.", "Nachtragsangebot",
     False),
    ("Ihre Kündigung haben wir erhalten und bestätigen sie zum 31.12.2026.", "Kündigung", False),
    ("Unter folgendem Link können Sie die Druckdaten herunterladen.", "Druckdaten", False),
    ("Hier der Link zu den Fotos der Hochzeit.", "Link", False),
    ("Die undichte Stelle am Kamin haben wir abgedichtet.", "Stelle", False),
    ("hab dir die Datei grad geschickt", "Datei", False),
    ("Anbei: Rechnung Nr. 2026-118 über 1.249,00 €.", "Rechnung", False),
    ("Ihr Termin am Freitag ist bestätigt.", "Termin", False),
    ("Der Termin morgen um 10 Uhr ist bestätigt.", "Termin", False),
    ("Der Techniker war heute da und hat die Heizung repariert.", "Heizung", False),
    ("Das WLAN funktioniert wieder einwandfrei.", "WLAN", False),
    ("Sie können Ihr Auto ab sofort abholen.", "Auto", False),
    ("Ab sofort können Sie die Rechnung in Ihrem Kundenkonto abrufen.", "Rechnung", False),
    ("Der Arzt hat das Rezept ausgestellt, Sie können es morgen in der Praxis abholen.", "Rezept", False),
    ("So, die Angebote für die drei Varianten hängen dran.", "Angebote", False),
    ("Die Reparatur, die Sie beauftragt hatten, ist abgeschlossen.", "Reparatur", False),
    ("Wie zugesagt ist Ihr Mietvertrag bis Ende 2027 verlängert.", "Mietvertrag", True),
    ("Der Befund Ihrer Blutuntersuchung liegt vor, bitte vereinbaren Sie einen Termin.", "Befund", False),
    ("Die Fotos vom Sommerfest stehen ab sofort im Elternportal zum Download bereit.", "Fotos", False),
    ("Ihre Bestellung 48213 ist auf dem Weg zu Ihnen und kommt voraussichtlich am Dienstag an.", "Bestellung",
     False),
    ("Die Abrechnung ist fertig und wird Ihnen morgen zugeschickt.", "Abrechnung", False),
    ("Die Bugs aus dem letzten Sprint sind gefixt, das Release geht morgen raus.", "Bugs", False),
    ("Die Ersatzschlüssel sind nachgemacht, Sie können sie im Büro abholen.", "Ersatzschlüssel", False),
    ("Die Schadensmeldung haben wir an die Versicherung weitergeleitet.", "Schadensmeldung", False),
    ("Die Datei „Angebot_2026.pdf“ liegt bei.", "Datei", False),
    ("Anbei sende ich Ihnen – wie am Telefon besprochen – den Entwurf.", "Entwurf", True),
]

NEGATIVES = [
    "Ich schicke Ihnen das Angebot bis Freitag.",
    "Sie erhalten die Unterlagen in den nächsten Tagen per Post.",
    "Bitte senden Sie uns den unterschriebenen Vertrag zurück.",
    "Können Sie mir die Rechnung noch einmal schicken?",
    "Die Reparatur ist noch nicht abgeschlossen.",
    "Das Ersatzteil ist leider noch nicht eingetroffen.",
    "Ihr Auto ist voraussichtlich am Freitag fertig.",
    "Wir haben Ihnen die Rechnung gestern geschickt – ist sie angekommen?",
    "Wir haben Ihnen die Rechnung bereits am 3. November geschickt.",
    "Wir haben Ihnen den Vertrag letzte Woche zugeschickt, leider kam er zurück.",
    "Die Unterlagen haben wir Ihnen schon vor zwei Wochen zugeschickt.",
    "Wir haben Ihnen die Rechnung geschickt. Ist sie angekommen?",
    "Vielen Dank für die Unterlagen im Anhang.",
    "Im Anhang Ihrer Mail war leider keine Datei.",
    "Ihre Zahlung ist bei uns eingegangen.",
    "Sie haben die Kaution bereits überwiesen, vielen Dank.",
    "Danke, dass Sie die Rechnung so schnell überwiesen haben.",
    "Sobald das Ersatzteil eingetroffen ist, melden wir uns.",
    "Wenn die Prüfung abgeschlossen ist, erhalten Sie den Bescheid.",
    "Das Ersatzteil ist bestellt, sobald Sie den Auftrag freigeben.",
    "Die Arbeiten werden bis Ende der Woche abgeschlossen sein.",
    "Die Lieferung wird voraussichtlich am Mittwoch zugestellt.",
    "Die Terrassenüberdachung wird am 3.12. montiert.",
    "Unser Kundenservice ist jederzeit für Sie erreichbar.",
    "Unser Support ist rund um die Uhr für Sie da – auch an Feiertagen.",
    "Ist die Rechnung schon bezahlt?",
    "Wann ist mein Auto fertig?",
    "Hier können Sie Ihre Zählerstände online eingeben.",
    "Leider ist uns hier ein Fehler unterlaufen.",
    "Ich gehe davon aus, dass die Genehmigung bis Monatsende erteilt ist.",
    "Falls die Unterlagen vollständig sind, wird der Antrag bewilligt.",
    "Die Ware ist leider noch nicht versandt worden.",
    "Wir haben Ihre Anfrage erhalten und melden uns in Kürze.",
    "Hiermit teilen wir Ihnen mit, dass Ihre Sendung beim Zoll festgehalten wird.",
    "Hiermit kündige ich meinen Vertrag fristgerecht zum 31.12.",
    "Das Paket sollte morgen bei Ihnen sein.",
    "Sie schrieben: „Die Rechnung ist fertig.“",
    "Wie besprochen schicke ich Ihnen nächste Woche den Entwurf.",
    "Wie vereinbart kommt unser Monteur am Donnerstag.",
    "Ihr Wagen steht ab morgen zur Abholung bereit.",
    "Ihr Wagen ist morgen ab 16 Uhr abholbereit.",
    "Die Wohnung ist ab dem 1. Januar bezugsfertig.",
    "Bitte bestätigen Sie den Termin kurz per Mail.",
    "Können Sie bestätigen, dass die Unterlagen vollständig sind?",
    "Wie gewünscht haben wir den Termin notiert.",
    "Leider konnten wir den Fehler noch nicht finden.",
    "Den Bericht schicke ich Ihnen morgen als Anhang.",
    "Wir übersenden Ihnen das Angebot bis Freitag.",
    "ich habe am 12.11. einen Kinderwagen bestellt (Bestellnr. 558201) und bis heute nichts erhalten.",
    "Die Handwerkerrechnung können Sie bei der Steuer angeben, den Lohnanteil haben wir extra ausgewiesen.",
    "Unser Team hat Ihre Anfrage erhalten und bearbeitet sie so schnell wie möglich.",
    "Den Termin am 3.12. um 10 Uhr haben wir fest für Sie eingeplant.",
    "Die Ware ist morgen bei Ihnen, der Spediteur hat das bestätigt.",
    "Ich hab's dir eben gemailt.",  # no thing named, nothing to match
    "Guten Tag, wir haben Ihnen die Mahnung versehentlich geschickt, die Zahlung war bereits eingegangen.",
    "Es liegt ein Fehler in der Abrechnung vor.",
    "Ihr Antrag liegt uns vor.",
    "Ihre Anfrage zur Finanzierung haben wir an unsere Kreditabteilung weitergeleitet.",
    "Wir haben Ihre Steuernummer erhalten und im System hinterlegt.",
    "Die defekte Pumpe haben wir bereits letzte Woche ausgetauscht, der Fehler hat eine andere Ursache.",
    "Mit Schreiben vom 3. November haben wir Ihnen die Abrechnung bereits zugesandt.",
    "„Die Rechnung ist fertig“, schrieb er.",
    "Er meinte, „die Rechnung ist raus“, aber sie kam nie an.",
]


@pytest.fixture(scope="module")
def finder(engine: Engine) -> DeliveryFinder:
    """The engine's delivery finder (one Engine per test session)."""
    return engine.delivery_finder


def deliveries(engine: Engine, text: str) -> list[Delivery]:
    """Deliveries the engine finds in `text` (sent Monday 2026-11-23 10:00)."""
    return list(engine.analyze(text, MONDAY).deliveries)


@pytest.mark.parametrize(("sentence", "obj", "phrased"), POSITIVES, ids=[p[1] for p in POSITIVES])
def test_delivery_found_with_object(engine: Engine, sentence: str, obj: str, phrased: bool) -> None:
    found = deliveries(engine, sentence)
    assert [(d.object, d.phrased) for d in found] == [(obj, phrased)], sentence
    d = found[0]
    assert sentence[d.start:d.end] == d.text and d.text.strip() == d.text
    assert (d.rule == "PhrasedDelivery") is phrased and d.rule_id == f"versprochen.{d.rule}"


@pytest.mark.parametrize("sentence", NEGATIVES)
def test_no_delivery(engine: Engine, sentence: str) -> None:
    assert deliveries(engine, sentence) == [], sentence


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("Die Abrechnung ist fertig, ich schicke sie Ihnen heute Nachmittag.", ["Die Abrechnung ist fertig"]),
        ("Ihr Antrag auf Kostenübernahme wurde bewilligt, die Zahlung ist bereits angewiesen.",
         ["Ihr Antrag auf Kostenübernahme wurde bewilligt", "die Zahlung ist bereits angewiesen"]),
        ("Die Datenwiederherstellung ist abgeschlossen, alle Dateien sind wieder da.",
         ["Die Datenwiederherstellung ist abgeschlossen, alle Dateien sind wieder da"]),
        ("Die Kündigung haben wir zum 31.12.2026 bestätigt, die Bestätigung liegt dieser Mail bei.",
         ["Die Kündigung haben wir zum 31.12.2026 bestätigt, die Bestätigung liegt dieser Mail bei"]),
        ("Anbei das Angebot, die Rechnung ist raus.", ["Anbei das Angebot", "die Rechnung ist raus"]),
        ("Ihre Kündigung haben wir erhalten und bestätigen sie zum 31.12.2026. Ihre Daten löschen wir später.",
         ["Ihre Kündigung haben wir erhalten und bestätigen sie zum 31.12.2026"]),
        ("Anbei erhalten Sie das Angebot für den VW ID.4 inklusive Wartungspaket. Den Liefertermin "
         "kann der Hersteller nur mit KW 12 angeben.",
         ["Anbei erhalten Sie das Angebot für den VW ID.4 inklusive Wartungspaket"]),
        ("Anbei erhalten Sie die Rechnung für das Objekt in der Gartenstraße 3. Danke!",
         ["Anbei erhalten Sie die Rechnung für das Objekt in der Gartenstraße 3"]),
        ("Wie versprochen, hier der Kostenvoranschlag (inkl. Material). Bei Fragen rufen Sie an.",
         ["Wie versprochen, hier der Kostenvoranschlag"]),  # a bracket is a clause of its own
    ],
)
def test_span_is_the_clause(engine: Engine, text: str, spans: list[str]) -> None:
    assert [d.text for d in deliveries(engine, text)] == spans


def test_offsets_point_into_the_whole_mail_and_skip_quotes_and_signature(engine: Engine) -> None:
    text = ("Hallo Herr Yilmaz,\n\nhier wie versprochen der Kostenvoranschlag für die Elektroinstallation.\n\n"
            "Die Rechnung für die Wartung ist raus.\n\nBeste Grüße\nAnna Reuter\n\n"
            "> Am 18.11.2026 schrieb Anna Reuter:\n> Anbei erhalten Sie das Angebot.\n")
    found = deliveries(engine, text)
    assert [text[d.start:d.end] for d in found] == [
        "hier wie versprochen der Kostenvoranschlag für die Elektroinstallation",
        "Die Rechnung für die Wartung ist raus"]
    assert [d.phrased for d in found] == [True, False]


def test_quoted_history_promise_is_matched(engine: Engine) -> None:
    text = ("Hallo Frau Gerlach,\n\nhier die Kopie des Mietvertrags.\n\nGruß\nTom Weber\n\n"
            "> Ich schicke Ihnen den Mietvertrag bis Montag.\n")
    analysis = engine.analyze(text, MONDAY)
    assert len(analysis.deliveries) == 1
    match = analysis.deliveries[0].matches
    assert match is not None and "Mietvertrag" in match.text


def promise(text: str, obj: str | None = None) -> Promise:
    """A quoted-history promise as the promise finder would report it."""
    return Promise(0, len(text), text, "explicit", "medium", "Commitment", "", "", Severity.WARNING, object=obj)


def delivery(obj: str, phrased: bool = False) -> Delivery:
    """A delivery of `obj` (offsets do not matter for matching)."""
    return Delivery(0, 5, "Anbei", obj, phrased, "Deliveries", "", "", Severity.INFORMATION)


@pytest.mark.parametrize(
    ("delivered", "promised_text", "promised_object", "matches"),
    [
        ("Angebot", "Das Angebot schicke ich Ihnen bis Freitag.", "Angebot", True),
        ("Kostenvoranschlag", "Sie bekommen den Kostenvoranschlag für die Elektrik morgen.",
         "Kostenvoranschlag für die Elektrik", True),
        ("Mietvertragskopie", "Ich schicke Ihnen den Mietvertrag.", None, True),
        ("Mietvertrag", "Die Mietvertragskopie bekommen Sie morgen.", None, True),
        ("Nachtragsangebot", "Ein Angebot für die Abdichtung folgt.", "Angebot", True),
        ("Rechnungen", "Die Rechnung schicke ich Ihnen nächste Woche.", None, True),
        ("Angebot", "Die Rechnung schicke ich Ihnen nächste Woche.", "Rechnung", False),
        ("Mietvertrag", "Die Miete überweisen wir am Montag.", None, False),
        ("Abrechnung", "Wir melden uns nächste Woche.", None, False),
    ],
)
def test_match_deliveries(delivered: str, promised_text: str, promised_object: str | None,
                          matches: bool) -> None:
    earlier = promise(promised_text, promised_object)
    [result] = match_deliveries([delivery(delivered)], [earlier])
    assert (result.matches is earlier) is matches


def test_exact_match_beats_compound_and_existing_match_is_kept() -> None:
    compound, exact = promise("Das Nachtragsangebot folgt.", "Nachtragsangebot"), promise("Das Angebot folgt.")
    [result] = match_deliveries([delivery("Angebot")], [compound, exact])
    assert result.matches is exact
    [kept] = match_deliveries([result], [compound])
    assert kept.matches is exact


def test_promise_nouns_skip_function_words() -> None:
    assert promise_nouns(promise("Den Kostenvoranschlag schicke ich Ihnen am Montag.")) == [
        "Kostenvoranschlag", "Montag"]
    assert promise_nouns(promise("x", "angebot")) == ["angebot"]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("Angebot", "angebote", True), ("Kündigungsbestätigung", "Kündigung", True),
     ("Werkstattrechnung", "Rechnung", True), ("Preis", "Reis", False), ("Miete", "Mietvertrag", False)],
)
def test_same_thing(a: str, b: str, same: bool) -> None:
    assert same_thing(a, b) is same


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anbei erhalten Sie das Angebot.", "Wie versprochen, erhalten Sie anbei das Angebot."),
        ("Hier ist der Kostenvoranschlag.", "Wie versprochen, hier der Kostenvoranschlag."),
        ("Die Abrechnung ist fertig.", "Wie versprochen: Die Abrechnung ist fertig."),
        ("Anbei die angepasste Leistungsbeschreibung.", "Wie versprochen, anbei die angepasste Leistungsbeschreibung."),
        ("Im Anhang finden Sie Ihre Zugangsdaten.", "Wie versprochen, finden Sie im Anhang Ihre Zugangsdaten."),
        ("Wir haben Ihnen die Unterlagen heute geschickt.",
         "Wie versprochen, haben wir Ihnen die Unterlagen heute geschickt."),
        ("Hallo Frau Gerlach,\n\nhier die Kopie des Mietvertrags.",
         "Hallo Frau Gerlach,\n\nwie versprochen, hier die Kopie des Mietvertrags."),
        ("Der Umtausch ist kein Problem, die Zahlung ist angewiesen.",
         "Der Umtausch ist kein Problem, die Zahlung ist wie versprochen angewiesen."),
        ("Anbei noch die Rechnung für die Wartung.", "Wie versprochen, anbei noch die Rechnung für die Wartung."),
        ("Sie erhalten anbei die Unterlagen.", "Wie versprochen, erhalten Sie anbei die Unterlagen."),
        ("Im Anhang: das Protokoll der Sitzung.", "Wie versprochen, im Anhang das Protokoll der Sitzung."),
        ("Ich habe Ihnen die Datei eben geschickt.", "Wie versprochen, habe ich Ihnen die Datei eben geschickt."),
        ("Sehr geehrte Frau Klein, die Röntgenbilder habe ich Ihnen per Mail geschickt.",
         "Sehr geehrte Frau Klein, die Röntgenbilder habe ich Ihnen wie versprochen per Mail geschickt."),
        ("Hallo Tim, hier die finale Version der Präsentation.",
         "Hallo Tim, hier wie versprochen die finale Version der Präsentation."),
    ],
)
def test_wie_versprochen_rewrite(engine: Engine, text: str, expected: str) -> None:
    out = text
    for d in sorted(deliveries(engine, text), key=lambda d: -d.start):
        edit = wie_versprochen_rewrite(text, d)
        assert edit is not None
        start, end, replacement = edit
        out = out[:start] + replacement + out[end:]
    assert out == expected


def test_rewrite_refuses_phrased_and_stale_deliveries(engine: Engine) -> None:
    [phrased] = deliveries(engine, "Wie versprochen erhalten Sie anbei das Angebot.")
    assert wie_versprochen_rewrite("Wie versprochen erhalten Sie anbei das Angebot.", phrased) is None
    [plain] = deliveries(engine, "Anbei erhalten Sie das Angebot.")
    assert wie_versprochen_rewrite("Anbei erhalten Sie die Rechnung.", plain) is None
    assert wie_versprochen_rewrite("kurz", replace(plain, end=99)) is None


def test_segments_handle_abbreviations_dates_brackets_and_questions(engine: Engine) -> None:
    doc = engine.nlp("Die Rechnung (Nr. 4711 vom 3.12.) ist da, z. B. für Dr. Maier. Ist sie angekommen? Ja.")
    segs = segments(doc)
    assert [" ".join(s.words) for s in segs] == [
        "die rechnung ist da", "nr. 4711 vom 3.12.", "z. b. für dr. maier", "ist sie angekommen", "ja"]
    assert [s.sentence for s in segs] == [0, 0, 0, 1, 2]
    assert [s.question for s in segs] == [False, False, False, True, False]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Wir liefern in KW 49. Die Rechnung kommt am 1.12.2026. Danke", [0, 1, 2]),
        ("Das Zimmer ist vom 3. bis 5. Januar gebucht, zum 2. Mal in Folge.", [0, 0]),
        ("Wir kommen am 3.12. Bitte seien Sie da.", [0, 1]),
        ("Bestellnr. 558201 ist raus.", [0]),
    ],
)
def test_glued_sentence_ends(engine: Engine, text: str, sentences: list[int]) -> None:
    assert [s.sentence for s in segments(engine.nlp(text))] == sentences


def test_windows_cover_the_hit_sentence_and_the_next(engine: Engine) -> None:
    doc = engine.nlp("Erster Satz. Anbei das Angebot. Ist es angekommen? Vierter Satz. Fünfter Satz! Ende.")
    rows = token_rows(doc)
    hit = [t for t, _ in rows].index("Anbei")
    [(start, end, depth)] = windows(rows, [hit])
    assert " ".join(t for t, _ in rows[start:end]) == "Anbei das Angebot . Ist es angekommen ?"
    assert depth == 0 and windows(rows, [hit, hit + 1]) == [(start, end, 0)]


def test_far_apart_deliveries_in_one_paragraph(engine: Engine) -> None:
    filler = " ".join(["Wir melden uns bei Ihnen."] * 30)
    text = (f"Anbei das Angebot. {filler} Die Reparatur ist abgeschlossen. {filler} „Gut. Die Rechnung ist "
            "raus.“ Ende.")
    found = deliveries(engine, text)
    assert [(d.object, text[d.start:d.end]) for d in found] == [
        ("Angebot", "Anbei das Angebot"), ("Reparatur", "Die Reparatur ist abgeschlossen")]


@pytest.mark.parametrize(
    ("pattern", "words", "positions"),
    [
        ("liegt|liegen … bei$", "die bestätigung liegt dieser mail bei", (2, 5)),
        ("liegt|liegen … bei$", "die unterlagen liegen bei ihnen", None),
        ("^hier die|der", "und hier die rechnung", None),
        ("beigefügt* erhalten", "beigefügten erhalten", (0, 1)),
        ("kw #", "in kw 49", (1, 2)),
    ],
)
def test_pattern_language(pattern: str, words: str, positions: tuple[int, ...] | None) -> None:
    compiled = compile_pattern(pattern, None)
    seq = words.split()
    found = next((compiled.match(seq, i) for i in range(len(seq)) if compiled.match(seq, i)), None)
    assert found == positions


def test_bad_pattern_names_the_rule_file(tmp_path: Path) -> None:
    path = tmp_path / "TeamDelivery.toml"
    path.write_text('kind = "delivery"\nrole = "done"\nmessage = "x"\nreason = "y"\nphrases = ["ist … |"]\n'
                    '[examples]\nfail = ["a"]\npass = ["b"]\n', encoding="utf-8")
    rule = load_rule_file(path)
    lexicon = load_lexicon()
    with pytest.raises(LexiconError, match=r"TeamDelivery\.toml: phrase"):
        DeliveryFinder(Lexicon({**lexicon.rules, "TeamDelivery": rule}), None)  # type: ignore[arg-type]


def test_disabled_rule_keeps_shared_blockers(engine: Engine) -> None:
    lexicon = load_lexicon(disabled=["DoneDelivery", "Deliveries"])
    finder = DeliveryFinder(lexicon, engine.nlp.nlp)
    assert finder.find(engine.nlp("Die Abrechnung ist fertig.")) == []
    assert finder.find(engine.nlp("Anbei das Angebot.")) == []
    assert [d.object for d in finder.find(engine.nlp("Die Rechnung ist raus."))] == ["Rechnung"]
    assert finder.find(engine.nlp("Die Rechnung ist noch nicht raus.")) == []


def test_team_severity_override_applies(engine: Engine) -> None:
    lexicon = load_lexicon(severity_overrides={"Deliveries": "warning"})
    [found] = DeliveryFinder(lexicon, engine.nlp.nlp).find(engine.nlp("Anbei das Angebot."))
    assert found.severity is Severity.WARNING and found.message.startswith("Hier lösen Sie eine Zusage ein")


def test_delivery_rule_examples_fire_their_own_rule(finder: DeliveryFinder, engine: Engine) -> None:
    for rule in engine.lexicon.of_kind("delivery"):
        for sentence in rule.fail:
            assert rule.name in {d.rule for d in finder.find(engine.nlp(sentence))}, (rule.name, sentence)
        for sentence in rule.passing:
            assert finder.find(engine.nlp(sentence)) == [], (rule.name, sentence)


@pytest.mark.parametrize(
    ("a", "b", "loose", "strict"),
    [("Rechnungskopie", "Rechnung", True, False), ("Zeitplan", "Plan", True, True),
     ("Preise", "Preis", True, True), ("Motor", "Tor", False, False),
     ("Kündigungsbestätigung", "Kündigung", True, False)],
)
def test_same_thing_strict_reading_takes_only_the_head(a: str, b: str, loose: bool, strict: bool) -> None:
    assert (same_thing(a, b), same_thing(a, b, first_part=False)) == (loose, strict)


@pytest.mark.parametrize(
    ("text", "objects"),
    [
        ("Ihre Laborwerte liegen vor und sind unauffällig.", ["Laborwerte"]),
        ("Die Schiene ist aus dem Labor zurück und kann ab sofort abgeholt werden.", ["Schiene"]),
        ("Laut unserer Buchhaltung ist die Zahlung ausgeführt worden.", []),
        ("Wir haben das Bad bis Freitag gefliest.", []),
        ("Wir haben das Bad gefliest.", ["Bad"]),
        ("Falls das Teil kommt, ist Ihr Auto fertig.", []),
    ],
)
def test_coordination_reports_and_blocked_reports(finder: DeliveryFinder, engine: Engine, text: str,
                                                  objects: list[str]) -> None:
    assert [d.object for d in finder.find(engine.nlp(text))] == objects

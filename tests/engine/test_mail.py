"""Mail structure: header block, quoted history in every common style, signatures, offsets."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine.mail import header_block, parse_mail_structure
from server.engine.types import MailStructure, Region

EXAMPLE = Path(__file__).parents[2] / "examples" / "entwurf-angebot.txt"


def pieces(text: str, regions: tuple[Region, ...] | list[Region]) -> list[str]:
    """The text of each region."""
    return [text[r.start:r.end] for r in regions]


def signature_text(text: str, mail: MailStructure) -> str | None:
    """The signature's text, or None."""
    return text[mail.signature.start:mail.signature.end] if mail.signature else None


# ---------------------------------------------------------------- header block

def test_german_header_block_with_folded_line() -> None:
    text = ("An: Max Mustermann <max@kunde.example>\nKopie: Einkauf <einkauf@kunde.example>\n"
            "Betreff: Angebot 2026-4711 –\n  Dachsanierung\n\nHallo Herr Mustermann,\n\nanbei das Angebot.")
    mail = parse_mail_structure(text)
    assert mail.headers == {
        "to": "Max Mustermann <max@kunde.example>", "cc": "Einkauf <einkauf@kunde.example>",
        "subject": "Angebot 2026-4711 – Dachsanierung",
    }
    assert mail.header is not None
    assert text[mail.header.start:mail.header.end] == text[:text.index("\n\n")]
    assert pieces(text, mail.new_text) == ["Hallo Herr Mustermann,\n\nanbei das Angebot."]
    assert mail.recipients() == ("Max Mustermann <max@kunde.example>", "Einkauf <einkauf@kunde.example>")


def test_english_header_block_maps_every_key() -> None:
    text = ("From: Anna <anna@firma.example>\nTo: max@kunde.example\nCc: b@kunde.example\n"
            "Bcc: archiv@firma.example\nReply-To: vertrieb@firma.example\nSubject: Termin\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0100\nMessage-ID: <1@firma.example>\n"
            "X-Mailer: Test\n\nText.")
    mail = parse_mail_structure(text)
    assert mail.headers == {
        "from": "Anna <anna@firma.example>", "to": "max@kunde.example", "cc": "b@kunde.example",
        "bcc": "archiv@firma.example", "reply-to": "vertrieb@firma.example", "subject": "Termin",
        "date": "Mon, 23 Nov 2026 10:00:00 +0100", "message-id": "<1@firma.example>", "x-mailer": "Test",
    }
    assert pieces(text, mail.new_text) == ["Text."]


def test_outlook_style_header_block_at_the_top_is_the_header_not_a_quote() -> None:
    text = ("Von: Anna Schmidt\nGesendet: Montag, 23. November 2026 10:00\nAn: Max\nDatum: heute\n"
            "Betreff: Angebot\n\nWir liefern morgen.")
    mail = parse_mail_structure(text)
    assert mail.headers["from"] == "Anna Schmidt"
    assert mail.headers["date"] == "Montag, 23. November 2026 10:00"  # the first date line wins
    assert pieces(text, mail.new_text) == ["Wir liefern morgen."]
    assert mail.quoted == ()


def test_header_block_ends_at_a_line_that_is_no_header() -> None:
    text = "An: Max\nBetreff: Angebot\nSehr geehrter Herr Max,\nanbei das Angebot."
    mail = parse_mail_structure(text)
    assert mail.headers == {"to": "Max", "subject": "Angebot"}
    assert pieces(text, mail.new_text) == ["Sehr geehrter Herr Max,\nanbei das Angebot."]


def test_repeated_recipient_lines_add_up() -> None:
    mail = parse_mail_structure("To: a@x.example\nTo: b@x.example\n\nHallo")
    assert mail.headers["to"] == "a@x.example, b@x.example"


@pytest.mark.parametrize("text", [
    "Hinweis: Das Angebot gilt bis Freitag.\n\nText",     # a label, not a mail header
    "Hallo Herr Mustermann:\n\nText",
    "Sehr geehrte Damen und Herren,\nAn: die Geschäftsführung",
    "",
])
def test_no_header_block(text: str) -> None:
    mail = parse_mail_structure(text)
    assert mail.header is None and mail.headers == {}


def test_raw_mail_with_mbox_line_and_received_headers() -> None:
    text = ("From anna@firma.example Mon Nov 23 10:00:00 2026\nReceived: from mx by mx2\n"
            "\tid 42\nReceived: from a by mx\n\tid 7\nFrom: anna@firma.example\nSubject: Test\n\nText")
    fields, region = header_block(text)
    assert fields["received"] == "from mx by mx2 id 42"  # repeats keep the first, folded lines included
    assert fields["from"] == "anna@firma.example"
    assert region == Region(0, text.index("\n\n"))


# ---------------------------------------------------------------- quoted history

QUOTE_CASES = {
    "angle brackets with attribution": (
        "Danke, ich schicke es morgen.\n\nAm 18.11.2026 um 10:12 schrieb Anna Reuter <a@b.de>:\n"
        "> Können Sie mir das schicken?\n>\n>> Am 17.11. schrieb ich:\n>> alt",
        ["Danke, ich schicke es morgen."],
        ["Am 18.11.2026 um 10:12 schrieb Anna Reuter <a@b.de>:\n> Können Sie mir das schicken?\n>\n"
         ">> Am 17.11. schrieb ich:\n>> alt"],
    ),
    "english attribution, no space after marker": (
        "Sure, done.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Anna <a@b.de> wrote:\n>Can you send it?\n>>older",
        ["Sure, done."],
        ["On Mon, Nov 23, 2026 at 10:00 AM Anna <a@b.de> wrote:\n>Can you send it?\n>>older"],
    ),
    "short attribution with blank line": (
        "Erledigt.\n\nAnna Reuter schrieb:\n\n> Bitte um Rückruf.",
        ["Erledigt."],
        ["Anna Reuter schrieb:\n\n> Bitte um Rückruf."],
    ),
    "gmail attribution wrapped over two lines": (
        "Erledigt.\n\nAm Mi., 18. Nov. 2026 um 10:12 Uhr schrieb Anna Reuter <\nanna@reuter.example>:\n"
        "> Bitte um Rückruf.",
        ["Erledigt."],
        ["Am Mi., 18. Nov. 2026 um 10:12 Uhr schrieb Anna Reuter <\nanna@reuter.example>:\n> Bitte um Rückruf."],
    ),
    "quote without attribution, indented markers": (
        "Gern.\n  > Geht das?\n  > Danke",
        ["Gern."],
        ["  > Geht das?\n  > Danke"],
    ),
    "outlook german": (
        "Anbei die Unterlagen.\n\n-----Ursprüngliche Nachricht-----\nVon: Max\nGesendet: Freitag, 20. "
        "November 2026 09:41\nAn: Anna\nBetreff: Unterlagen\n\nWir liefern garantiert morgen.",
        ["Anbei die Unterlagen."],
        ["-----Ursprüngliche Nachricht-----\nVon: Max\nGesendet: Freitag, 20. November 2026 09:41\nAn: Anna\n"
         "Betreff: Unterlagen\n\nWir liefern garantiert morgen."],
    ),
    "outlook english": (
        "See below.\n-----Original Message-----\nFrom: Max\nSent: Friday\nTo: Anna\nSubject: X\n\nold",
        ["See below."],
        ["-----Original Message-----\nFrom: Max\nSent: Friday\nTo: Anna\nSubject: X\n\nold"],
    ),
    "outlook header block without separator": (
        "Mache ich.\n\nVon: Max Mustermann <max@kunde.example>\nGesendet: Freitag, 20. November 2026\n"
        "An: Anna\nBetreff: AW: Termin\n\nIch melde mich morgen.",
        ["Mache ich."],
        ["Von: Max Mustermann <max@kunde.example>\nGesendet: Freitag, 20. November 2026\nAn: Anna\n"
         "Betreff: AW: Termin\n\nIch melde mich morgen."],
    ),
    "outlook header on one line": (
        "Mache ich.\n\nVon: Max Gesendet: Freitag, 20. November 2026 An: Anna Betreff: Termin\nalt",
        ["Mache ich."],
        ["Von: Max Gesendet: Freitag, 20. November 2026 An: Anna Betreff: Termin\nalt"],
    ),
    "outlook underscore separator": (
        "Gern.\n\n________________________________\nFrom: Max\nSent: Friday\nSubject: Y\n\nalt",
        ["Gern."],
        ["________________________________\nFrom: Max\nSent: Friday\nSubject: Y\n\nalt"],
    ),
    "gmail forward": (
        "Zur Info.\n\n---------- Forwarded message ---------\nFrom: Max <m@k.example>\nDate: Fri\n\n"
        "Wir liefern morgen.",
        ["Zur Info."],
        ["---------- Forwarded message ---------\nFrom: Max <m@k.example>\nDate: Fri\n\nWir liefern morgen."],
    ),
    "thunderbird forward german": (
        "Zur Info.\n\n-------- Weitergeleitete Nachricht --------\nBetreff: X\n\nalt",
        ["Zur Info."],
        ["-------- Weitergeleitete Nachricht --------\nBetreff: X\n\nalt"],
    ),
    "apple mail forward german": (
        "Zur Info.\n\nAnfang der weitergeleiteten Nachricht:\n\nVon: Max\n\nalt",
        ["Zur Info."],
        ["Anfang der weitergeleiteten Nachricht:\n\nVon: Max\n\nalt"],
    ),
    "dated attribution over unquoted history": (
        "Das mache ich.\n\nAm 18.11.2026 um 10:12 schrieb Anna Reuter <a@b.de>:\nWir liefern morgen.\n\nGruß",
        ["Das mache ich."],
        ["Am 18.11.2026 um 10:12 schrieb Anna Reuter <a@b.de>:\nWir liefern morgen.\n\nGruß"],
    ),
}


@pytest.mark.parametrize(("text", "new", "quoted"), QUOTE_CASES.values(), ids=QUOTE_CASES.keys())
def test_quoting_styles(text: str, new: list[str], quoted: list[str]) -> None:
    mail = parse_mail_structure(text)
    assert pieces(text, mail.new_text) == new
    assert pieces(text, mail.quoted) == quoted


@pytest.mark.parametrize("text", [
    "Am Montag schrieb ich Ihnen bereits, dass wir liefern:\nDie Ware kommt morgen.",  # no date/address
    "Bitte beachten Sie:\nVon: 9 bis 17 Uhr sind wir erreichbar.\nDanach nicht.",
    "Unsere Preise -- wie besprochen -- gelten bis Freitag.",
])
def test_look_alikes_are_not_quotes(text: str) -> None:
    mail = parse_mail_structure(text)
    assert mail.quoted == ()
    assert pieces(text, mail.new_text) == [text]


def test_interleaved_reply_gives_several_new_text_regions() -> None:
    text = ("Hallo Max,\n\n> Wann kommt das Angebot?\nBis Freitag.\n\n> Und die Doku?\n>> alt\n"
            "Die liefern wir nächste Woche.\n\nViele Grüße\nAnna")
    mail = parse_mail_structure(text)
    assert pieces(text, mail.new_text) == ["Hallo Max,", "Bis Freitag.", "Die liefern wir nächste Woche."]
    assert pieces(text, mail.quoted) == ["> Wann kommt das Angebot?", "> Und die Doku?\n>> alt"]
    assert signature_text(text, mail) == "Viele Grüße\nAnna"


def test_quote_blocks_split_only_by_blank_lines_merge() -> None:
    text = "Ok.\n\n> a\n\n> b\n\n>> c\nNeu."
    mail = parse_mail_structure(text)
    assert pieces(text, mail.quoted) == ["> a\n\n> b\n\n>> c"]
    assert pieces(text, mail.new_text) == ["Ok.", "Neu."]


def test_sample_body_with_two_interleaved_copies() -> None:
    body = ("Sehr geehrter Herr Mustermann,\n\nWie besprochen schicke ich Ihnen das Angebot.\n\n"
            "Mit freundlichen Grüßen\nAnna Schmidt\nVertrieb Innendienst\n\n"
            "> Am 20.11.2026 schrieb Max Mustermann:\n> Können Sie uns das Angebot schicken?\n")
    text = body + body
    mail = parse_mail_structure(text)
    first = body.index("Mit freundlichen")
    assert mail.signature == Region(first, first + len("Mit freundlichen Grüßen\nAnna Schmidt\nVertrieb "
                                                        "Innendienst"))
    assert pieces(text, mail.new_text) == [
        "Sehr geehrter Herr Mustermann,\n\nWie besprochen schicke ich Ihnen das Angebot."] * 2
    assert all("Können Sie" in q for q in pieces(text, mail.quoted))


# ---------------------------------------------------------------- signatures

@pytest.mark.parametrize(("closing", "names"), [
    ("Mit freundlichen Grüßen", "Anna Schmidt\nVertrieb Innendienst\nTel. +49 30 1234567"),
    ("Viele Grüße", "Anna"),
    ("Beste Grüße", "Anna Reuter\nElektro Reuter GmbH"),
    ("Freundliche Grüße", "Zahnarztpraxis Dr. Hellwig"),
    ("Gruß", "Autohaus Lindner – Service"),
    ("LG", "Nadine"),
    ("VG", "Tom"),
    ("Cheers", "Tanja von Eventhaus Speicher"),
    ("Sonnige Grüße", "Reisebüro Fernweh"),
    ("Frohe Weihnachten!", "Jens Otto\nOtto Haustechnik"),
    ("Danke", "Sabine"),
    ("Mit freundlichen Grüßen", "Holzmann Bau GmbH\ni. A. Petra Schuster"),
    ("Beste Grüße", "Ihr Service-Team von Lampenhaus Nord"),
    ("Viele Grüße, Anna", ""),
    ("LG Nadine", ""),
    ("Herzliche Grüße aus Hamburg", "Anna"),
    ("Viele Grüße", ""),
    ("Gesendet von meinem iPhone", ""),
    ("Mit freundlichen Grüßen / Kind regards", "Anna Schmidt"),
])
def test_closing_formula_and_name_block_are_the_signature(closing: str, names: str) -> None:
    sig = closing + ("\n" + names if names else "")
    text = "Hallo Frau Dietz,\n\ndie Gästeliste schicke ich Ihnen morgen.\n\n" + sig
    mail = parse_mail_structure(text)
    assert signature_text(text, mail) == sig
    assert pieces(text, mail.new_text) == ["Hallo Frau Dietz,\n\ndie Gästeliste schicke ich Ihnen morgen."]


def test_servus_with_a_comma_is_a_salutation_not_a_sign_off() -> None:
    text = "Servus Max,\n\nbis morgen\nTom"
    mail = parse_mail_structure(text)
    assert signature_text(text, mail) == "bis morgen\nTom"
    assert pieces(text, mail.new_text) == ["Servus Max,"]


def test_dash_dash_space_delimiter_to_the_end() -> None:
    text = "Wir liefern morgen.\n\n-- \nAnna Schmidt\nDiese Mail ist vertraulich und wir haften nicht."
    mail = parse_mail_structure(text)
    assert signature_text(text, mail) == "-- \nAnna Schmidt\nDiese Mail ist vertraulich und wir haften nicht."
    assert pieces(text, mail.new_text) == ["Wir liefern morgen."]


def test_closing_formula_before_delimiter_starts_the_signature() -> None:
    text = "Wir liefern morgen.\n\nViele Grüße\nAnna\n\n--\nFirma GmbH\nwww.firma.example"
    mail = parse_mail_structure(text)
    assert signature_text(text, mail) == "Viele Grüße\nAnna\n\n--\nFirma GmbH\nwww.firma.example"


def test_top_posted_signature_before_the_quote() -> None:
    text = ("Anbei das Angebot.\n\nMit freundlichen Grüßen\nAnna Schmidt\n\n"
            "Am 20.11.2026 schrieb Max Mustermann:\n> Schicken Sie das Angebot?\n>\n> Viele Grüße\n> Max")
    mail = parse_mail_structure(text)
    assert signature_text(text, mail) == "Mit freundlichen Grüßen\nAnna Schmidt"
    assert pieces(text, mail.new_text) == ["Anbei das Angebot."]
    assert pieces(text, mail.quoted)[0].endswith("> Max")


def test_postscript_after_the_signature_stays_new_text() -> None:
    text = "Hallo,\n\nanbei die Rechnung.\n\nViele Grüße\nAnna\n\nPS: Die Mahnung ziehe ich morgen zurück."
    mail = parse_mail_structure(text)
    assert signature_text(text, mail) == "Viele Grüße\nAnna"
    assert pieces(text, mail.new_text) == ["Hallo,\n\nanbei die Rechnung.",
                                           "PS: Die Mahnung ziehe ich morgen zurück."]


@pytest.mark.parametrize("text", [
    "Ich freue mich auf Ihre Antwort und verbleibe\nmit freundlichen Grüßen an Ihr ganzes Team, das so "
    "toll gearbeitet hat.\nWir melden uns morgen.",
    "Hallo,\n\nMit freundlichen Grüßen\nleite ich Ihnen die Unterlagen weiter, die Sie angefragt haben.\n"
    "Wir melden uns morgen bei Ihnen.",
    "Hallo,\n\nViele Grüße gehen auch an Ihre Kollegin.\nDie Ware liefern wir am Freitag.",
    "Hallo,\n\nGruß an Ihr Team, wir melden uns morgen.",
    "Danke für Ihre Geduld!\nDie Reparatur erledigen wir übermorgen.",
    "Viele Grüße\nDas Angebot schicke ich Ihnen morgen, der Rest folgt am Freitag zusammen mit der Doku.",
    "Mit freundlichen Grüßen\nKönnen Sie uns bis Freitag antworten?",
])
def test_no_false_signature_in_running_text(text: str) -> None:
    mail = parse_mail_structure(text)
    assert mail.signature is None
    assert pieces(text, mail.new_text) == [text.strip()]


# ---------------------------------------------------------------- line ends and offsets

CRLF_TEXT = ("An: Max <max@kunde.example>\nBetreff: Angebot\n\nHallo Max,\n\nich schicke es morgen.\n\n"
             "> Frage?\nAntwort.\n\nViele Grüße\nAnna\n\n-----Ursprüngliche Nachricht-----\nVon: Max\n"
             "Gesendet: heute\nAn: Anna\n\nalt")


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "lone-cr"])
def test_crlf_and_lone_cr_keep_offsets(newline: str) -> None:
    text = CRLF_TEXT.replace("\n", newline)
    mail = parse_mail_structure(text)
    plain = parse_mail_structure(CRLF_TEXT)
    assert mail.headers == plain.headers
    # Same regions, shown with the other line ends: no offset is shifted.
    assert [p.replace(newline, "\n") for p in pieces(text, mail.new_text)] == pieces(CRLF_TEXT, plain.new_text)
    assert [p.replace(newline, "\n") for p in pieces(text, mail.quoted)] == pieces(CRLF_TEXT, plain.quoted)
    assert signature_text(text, mail) == f"Viele Grüße{newline}Anna"
    assert pieces(text, mail.new_text) == [f"Hallo Max,{newline}{newline}ich schicke es morgen.", "Antwort."]


def test_example_draft_structure() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    mail = parse_mail_structure(text)
    assert mail.headers["subject"].startswith("Ihr Angebot Nr. 2026-4711")
    assert len(mail.new_text) == 1
    new = pieces(text, mail.new_text)[0]
    assert "garantiert bis Freitag" in new and "zeitnah" in new and "Mit freundlichen" not in new
    sig = signature_text(text, mail)
    assert sig is not None and sig.startswith("Mit freundlichen Grüßen") and "-- \n" in sig
    assert "schicke ich Ihnen bis Montag" in pieces(text, mail.quoted)[0]


LINES = st.sampled_from([
    "", " ", "Hallo Max,", "Wir liefern morgen.", "> Frage?", ">> alt", "> ", "-- ", "--", "Viele Grüße",
    "Anna", "Mit freundlichen Grüßen", "Am 18.11.2026 um 10:12 schrieb Anna <a@b.de>:", "Anna schrieb:",
    "-----Ursprüngliche Nachricht-----", "Von: Max", "Gesendet: heute", "An: Anna", "Betreff: X",
    "PS: noch was", "LG", "Das Angebot schicke ich Ihnen bis Freitag, wie besprochen, mit allen Unterlagen.",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=25), st.sampled_from(["\n", "\r\n", "\r"]))
def test_regions_are_ordered_disjoint_trimmed_and_line_end_independent(lines: list[str], nl: str) -> None:
    text = nl.join(lines)
    mail = parse_mail_structure(text)
    regions = sorted([*mail.new_text, *mail.quoted, *([mail.signature] if mail.signature else [])],
                     key=lambda r: r.start)
    floor = mail.header.end if mail.header else 0
    for region in regions:
        assert floor <= region.start < region.end <= len(text)
        assert text[region.start:region.end] == text[region.start:region.end].strip()
        floor = region.end
    # Every non-blank character after the header belongs to a region; the only text left out is a
    # second signature (the type holds one), and that must read as a signature on its own.
    bounds = [mail.header.end if mail.header else 0, *[x for r in regions for x in (r.start, r.end)], len(text)]
    for gap_start, gap_end in zip(bounds[::2], bounds[1::2], strict=True):
        gap = text[gap_start:gap_end].strip()
        if gap:
            assert mail.signature is not None
            assert parse_mail_structure(gap).signature == Region(0, len(gap)), gap
    plain = parse_mail_structure("\n".join(lines))
    assert [p.replace(nl, "\n") for p in pieces(text, mail.new_text)] == pieces("\n".join(lines), plain.new_text)

"""Customer ledger, weekly digest and "Wie versprochen" phrasings against golden files; `versprochen report`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import jinja2
import pytest

from server.cli import main
from server.dashboard.ledger import Ledger, build_digest, build_ledger
from server.report import render_digest, render_ledger
from server.tracker.store import TrackerStore
from templates.phrasings import delivery_type, wie_versprochen
from tests.dashboard.seed import NOW, seed
from tests.templates.conftest import check_golden


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger") / "tracker.sqlite3"
    seed(path)
    return path


@pytest.fixture(scope="module")
def store(db: Path) -> Iterator[TrackerStore]:
    with TrackerStore(db, read_only=True) as s:
        yield s


@pytest.fixture(scope="module")
def anna(store: TrackerStore) -> Ledger:
    return build_ledger(store, "anna@kunde.de", NOW)


def test_ledger_groups_promises_honestly(anna: Ledger) -> None:
    assert anna.customer_label == "Anna Kunde" and anna.customer_name == "Anna Kunde"
    assert [e.quote for e in anna.kept] == ["Ich rufe Sie morgen zurück."]
    assert [e.quote for e in anna.broken] == ["Die Lieferung ist am Donnerstag bei Ihnen."]
    assert [(e.quote, e.overdue) for e in anna.open] == [
        ("Ich schicke Ihnen bis Freitag die Muster.", True), ("Ich schicke Ihnen bis Freitag das Angebot.", False)]
    assert anna.kept[0].on_time is True and anna.owners == ["Max Muster", "Eva Engel"]


@pytest.mark.parametrize("fmt", ["text", "html", "md"])
def test_ledger_matches_golden(env: jinja2.Environment, anna: Ledger, fmt: str) -> None:
    text = render_ledger(env, anna, fmt)
    check_golden(f"ledger.{ {'text': 'txt'}.get(fmt, fmt) }", text)
    # Internal notes never reach the customer.
    assert "Telefonat geführt" not in text


def test_ledger_html_escapes_hostile_text(env: jinja2.Environment, store: TrackerStore) -> None:
    html = render_ledger(env, build_ledger(store, "evil@kunde.de", NOW), "html")
    assert "<script>" not in html and "<b>Kunde</b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html


def test_empty_ledger_is_polite(env: jinja2.Environment, store: TrackerStore) -> None:
    text = render_ledger(env, build_ledger(store, "niemand@nirgends.de", NOW), "text")
    assert "wir haben Ihnen bisher nichts zugesagt" in text and "Guten Tag,\n" in text


def test_ledger_for_a_whole_domain(store: TrackerStore) -> None:
    ledger = build_ledger(store, "@kunde.de", NOW)
    assert ledger.total == 5 and len(ledger.open) == 3


@pytest.mark.parametrize("fmt", ["text", "html"])
def test_digest_matches_golden(env: jinja2.Environment, store: TrackerStore, fmt: str) -> None:
    digest = build_digest(store, date(2026, 11, 18), NOW)
    assert digest.week == 47 and len(digest.kept) == 1 and len(digest.broken) == 1
    assert [r.promise.quote for r in digest.overdue] == ["Ich schicke Ihnen bis Freitag die Muster."]
    check_golden(f"digest.{ 'txt' if fmt == 'text' else 'html' }", render_digest(env, digest, fmt))


@pytest.mark.parametrize(("obj", "kind", "expected"), [
    ("das überarbeitete Preisangebot", "document", "Wie versprochen, erhalten Sie anbei das überarbeitete "
                                                   "Preisangebot."),
    ("die Reparatur Ihrer Heizung", "repair", "Wie versprochen, haben wir die Reparatur Ihrer Heizung heute "
                                              "erledigt."),
    ("die Ersatzteile", "shipment", "Wie versprochen, haben wir die Ersatzteile heute an Sie verschickt."),
    ("die Gutschrift", "payment", "Wie versprochen, haben wir die Gutschrift heute angewiesen."),
    ("den Vor-Ort-Termin", "appointment", "Wie versprochen, bestätige ich Ihnen den Vor-Ort-Termin."),
    ("den Rückruf", "callback", "Wie versprochen, melde ich mich heute bei Ihnen."),
    ("den aktuellen Zwischenstand", "information", "Wie versprochen, erhalten Sie hier den aktuellen "
                                                   "Zwischenstand:"),
    ("die Endabrechnungsdetails", "information", "Wie versprochen, erhalten Sie hier die Endabrechnungsdetails:"),
    ("den Schlüssel", "other", "Wie versprochen, erhalten Sie hier den Schlüssel."),
])
def test_wie_versprochen_by_delivery_type(env: jinja2.Environment, obj: str, kind: str, expected: str) -> None:
    assert delivery_type(env, obj) == kind
    assert wie_versprochen(env, obj) == expected


def test_wie_versprochen_with_a_date_and_unknown_kind(env: jinja2.Environment) -> None:
    assert wie_versprochen(env, "", kind="payment", day=date(2026, 11, 26)) == (
        "Wie versprochen, haben wir die Zahlung am Donnerstag, 26. November 2026 angewiesen.")
    with pytest.raises(ValueError, match="Unbekannte Lieferart"):
        wie_versprochen(env, "x", kind="zauberei")


def test_report_command_writes_each_format(db: Path, tmp_path: Path, anna: Ledger,
                                           env: jinja2.Environment) -> None:
    for fmt in ("text", "html", "md"):
        out = tmp_path / f"konto.{fmt}"
        args = ["report", "--customer", "anna@kunde.de", "--format", fmt, "--db", str(db), "-o", str(out),
                "--now", NOW.isoformat()]
        assert main(args) == 0
        assert out.read_text(encoding="utf-8") == render_ledger(env, anna, fmt)


def test_report_digest_to_stdout(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--digest", "--week", "18.11.2026", "--db", str(db), "--now", NOW.isoformat()]) == 0
    assert capsys.readouterr().out.startswith("Betreff: Zusagen – Wochenbericht KW 47: 1 überfällig")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--customer", "a@b.de", "--db", "{missing}"], 1, "keine Tracker-Datenbank"),
    (["--digest", "--week", "irgendwann", "--db", "{db}"], 2, "Ungültiges Datum"),
    (["--customer", "a@b.de", "--db", "{db}", "-o", "{tmp}/fehlt/x.txt"], 1, "nicht schreibbar"),
])
def test_report_errors_are_messages(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    args: list[str], code: int, message: str) -> None:
    filled = [a.format(db=db, missing=tmp_path / "nichts.sqlite3", tmp=tmp_path) for a in args]
    assert main(["report", *filled]) == code
    assert message in capsys.readouterr().err

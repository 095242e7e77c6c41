"""Reminder and postponement templates against golden files; the environment's loader, escaping, filters."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
import pytest

from server.tracker.models import TrackedPromise
from server.tracker.remind import render_reminder
from templates import TemplateDirError, datum, datum_lang, frist, iso, make_environment, uhrzeit, wochentag
from tests.templates.conftest import check_golden

CONTEXT: dict[str, Any] = {
    "id": 7, "kind": "lead", "quote": "Ich schicke Ihnen bis Freitag das überarbeitete Angebot.",
    "subject": "Angebot Küche", "due": "2026-11-27", "deadline_text": "bis Freitag",
    "made": datetime(2026, 11, 23, 10, 4), "customer": "Anna Kunde", "customer_name": "Anna Kunde",
    "owner_name": "Max Muster", "reply_subject": "Re: Angebot Küche", "new_date": date(2026, 12, 2),
}


def test_postponement_draft_matches_golden(env: jinja2.Environment) -> None:
    check_golden("postponement.txt", env.get_template("postponement.txt.j2").render(CONTEXT))


def test_postponement_draft_without_names_keeps_placeholders(env: jinja2.Environment) -> None:
    text = env.get_template("postponement.txt.j2").render(CONTEXT | {"customer_name": "", "owner_name": ""})
    assert "Guten Tag,\n" in text and text.rstrip().endswith("[Ihr Name]")


@pytest.mark.parametrize(("kind", "due"), [("lead", "2026-11-27"), ("due", "2026-11-27T14:00")])
def test_reminder_matches_golden(env: jinja2.Environment, kind: str, due: str) -> None:
    context = CONTEXT | {"kind": kind, "due": due, "draft": "ENTWURF"}
    text = env.get_template("reminder.txt.j2").render(context)
    check_golden(f"reminder_{kind}.txt", text)


def test_rendered_reminder_mail_matches_golden(env: jinja2.Environment) -> None:
    promise = TrackedPromise(
        id=12, message_id="<p@firma.de>", sender="Max Muster <max@firma.de>",
        recipients=("Anna Kunde <anna@kunde.de>", "einkauf@kunde.de"), subject="Ihre Anfrage",
        quote="Die Monteure sind am Donnerstag um 8 Uhr bei Ihnen.", kind="implicit", risk="high",
        deadline_text="am Donnerstag um 8 Uhr", due="2026-11-26T08:00", vague=False, object=None,
        state="open", created=datetime(2026, 11, 23, 10, 4), updated=datetime(2026, 11, 23, 10, 4))
    message = render_reminder(env, promise, "lead", datetime(2026, 11, 25, 9, 0), "erinnerung@firma.de")
    head = f"Subject: {message['Subject']}\nTo: {message['To']}\nFrom: {message['From']}\n\n"
    check_golden("reminder_mail.txt", head + message.get_content())


def test_missing_variables_fail_loudly(env: jinja2.Environment) -> None:
    context = dict(CONTEXT)
    del context["quote"]
    with pytest.raises(jinja2.UndefinedError, match="quote"):
        env.get_template("postponement.txt.j2").render(context)


def test_team_folder_overrides_and_html_is_escaped(tmp_path: Path) -> None:
    (tmp_path / "postponement.txt.j2").write_text("Team: {{ quote }}\n", encoding="utf-8")
    (tmp_path / "ledger.html.j2").write_text("<p>{{ quote }}</p>", encoding="utf-8")
    env = make_environment(tmp_path, use_config=False)
    assert env.get_template("postponement.txt.j2").render(quote="A & B") == "Team: A & B\n"
    assert env.get_template("ledger.html.j2").render(quote="<b>&") == "<p>&lt;b&gt;&amp;</p>"
    # Templates the team does not override still come from the built-in folder.
    assert "Betreff:" in env.get_template("reminder.txt.j2").render(CONTEXT | {"draft": "x"})


def test_team_folder_from_project_config(tmp_path: Path) -> None:
    (tmp_path / "vorlagen").mkdir()
    (tmp_path / "vorlagen" / "postponement.txt.j2").write_text("Aus der Konfiguration\n", encoding="utf-8")
    (tmp_path / "versprochen.toml").write_text('[templates]\ndir = "vorlagen"\n', encoding="utf-8")
    env = make_environment(config_start=tmp_path)
    assert env.get_template("postponement.txt.j2").render() == "Aus der Konfiguration\n"


def test_missing_team_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateDirError, match="gibt es nicht"):
        make_environment(tmp_path / "fehlt")


@pytest.mark.parametrize(("flt", "value", "expected"), [
    (datum, "2026-11-27", "27.11.2026"), (datum, datetime(2026, 3, 1, 9, 5), "01.03.2026"),
    (datum_lang, date(2026, 3, 2), "Montag, 2. März 2026"),
    (frist, "2026-11-27T14:00", "Freitag, 27. November 2026, 14:00 Uhr"),
    (frist, "2026-12-31", "Donnerstag, 31. Dezember 2026"), (frist, None, "–"),
    (uhrzeit, "2026-11-27", ""), (uhrzeit, "2026-11-27T08:30", "08:30"),
    (wochentag, "2026-11-29", "Sonntag"), (iso, date(2026, 12, 2), "2026-12-02"),
])
def test_german_date_filters(flt: Any, value: object, expected: str) -> None:
    assert flt(value) == expected


def test_date_filter_rejects_non_dates() -> None:
    with pytest.raises(ValueError, match="Kein Datum"):
        datum("nächste Woche")

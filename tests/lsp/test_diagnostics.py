"""Diagnostics end to end: what is published on open and change, for which documents, and how it looks."""

from __future__ import annotations

import pytest
from lsprotocol import types

from tests.lsp.conftest import Session

pytestmark = pytest.mark.asyncio(loop_scope="module")

RISKY = "Hallo Frau Reuter,\n\nwir liefern garantiert bis Freitag.\n"
MAIL = (
    "Date: Mon, 23 Nov 2026 10:00:00 +0100\n"
    "An: Anna Reuter <anna@kunde.de>\n"
    "Betreff: Angebot\n"
    "\n"
    "Hallo Frau Reuter,\n"
    "\n"
    "wir liefern garantiert bis Freitag. Ich melde mich zeitnah wegen dem Meeting.\n"
    "\n"
    "Anbei erhalten Sie das Angebot.\n"
    "\n"
    "Viele Grüße\n"
    "Max Berger\n"
    "\n"
    "Am 20.11.2026 um 09:12 schrieb Anna Reuter <anna@kunde.de>:\n"
    "> Können Sie mir ein Angebot schicken?\n"
    ">\n"
    "> Am 19.11.2026 schrieb Max Berger:\n"
    ">> Ich schicke Ihnen das Angebot bis Montag.\n"
)


def by_text(session: Session, uri: str, diagnostics: object, needle: str) -> list[types.Diagnostic]:
    """The diagnostics whose range text contains `needle`."""
    assert isinstance(diagnostics, tuple | list)
    return [d for d in diagnostics if needle in session.span(uri, d.range)]


async def test_risky_promise_is_a_warning(session: Session) -> None:
    """A high-risk promise: warning, rule id as code, source versprochen, German message on the promise."""
    uri = session.uri("angebot.txt")
    published = await session.open(uri, RISKY)
    risky = by_text(session, uri, published.diagnostics, "garantiert")
    assert risky, published.diagnostics
    d = risky[0]
    assert d.severity == types.DiagnosticSeverity.Warning
    assert d.source == "versprochen"
    assert isinstance(d.code, str) and d.code.startswith("versprochen.")
    assert "Zusage" in d.message
    assert session.span(uri, d.range).startswith("wir liefern")
    # VS Code keeps Diagnostic.data: the extension's status bar counts risky promises from it.
    assert d.data == ({"kind": "promise", "risk": "high"} if session.is_vscode else None)


async def test_related_information_points_at_the_deadline(session: Session) -> None:
    """The promise's related information is the deadline phrase, resolved in words."""
    uri = session.uri("frist.txt")
    published = await session.open(uri, MAIL)
    risky = by_text(session, uri, published.diagnostics, "garantiert")
    assert risky and risky[0].related_information, risky
    info = risky[0].related_information[0]
    assert info.location.uri == uri
    assert session.span(uri, info.location.range) == "bis Freitag"
    assert "Freitag, 27.11.2026" in info.message


async def test_vague_deadline_is_its_own_warning(session: Session) -> None:
    """"zeitnah" gets a separate warning on the phrase, code versprochen.VagueDeadlines."""
    uri = session.uri("vage.txt")
    published = await session.open(uri, MAIL)
    vague = [d for d in published.diagnostics if d.code == "versprochen.VagueDeadlines"]
    assert [session.span(uri, d.range) for d in vague] == ["zeitnah"]
    assert vague[0].severity == types.DiagnosticSeverity.Warning
    assert vague[0].related_information and "melde" in session.span(
        uri, vague[0].related_information[0].location.range)


async def test_jargon_is_information(session: Session) -> None:
    """Jargon: information severity on the term, message with the plain alternative."""
    uri = session.uri("jargon.txt")
    published = await session.open(uri, "Das Meeting verschieben wir auf Montag.\n")
    jargon = [d for d in published.diagnostics if session.span(uri, d.range) == "Meeting"]
    assert jargon and jargon[0].severity == types.DiagnosticSeverity.Information
    assert jargon[0].code == "versprochen.Anglicisms"
    assert "Besprechung" in jargon[0].message


async def test_mail_sections(session: Session) -> None:
    """In a mail, quoted history and signature are not checked; the delivery in the new text is a hint."""
    uri = session.uri("antwort.eml")
    published = await session.open(uri, MAIL, language="email")
    quoted_start = MAIL.index("Am 20.11.2026")
    index_line = MAIL[:quoted_start].count("\n")
    assert all(d.range.start.line < index_line for d in published.diagnostics
               if d.code != "versprochen.OpenPromises")
    delivery = by_text(session, uri, published.diagnostics, "Anbei erhalten Sie das Angebot")
    hints = [d for d in delivery if d.severity == types.DiagnosticSeverity.Hint]
    assert hints, published.diagnostics
    assert "Zusage" in hints[0].message


async def test_markdown_code_is_not_prose(session: Session) -> None:
    """Jargon inside Markdown code is ignored; the same word in prose is flagged."""
    uri = session.uri("notiz.md")
    text = "# Notiz\n\n```\nMeeting\n```\n\nDas `Meeting` und das Meeting.\n"
    published = await session.open(uri, text, language="markdown")
    lines = {d.range.start.line for d in published.diagnostics if "Meeting" in session.span(uri, d.range)}
    assert lines == {6}
    flagged = [d for d in published.diagnostics if session.span(uri, d.range) == "Meeting"]
    assert len(flagged) == 1 and flagged[0].range.start.character > 20


async def test_other_languages_are_ignored_but_mail_headers_count(session: Session) -> None:
    """A Python file gets no diagnostics; an untitled buffer with a mail header block does."""
    code_uri = session.uri("skript.py")
    session.client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=code_uri, language_id="python", version=1, text="# wir liefern garantiert bis Freitag\n")))
    untitled = f"untitled:Unbenannt-{session.name}"
    published = await session.open(untitled, "An: anna@kunde.de\nBetreff: Test\n\n" + RISKY, language="")
    assert by_text(session, untitled, published.diagnostics, "garantiert")
    assert all(e.uri != code_uri for e in session.recorder.events)


async def test_change_updates_and_close_clears(session: Session) -> None:
    """An incremental edit re-publishes for the new version; closing publishes an empty list."""
    uri = session.uri("entwurf.txt")
    await session.open(uri, RISKY)
    line = RISKY.split("\n").index("wir liefern garantiert bis Freitag.")
    version = session.change(uri, [((line, 12), (line, 23), "")])
    assert session.texts[uri].endswith("wir liefern bis Freitag.\n")
    published = await session.wait_for(uri, version)
    assert not [d for d in published.diagnostics if d.severity == types.DiagnosticSeverity.Warning
                and d.code != "versprochen.VagueDeadlines"]
    mark = len(session.recorder.events)
    session.close(uri)
    cleared = await session.wait_until(lambda e: e.uri == uri, after=mark)
    assert len(cleared.diagnostics) == 0


async def test_project_config_is_followed(session: Session) -> None:
    """versprochen.toml in the workspace: per-rule severity and disabled rules apply without a restart."""
    config = session.root / "versprochen.toml"
    config.write_text('[rules]\ndisabled = ["VagueDeadlines"]\n\n[rules.severity]\nAnglicisms = "warning"\n',
                      encoding="utf-8")
    try:
        uri = session.uri("projekt.txt")
        published = await session.open(uri, "Das Meeting ist morgen. Ich melde mich zeitnah.\n")
        found = {session.span(uri, d.range): d.severity for d in published.diagnostics}
        assert found["Meeting"] == types.DiagnosticSeverity.Warning
        assert "zeitnah" not in found
    finally:
        config.unlink()

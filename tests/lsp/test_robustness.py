"""Robustness end to end: UTF-16 positions, edits outside the document, a 1 MB document, rapid edits."""

from __future__ import annotations

import pytest
from lsprotocol import types

from server.lsp.positions import LineIndex
from tests.lsp.conftest import Published, Session

pytestmark = pytest.mark.asyncio(loop_scope="module")


def spans(session: Session, uri: str, published: Published) -> list[str]:
    """The document text under each diagnostic (mirror of the client's copy)."""
    return [session.span(uri, d.range) for d in published.diagnostics]


def assert_inside(text: str, published: Published) -> None:
    """Every range lies inside the document, in UTF-16 units, start before end."""
    index = LineIndex(text)
    for d in published.diagnostics:
        for pos in (d.range.start, d.range.end):
            assert 0 <= pos.line < index.line_count, d
            assert 0 <= pos.character <= len(index.line_text(pos.line).encode("utf-16-le")) // 2, d
        assert (d.range.start.line, d.range.start.character) <= (d.range.end.line, d.range.end.character)


async def test_utf16_positions_with_umlauts_and_emoji(session: Session) -> None:
    """Ranges after ä, ß and emoji (two UTF-16 units each) still cover exactly the finding."""
    uri = session.uri("emoji.txt")
    text = "Grüße 😀 aus Köln – ß! 🎉🎉 Das Meeting ist fix.\nÄh 😀, wir liefern garantiert bis Freitag.\n"
    published = await session.open(uri, text)
    found = spans(session, uri, published)
    assert "Meeting" in found
    assert any(s.endswith("wir liefern garantiert bis Freitag") for s in found)
    meeting = next(d for d in published.diagnostics if session.span(uri, d.range) == "Meeting")
    assert meeting.range.start.character == len(text[:text.index("Meeting")].encode("utf-16-le")) // 2
    # Insert more emoji in front: the ranges move by two units per emoji.
    version = session.change(uri, [((0, 0), (0, 0), "🙂🙂")])
    moved = await session.wait_for(uri, version)
    after = next(d for d in moved.diagnostics if session.span(uri, d.range) == "Meeting")
    assert after.range.start.character == meeting.range.start.character + 4
    assert_inside(session.texts[uri], moved)


async def test_edits_outside_the_document(session: Session) -> None:
    """Edits past the last line or column are clamped like the spec says; the server stays in sync."""
    uri = session.uri("aussen.txt")
    await session.open(uri, "Hallo,\n")
    v1 = session.change(uri, [((40, 3), (41, 0), "Das Meeting ist morgen.")])  # past the end: appended
    v2 = session.change(uri, [((0, 99), (0, 120), " Frau Reuter")])  # past the line end: at the line end
    assert v2 == v1 + 1
    assert session.texts[uri] == "Hallo, Frau Reuter\nDas Meeting ist morgen."
    published = await session.wait_for(uri, v2)
    assert "Meeting" in spans(session, uri, published)
    assert_inside(session.texts[uri], published)
    messages = [m for m in session.client.messages if m.type == types.MessageType.Error]
    assert not messages


async def test_one_megabyte_document(session: Session) -> None:
    """A document over maxDocumentChars is checked up to the limit, with a message; edits still work."""
    uri = session.uri("riesig.txt")
    paragraph = "Sehr geehrte Frau Reuter, das Meeting verschieben wir. Wir liefern garantiert bis Freitag.\n\n"
    text = paragraph * (1_050_000 // len(paragraph) + 1)
    assert len(text) > 1_000_000
    published = await session.open(uri, text)
    notice = [d for d in published.diagnostics if d.code == "versprochen.DocumentTooLarge"]
    assert len(notice) == 1 and "1.000.000" in notice[0].message
    assert any("groß" in m.message for m in session.client.messages)
    assert all(d.range.start.line <= notice[0].range.start.line for d in published.diagnostics)
    version = session.change(uri, [((0, 0), (0, 0), "Hallo!\n")])
    again = await session.wait_for(uri, version, timeout=180)
    assert [d for d in again.diagnostics if d.code == "versprochen.DocumentTooLarge"]


async def test_rapid_edits_are_coalesced(session: Session) -> None:
    """Typing fast: fewer publishes than edits, and the last one matches the last version exactly."""
    uri = session.uri("tippen.txt")
    await session.open(uri, "")
    mark = len(session.recorder.events)
    typed = "Das Meeting ist morgen. Wir liefern garantiert bis Freitag."
    version = 1
    for i, char in enumerate(typed):
        version = session.change(uri, [((0, i), (0, i), char)])
    final = await session.wait_for(uri, version)
    events = [e for e in session.recorder.events[mark:] if e.uri == uri]
    assert len(events) < len(typed)
    assert all(e.version is not None and e.version <= version for e in events)
    assert [e.version for e in events] == sorted(e.version for e in events if e.version is not None)
    found = spans(session, uri, final)
    assert "Meeting" in found and any("garantiert" in s for s in found)

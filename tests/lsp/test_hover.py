"""Hover end to end: the reason, the deadline in words and as a date, and the suggestions."""

from __future__ import annotations

import pytest
from lsprotocol import types

from tests.lsp.conftest import Session

pytestmark = pytest.mark.asyncio(loop_scope="module")

DRAFT = (
    "Date: Mon, 23 Nov 2026 10:00:00 +0100\n"
    "An: Anna Reuter <anna@kunde.de>\n"
    "Betreff: Lieferung\n"
    "\n"
    "Hallo Frau Reuter,\n"
    "\n"
    "wir liefern garantiert bis Freitag. Ich melde mich zeitnah wegen dem Meeting.\n"
)


async def hover_at(session: Session, uri: str, needle: str, shift: int = 1) -> types.Hover | None:
    """textDocument/hover inside the first occurrence of `needle`."""
    return await session.client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=session.position_of(uri, needle, shift)))


def markdown(hover: types.Hover | None) -> str:
    """The hover's Markdown text."""
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    return hover.contents.value


async def test_hover_on_risky_promise(session: Session) -> None:
    """Reason, deadline resolved against the Date header, and suggestions; the range is the promise."""
    uri = session.uri("lieferung.txt")
    await session.open(uri, DRAFT)
    hover = await hover_at(session, uri, "garantiert")
    text = markdown(hover)
    assert "Warum das Vertrauen kosten kann:" in text
    assert "Glaubwürdigkeit" in text or "Vertrauen" in text
    assert "Freitag, 27.11.2026" in text
    assert "Vorschläge" in text and "- " in text
    assert hover is not None and hover.range is not None
    assert session.span(uri, hover.range).startswith("wir liefern garantiert")


async def test_hover_on_vague_deadline_and_jargon(session: Session) -> None:
    """The narrowest finding wins: the vague phrase inside a promise, the jargon term with alternatives."""
    uri = session.uri("termine.txt")
    await session.open(uri, DRAFT)
    vague = markdown(await hover_at(session, uri, "zeitnah"))
    assert "zeitnah" in vague and "vage" in vague
    jargon = markdown(await hover_at(session, uri, "Meeting"))
    assert "Einfacher:" in jargon and "Besprechung" in jargon


async def test_no_hover_outside_findings(session: Session) -> None:
    """Plain words and the greeting have no hover."""
    uri = session.uri("gruss.txt")
    await session.open(uri, DRAFT)
    assert await hover_at(session, uri, "Hallo") is None

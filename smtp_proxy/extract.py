"""Best-effort extraction for one relayed message: MIME body → engine → the `X-Versprochen` header.

Pure functions run in a worker (a process by default, so parsing and analysis never compete with
the relay for the event loop's core); the proxy only ever sees an `Extraction`, never an exception.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import getaddresses
from typing import TYPE_CHECKING, Any, Protocol

from server.tracker.models import SentMail

if TYPE_CHECKING:
    from server.engine.types import Analysis

log = logging.getLogger(__name__)

HEADER_NAME = "X-Versprochen"
# Only the start of a message is analysed: promises sit in the text, not in a 10 MB attachment.
MAX_ANALYSED_BYTES = 1_000_000
_BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]+)"|([^\s;"]+))', re.IGNORECASE)
_PART_TYPE = re.compile(rb"^content-type:\s*([a-z0-9!#$&^_.+-]+)/", re.IGNORECASE | re.MULTILINE)
_ATTACHMENT = re.compile(rb"^content-disposition:\s*attachment", re.IGNORECASE | re.MULTILINE)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


class Analyzer(Protocol):
    """What the proxy needs from the engine."""

    def analyze(self, text: str, sent: datetime | None = None) -> Analysis:
        """Findings for one text."""
        ...


ParseFn = Callable[[bytes], Any]


@dataclass(frozen=True, slots=True)
class Extraction:
    """What extraction produced for one message; `analysis` is None when it failed."""

    header: str
    analysis: Analysis | None = None
    facts: SentMail | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    # Set for results of a worker process, which keeps the analysis until told the upstream's verdict.
    ticket: int | None = None

    def header_bytes(self) -> bytes:
        """The one header line prepended to the message (ASCII, CRLF)."""
        return f"{HEADER_NAME}: {self.header}\r\n".encode("ascii", "replace")


PENDING = "pending"


def failed(error: str) -> Extraction:
    """The extraction result for a failure kind (`timeout`, `parse`, `unavailable`, `busy`, `refused`)."""
    return Extraction(header=f"error={error}", error=error)


def pending(ticket: int) -> Extraction:
    """The result for a mail relayed before its analysis finished (the worker records it later)."""
    return Extraction(header=PENDING, ticket=ticket)


def header_value(analysis: Analysis) -> str:
    """'2 Zusagen; naechste Frist 2026-11-27' (ASCII on purpose: no RFC 2047 needed)."""
    count = len(analysis.promises)
    text = f"{count} {'Zusage' if count == 1 else 'Zusagen'}"
    dues = [p.deadline.due_iso() for p in analysis.promises if p.deadline is not None]
    known = sorted(d for d in dues if d)
    if known:
        text += f"; naechste Frist {known[0]}"
    return text


def _field(headers: Any, name: str) -> Any:
    if isinstance(headers, dict):
        return headers.get(name, headers.get(name.rstrip("_")))
    return getattr(headers, name, None)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _ids(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value if v)
    return tuple(str(value).split())


def _addresses(value: Any) -> tuple[str, ...]:
    """Recipients as 'Name <addr>' or 'addr', one entry per address."""
    out = []
    for name, addr in getaddresses([_text(value)]):
        if addr:
            out.append(f"{name} <{addr}>" if name else addr)
    return tuple(out)


def mail_facts(parsed: Any, raw: bytes, envelope_from: str, envelope_to: Sequence[str],
               now: datetime) -> SentMail:
    """The tracker's record of a mail from its headers, falling back on the envelope where they are missing."""
    headers = parsed.headers
    date = _field(headers, "date")
    # Naive local wall time, as the tracker stores it (an aware Date header is converted, not cut).
    sent = (date.astimezone().replace(tzinfo=None) if date.tzinfo else date) \
        if isinstance(date, datetime) else now
    message_id = _text(_field(headers, "message_id")).strip()
    if not message_id:
        # Stable across retries of the same message, so the tracker's idempotency still holds.
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:32]}@versprochen.invalid>"
    recipients = _addresses(_field(headers, "to")) + _addresses(_field(headers, "cc"))
    in_reply_to = _text(_field(headers, "in_reply_to")).strip() or None
    return SentMail(
        message_id=message_id,
        sender=_text(_field(headers, "from_")).strip() or envelope_from,
        recipients=recipients or tuple(envelope_to),
        subject=_text(_field(headers, "subject")),
        sent=sent,
        in_reply_to=in_reply_to,
        references=_ids(_field(headers, "references")),
    )


def trim_for_analysis(raw: bytes) -> bytes:
    """The message cut before its first attachment part (the relayed bytes are never cut).

    Parsing a PDF's base64 costs more than analysing the text; the text parts come first in
    practically every mail client's output. Only declared boundaries count, so a "-- " signature
    or a dashed line in the text never cuts anything.
    """
    cut = len(raw)
    for boundary in _boundaries(raw):
        start = _first_attachment(raw, b"\n--" + boundary, cut)
        cut = min(cut, start)
    return raw[:cut]


def _boundaries(raw: bytes) -> set[bytes]:
    """Declared multipart boundaries (plain find first: a regex over base64 would cost more)."""
    found = set()
    for needle in (b"oundary", b"OUNDARY"):
        pos = raw.find(needle, 0, 65536)
        while pos > 0:
            match = _BOUNDARY_PARAM.match(raw, pos - 1)
            if match:
                found.add(match.group(1) or match.group(2))
            pos = raw.find(needle, pos + 7, 65536)
    return found


def _first_attachment(raw: bytes, delimiter: bytes, limit: int) -> int:
    """Where the first non-text or attachment part after `delimiter` starts, else `limit`.

    bytes.find instead of a multiline regex: this runs on every relayed message.
    """
    pos = raw.find(delimiter, 0, limit)
    while pos >= 0:
        line_end = raw.find(b"\n", pos + len(delimiter))
        rest = raw[pos + len(delimiter):line_end if line_end >= 0 else len(raw)]
        if line_end >= 0 and not rest.strip():  # a delimiter line, not the closing "--" or text
            blank = _BLANK_LINE.search(raw, line_end, line_end + 8192)
            block = raw[line_end:blank.start() if blank else line_end + 8192]
            kind = _PART_TYPE.search(block)
            main = kind.group(1).lower() if kind else b"text"
            if _ATTACHMENT.search(block) or main not in (b"text", b"multipart", b"message"):
                return pos + 1
        pos = raw.find(delimiter, pos + len(delimiter), limit)
    return limit


def default_parse(raw: bytes) -> Any:
    """The engine's MIME parser (imported late: it is only needed inside the worker)."""
    from server.engine.mime import parse_message

    return parse_message(raw)


def analyze_message(raw: bytes, analyzer: Analyzer, envelope_from: str, envelope_to: Sequence[str],
                    parse: ParseFn = default_parse) -> Extraction:
    """Parse the message and run the engine on its body; failures become an `error=parse` result."""
    now = datetime.now().replace(microsecond=0)
    try:
        parsed = parse(trim_for_analysis(raw))
        facts = mail_facts(parsed, raw, envelope_from, envelope_to, now)
        body = parsed.body if isinstance(parsed.body, str) else ""
    except Exception:
        log.exception("MIME-Auswertung fehlgeschlagen")
        return failed("parse")
    try:
        analysis = analyzer.analyze(body, facts.sent)
    except Exception:
        log.exception("Analyse fehlgeschlagen (%s)", facts.message_id)
        return failed("parse")
    warnings = tuple(str(w) for w in (getattr(parsed, "warnings", None) or ()))
    return Extraction(header=header_value(analysis), analysis=analysis, facts=facts, warnings=warnings)

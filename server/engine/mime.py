"""MIME extraction: the writer's text and the key headers of a raw mail, best effort, never raising."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import errors as email_errors
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from server.engine.html_text import html_to_text
from server.engine.mail import header_block

# Only this much of a message is parsed: text parts come first, huge attachments follow them.
MAX_MESSAGE_BYTES = 4_000_000
# The extracted body is cut here (the engine analyses at most 2 MB anyway).
MAX_TEXT_CHARS = 2_000_000
MAX_DEPTH = 30
MAX_PARTS = 500

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_SINGLE_BYTE = re.compile(r"latin[-_]?\d|iso8859[-_]\d+|cp125\d|iso-8859-\d+|windows-125\d|l\d")

_DEFECT_TEXT = {
    email_errors.NoBoundaryInMultipartDefect: "mehrteilige Nachricht ohne Grenzangabe (boundary)",
    email_errors.StartBoundaryNotFoundDefect: "die angegebene MIME-Grenze kommt in der Nachricht nicht vor",
    email_errors.CloseBoundaryNotFoundDefect: "die Nachricht ist abgeschnitten (MIME-Abschluss fehlt)",
    email_errors.FirstHeaderLineIsContinuationDefect: "die erste Kopfzeile ist eine Fortsetzungszeile",
    email_errors.MissingHeaderBodySeparatorDefect: "zwischen Kopf und Text fehlt die Leerzeile",
    email_errors.InvalidMultipartContentTransferEncodingDefect:
        "ungültige Transferkodierung für einen mehrteiligen Teil",
    email_errors.InvalidBase64PaddingDefect: "Base64-Daten mit fehlerhaftem Auffüllen",
    email_errors.InvalidBase64CharactersDefect: "Base64-Daten mit ungültigen Zeichen",
    email_errors.InvalidBase64LengthDefect: "Base64-Daten mit ungültiger Länge",
}


@dataclass(frozen=True, slots=True)
class MailHeaders:
    """The headers the engine and the tracker need, decoded (RFC 2047) to plain text."""

    from_: str = ""
    to: str = ""
    cc: str = ""
    subject: str = ""
    # The Date header as the sender's local wall-clock time (naive, like the engine's sent time).
    date: datetime | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()

    def sender(self) -> str:
        """The bare address of From (lower case), or "" when there is none."""
        found = addresses(self.from_)
        return found[0] if found else ""

    def recipients(self) -> tuple[str, ...]:
        """The bare addresses of To and Cc (lower case, without duplicates, in order)."""
        return tuple(dict.fromkeys(addresses(self.to) + addresses(self.cc)))


@dataclass(slots=True)
class ParsedMail:
    """A mail reduced to what the engine reads: headers, the preferred text, and what went wrong."""

    headers: MailHeaders
    body: str
    html_converted: bool = False
    warnings: list[str] = field(default_factory=list)
    # File names of the attachments that were skipped (for "Anbei erhalten Sie …" checks).
    attachments: tuple[str, ...] = ()


def addresses(value: str) -> tuple[str, ...]:
    """Bare, lower-cased addresses of an address header ("Anna <A@b.de>, c@d.de" → a@b.de, c@d.de)."""
    try:
        pairs = getaddresses([value])
    except (TypeError, ValueError, IndexError):  # the stdlib address parser trips on some garbage
        pairs = []
    return tuple(addr.strip().lower() for _, addr in pairs if "@" in addr)


def decode_text(raw: bytes) -> tuple[str, str | None]:
    """Bytes of a text file or part to str: UTF-8 (BOM aware), else Windows-1252, else Latin-1;
    the second value is a German warning when the text was not clean UTF-8 or held NUL bytes."""
    text, encoding = _guess_decode(raw)
    notes = [] if encoding.startswith("UTF") else [f"Der Text ist nicht UTF-8-kodiert; gelesen als {encoding}."]
    if "\x00" in text:
        text = text.replace("\x00", "")
        notes.append("Der Text enthielt NUL-Bytes; sie wurden entfernt.")
    return text, " ".join(notes) or None


def _guess_decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-16 or UTF-8 by BOM, else UTF-8, Windows-1252, Latin-1 in turn."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace"), "UTF-16"
    raw = raw.removeprefix(codecs.BOM_UTF8)
    for codec, name in (("utf-8", "UTF-8"), ("cp1252", "Windows-1252")):
        try:
            return raw.decode(codec), name
        except UnicodeDecodeError:
            pass
    return raw.decode("latin-1"), "ISO-8859-1"


def looks_like_mail(text: str) -> bool:
    """Whether the first lines of a text are a mail header block (a pasted or saved mail, or a draft)."""
    fields, region = header_block(text[:65536])
    if region is None or not {"from", "to", "cc", "subject", "date", "message-id"} & fields.keys():
        return False
    if len(fields) >= 2:
        return True
    # A single field ("Betreff: …") counts when a blank line separates it from the text.
    rest = text[region.end:region.end + 200].replace("\r", "")
    return rest.startswith("\n\n") or rest.strip() == ""


def looks_like_mime(text: str) -> bool:
    """Whether a text is a raw MIME message (header block with MIME fields), not an edited draft."""
    fields, _ = header_block(text[:65536])
    mime_keys = {"mime-version", "content-type", "content-transfer-encoding"}
    return bool(mime_keys & fields.keys()) and looks_like_mail(text)


def parse_message(raw: bytes) -> ParsedMail:
    """Headers and body text of a raw mail; broken MIME gives a best-effort result plus warnings."""
    warnings: list[str] = []
    if len(raw) > MAX_MESSAGE_BYTES:
        raw = raw[:MAX_MESSAGE_BYTES]
        warnings.append(f"Die Nachricht ist größer als {MAX_MESSAGE_BYTES // 1_000_000} MB; "
                        "nur der Anfang wurde ausgewertet.")
    try:
        msg = BytesParser(policy=compat32).parsebytes(raw)
        headers = _headers(msg, warnings)
        body, html, attachments = _Extractor(warnings).run(msg)
    except Exception as exc:  # last resort: a parser bug must not lose the mail's text
        text, _ = decode_text(raw)
        warnings.append(f"Die Nachricht konnte nicht zerlegt werden ({type(exc).__name__}); "
                        "der Rohtext wird verwendet.")
        return ParsedMail(MailHeaders(), text[:MAX_TEXT_CHARS], False, _unique(warnings))
    if len(body) > MAX_TEXT_CHARS:
        body = body[:MAX_TEXT_CHARS]
        warnings.append(f"Der Text ist länger als {MAX_TEXT_CHARS:,} Zeichen; nur der Anfang wird geprüft."
                        .replace(",", "."))
    return ParsedMail(headers, body, html, _unique(warnings), attachments)


def _unique(items: list[str]) -> list[str]:
    """The list without repeats, in order."""
    return list(dict.fromkeys(items))


def _unsurrogate(value: str) -> str:
    """A header value read with surrogate escapes (raw 8-bit bytes) decoded as UTF-8, else Windows-1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_text(value.encode("utf-8", "surrogateescape"))[0]


def _header_text(msg: Message, name: str, warnings: list[str]) -> str:
    """One header decoded (raw 8-bit, RFC 2047 words, folding) to a single line; "" when missing."""
    # raw_items keeps raw 8-bit bytes as surrogates; get() would turn them into U+FFFD.
    values = [value for key, value in msg.raw_items() if key.lower() == name]
    parts: list[str] = []
    for value in values:
        text = _unsurrogate(str(value))
        text = re.sub(r"\r?\n[ \t]*", " ", text)
        try:
            chunks = decode_header(text)
        except (email_errors.HeaderParseError, ValueError, IndexError):
            parts.append(text)
            continue
        # Unencoded stretches between encoded words come back as raw-unicode-escape bytes.
        parts.append("".join(
            chunk if isinstance(chunk, str)
            else chunk.decode("raw-unicode-escape", "replace") if charset is None
            else _decode_bytes(chunk, charset, warnings, "Kopfzeile")
            for chunk, charset in chunks
        ))
    return ", ".join(p.strip() for p in parts if p.strip())


def _headers(msg: Message, warnings: list[str]) -> MailHeaders:
    """The decoded headers of the top-level message."""
    date = None
    raw_date = _header_text(msg, "date", warnings)
    if raw_date:
        try:
            date = parsedate_to_datetime(raw_date).replace(tzinfo=None)
        except (TypeError, ValueError, IndexError, OverflowError):
            warnings.append(f"Das Datum „{raw_date[:60]}“ ist ungültig und wurde ignoriert.")
    references = _header_text(msg, "references", warnings)
    # A draft saved as .eml may carry its mail client's German field names instead.
    return MailHeaders(
        from_=_header_text(msg, "from", warnings) or _header_text(msg, "von", warnings),
        to=_header_text(msg, "to", warnings) or _header_text(msg, "an", warnings),
        cc=_header_text(msg, "cc", warnings) or _header_text(msg, "kopie", warnings),
        subject=_header_text(msg, "subject", warnings) or _header_text(msg, "betreff", warnings),
        date=date,
        message_id=_first_id(_header_text(msg, "message-id", warnings)),
        in_reply_to=_first_id(_header_text(msg, "in-reply-to", warnings)),
        references=tuple(_MESSAGE_ID.findall(references)) or tuple(references.split()),
    )


def _first_id(value: str) -> str | None:
    """The first <message-id> of a header, or the stripped value, or None when empty."""
    found = _MESSAGE_ID.search(value)
    return found.group(0) if found else (value.strip() or None)


def _decode_bytes(data: bytes, charset: str | None, warnings: list[str], where: str) -> str:
    """Bytes in a declared charset to str; unknown or wrong charsets fall back with a warning."""
    label = (charset or "").strip().strip("\"'").lower()[:40]
    problem = ""
    if not label or label in ("unknown-8bit", "x-unknown", "unknown"):
        if data.isascii():
            return data.decode("ascii")
        problem = "keine Zeichensatzangabe, aber 8-Bit-Zeichen"
    else:
        try:
            name = codecs.lookup(label).name
        except (LookupError, ValueError):  # ValueError: a NUL inside the label
            name, problem = "", f"unbekannter Zeichensatz „{label}“"
        if name and _SINGLE_BYTE.fullmatch(name) and not data.isascii():
            text, encoding = _guess_decode(data)
            if encoding == "UTF-8":  # valid non-ASCII UTF-8 is practically never real Latin-1 text
                warnings.append(f"{where}: als „{label}“ gekennzeichnet, aber UTF-8-kodiert; gelesen als UTF-8.")
                return text
        if name:
            try:
                return data.decode(name)
            except (UnicodeError, LookupError, ValueError, TypeError):
                problem = f"passt nicht zum Zeichensatz „{label}“"
    text, encoding = _guess_decode(data)
    warnings.append(f"{where}: {problem}; gelesen als {encoding}.")
    return text


class _Extractor:
    """Walks the MIME tree once: inline text parts are kept, attachments skipped, damage noted."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.parts = 0
        self.attachments: list[str] = []

    def run(self, msg: Message) -> tuple[str, bool, tuple[str, ...]]:
        """(body, whether HTML was converted, attachment names) of a parsed message."""
        pieces = self._walk(msg, 0)
        self._note_defects(msg)
        texts = [html_to_text(text, self.warnings) if is_html else text for text, is_html in pieces]
        # Mail bodies travel with CRLF; the engine and its users want plain "\n" lines.
        texts = [t.replace("\r\n", "\n").replace("\r", "\n") for t in texts]
        body = "\n\n".join(t.strip("\n") for t in texts if t.strip())
        return body, any(is_html for _, is_html in pieces), tuple(self.attachments)

    def _walk(self, part: Message, depth: int) -> list[tuple[str, bool]]:
        """(text, is_html) pieces of a part in reading order."""
        self.parts += 1
        if depth > MAX_DEPTH or self.parts > MAX_PARTS:
            self.warnings.append("Die Nachricht ist zu tief verschachtelt; Teile wurden übersprungen.")
            return []
        ctype = part.get_content_type()
        if ctype.startswith("message/"):
            # A forwarded or attached mail is someone else's text: its promises are not the writer's.
            inner = part.get_payload(0) if part.is_multipart() else None
            subject = _header_text(inner, "subject", []) if isinstance(inner, Message) else ""
            self.attachments.append(_filename(part) or (f"Nachricht „{subject}“" if subject else ctype))
            self.warnings.append("Eine eingebettete Nachricht (message/rfc822) wurde nicht ausgewertet.")
            return []
        if part.is_multipart():
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            results = [self._walk(child, depth + 1) for child in children]
            if ctype == "multipart/alternative":
                # The plain-text alternative is what the writer typed; HTML only when there is none.
                return next((r for r in results if r and not any(h for _, h in r)),
                            next((r for r in results if r), []))
            return [piece for result in results for piece in result]
        if ctype.startswith("multipart/"):
            return self._repair_multipart(part, ctype, depth)
        return self._leaf(part, ctype)

    def _leaf(self, part: Message, ctype: str) -> list[tuple[str, bool]]:
        """The text of a single part, or nothing for attachments and non-text parts."""
        name = _filename(part)
        disposition = _disposition(part)
        if disposition == "attachment" or name or ctype not in ("text/plain", "text/html"):
            if disposition == "attachment" or name or not ctype.startswith("text/"):
                self.attachments.append(name or ctype)
            return []
        text = self._text_of(part)
        return [(text, ctype == "text/html")] if text.strip() else []

    def _text_of(self, part: Message) -> str:
        """The decoded text of a leaf part (transfer encoding, then charset)."""
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return ""
        if any(isinstance(d, email_errors.InvalidBase64LengthDefect) for d in part.defects):
            payload = _lenient_base64(part.get_payload(decode=False))
        try:
            charset = part.get_content_charset()
        except (TypeError, ValueError, LookupError):
            charset = None
        text = _decode_bytes(payload, charset, self.warnings, "Textteil")
        if "\x00" in text:
            text = text.replace("\x00", "")
            self.warnings.append("Ein Textteil enthielt NUL-Bytes; sie wurden entfernt.")
        return text

    def _repair_multipart(self, part: Message, ctype: str, depth: int) -> list[tuple[str, bool]]:
        """A multipart whose boundary is missing or wrong: guess it from the first "--…" line."""
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            return []
        # Latin-1 maps bytes 1:1, so the boundary search cannot fail on 8-bit text.
        found = re.search(r"^--([^\s\"]{1,200}?)(?:--)?[ \t]*\r?$", data.decode("latin-1"), re.M)
        if found is not None:
            kind = ctype if re.fullmatch(r"multipart/[\w.+-]{1,40}", ctype, re.A) else "multipart/mixed"
            head = f'Content-Type: {kind}; boundary="{found.group(1)}"\n\n'.encode("latin-1")
            repaired = BytesParser(policy=compat32).parsebytes(head + data)
            if repaired.is_multipart():
                self.warnings.append("Die MIME-Grenze (boundary) fehlt oder stimmt nicht; sie wurde erschlossen.")
                return self._walk(repaired, depth + 1)
        self.warnings.append("Die MIME-Struktur ist beschädigt; der Inhalt wurde als Text gelesen.")
        text = decode_text(data)[0]
        return [(text, False)] if text.strip() else []

    def _note_defects(self, msg: Message) -> None:
        """One German warning per kind of MIME damage the parser recorded."""
        seen: set[type] = set()
        for part in msg.walk():
            for defect in getattr(part, "defects", ()):
                kind = type(defect)
                if kind in seen:
                    continue
                seen.add(kind)
                if kind is email_errors.MultipartInvariantViolationDefect:
                    continue  # only a consequence of the boundary defects, which are reported
                what = _DEFECT_TEXT.get(kind, f"Formfehler ({kind.__name__})")
                self.warnings.append(f"MIME-Fehler: {what}; der Text wurde bestmöglich gelesen.")


def _filename(part: Message) -> str | None:
    """A part's file name (Content-Disposition or Content-Type name), decoded; None when absent."""
    try:
        name = part.get_filename() or part.get_param("name")
    except (TypeError, ValueError, LookupError, IndexError):
        return "Anhang"
    if isinstance(name, tuple):  # an RFC 2231 value the stdlib could not collapse
        name = str(name[-1])
    if not name:
        return None
    try:
        chunks = decode_header(_unsurrogate(str(name)))
    except (email_errors.HeaderParseError, ValueError, IndexError):
        return str(name)
    return "".join(c if isinstance(c, str) else c.decode("utf-8", "replace") for c, _ in chunks)


def _disposition(part: Message) -> str | None:
    """The Content-Disposition type (attachment/inline), lower case, or None."""
    value = part.get("content-disposition")
    return str(value).split(";", 1)[0].strip().lower() or None if value else None


def _lenient_base64(payload: object) -> bytes:
    """Base64 with a broken length: decode the complete 4-character groups and drop the rest."""
    text = payload if isinstance(payload, str) else ""
    clean = re.sub(r"[^A-Za-z0-9+/]", "", text)
    try:
        return base64.b64decode(clean[: len(clean) // 4 * 4])
    except (binascii.Error, ValueError):
        return b""

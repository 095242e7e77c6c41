"""Open documents: text kept in sync by incremental edits, and what kind of text each one is."""

from __future__ import annotations

import asyncio
import email.utils
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlparse

from server.lsp.positions import Encoding, LineIndex, apply_change
from server.lsp.wire import DiagnosticCache

if TYPE_CHECKING:
    from server.lsp.convert import Published

Kind = Literal["mail", "text", "markdown", "ignored"]

TEXT_LANGUAGES = frozenset({"plaintext", "text", "txt", "email", "mail", "eml"})
MARKDOWN_LANGUAGES = frozenset({"markdown", "md"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".eml", ".mail", ".msg"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
HEADER_LINE = re.compile(r"[A-Za-zÄÖÜäöü][\w-]*:")
# Header fields that only a raw MIME message (not a draft typed by a person) carries.
RAW_MIME = re.compile(
    r"^(?:mime-version:|content-transfer-encoding:\s*(?:quoted-printable|base64)|content-type:\s*multipart/)",
    re.IGNORECASE | re.MULTILINE,
)
# Markdown parts that are no prose: front matter, fenced code, inline code, HTML comments, link targets.
MARKDOWN_NOISE = re.compile(
    r"\A---\r?\n.*?\n---[ \t]*(?:\r?\n|\Z)"
    r"|^[ \t]*(?P<fence>```+|~~~+)[^\n]*\n.*?(?:^[ \t]*(?P=fence)[ \t]*$|\Z)"
    r"|`[^`\n]+`"
    r"|<!--.*?-->"
    r"|(?<=\])\([^)\n]*\)"
    r"|<https?://[^>\s]+>",
    re.DOTALL | re.MULTILINE,
)
GERMAN_DATE = re.compile(
    r"(?P<d>\d{1,2})\.\s*(?:(?P<m>\d{1,2})\.|(?P<month>[A-Za-zäÄ]+))\s*(?P<y>\d{4})"
    r"(?:\D{1,12}?(?P<H>\d{1,2}):(?P<M>\d{2}))?"
)
MONTHS = ("januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
          "november", "dezember")


@dataclass(eq=False)
class Document:
    """One open document as the server sees it."""

    uri: str
    language_id: str
    version: int
    text: str
    encoding: Encoding = "utf-16"
    kind: Kind = "text"
    # Rules the user disabled for this document only (names without the prefix).
    disabled_rules: set[str] = field(default_factory=set)
    published: Published | None = None
    task: asyncio.Task[None] | None = None
    # The last time the document was over maxDocumentChars; the user is told once per episode.
    oversize_told: bool = False
    closed: bool = False
    # Set when the current version has been analysed (or needs no analysis); hover and code actions wait.
    fresh: asyncio.Event = field(default_factory=asyncio.Event)
    # Set on every edit (or re-check); the analysis loop waits on it while the early engine serves.
    edited: asyncio.Event = field(default_factory=asyncio.Event)
    cache: DiagnosticCache | None = None
    _index: LineIndex | None = None

    def __post_init__(self) -> None:
        self.cache = DiagnosticCache(self.uri)

    @property
    def index(self) -> LineIndex:
        """Line table of the current text (rebuilt lazily after edits)."""
        if self._index is None or self._index.text is not self.text:
            self._index = LineIndex(self.text, self.encoding)
        return self._index

    def apply(self, start: tuple[int, int] | None, end: tuple[int, int] | None, new_text: str) -> None:
        """Apply one content change: a range edit, or the whole text when no range is given."""
        if start is None or end is None:
            self.text = new_text
            self._index = None
        else:
            self._index = apply_change(self.index, start, end, new_text)
            self.text = self._index.text

    @property
    def path(self) -> PurePosixPath | None:
        """The file path for file URIs, else None (untitled documents)."""
        parsed = urlparse(self.uri)
        return PurePosixPath(unquote(parsed.path)) if parsed.scheme == "file" else None

    @property
    def suffix(self) -> str:
        """The file name's extension, lower-case ("" for untitled documents)."""
        parsed = urlparse(self.uri)
        return PurePosixPath(unquote(parsed.path)).suffix.lower()


def classify(uri_suffix: str, language_id: str, text: str) -> Kind:
    """What to check: mail, plain text, Markdown, or nothing (other languages, unless a mail header)."""
    lang = language_id.casefold()
    if lang in MARKDOWN_LANGUAGES or uri_suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if looks_like_mail(text):
        return "mail"
    if lang in TEXT_LANGUAGES or uri_suffix in TEXT_SUFFIXES:
        return "mail" if uri_suffix == ".eml" or lang in ("email", "mail", "eml") else "text"
    return "ignored"


def looks_like_mail(text: str) -> bool:
    """The first lines are a mail header block (the engine's MIME helper when present)."""
    head = text[:4096]
    try:
        from server.engine.mime import looks_like_mail as engine_check
    except ImportError:
        lines = [line for line in head.splitlines()[:3] if line.strip()]
        return len(lines) >= 2 and all(HEADER_LINE.match(line) for line in lines)
    return bool(engine_check(head))


def is_raw_mime(text: str) -> bool:
    """True for a raw MIME message (encoded parts), which must be decoded before checking."""
    end = text.find("\n\n")
    head = text[: end if end >= 0 else 8192]
    return looks_like_mail(text) and RAW_MIME.search(head) is not None


def mask_markdown(text: str) -> str:
    """The text with code, front matter, comments and link targets blanked (same length and line ends)."""
    parts: list[str] = []
    pos = 0
    for match in MARKDOWN_NOISE.finditer(text):
        parts.append(text[pos:match.start()])
        parts.append(re.sub(r"[^\r\n]", " ", match.group()))
        pos = match.end()
    parts.append(text[pos:])
    return "".join(parts)


def parse_date_header(value: str | None) -> datetime | None:
    """The wall-clock time of a Date/Datum header (RFC 5322 or German formats), None if unreadable."""
    if not value or not value.strip():
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is not None:
        return parsed.replace(tzinfo=None)
    match = GERMAN_DATE.search(value)
    if match is None:
        return None
    month = int(match["m"]) if match["m"] else _month_number(match["month"])
    try:
        return datetime(int(match["y"]), month, int(match["d"]), int(match["H"] or 0), int(match["M"] or 0))
    except ValueError:
        return None


def _month_number(name: str | None) -> int:
    name = (name or "").casefold()
    for number, month in enumerate(MONTHS, 1):
        if month.startswith(name[:3]) and name[:3]:
            return number
    return 0

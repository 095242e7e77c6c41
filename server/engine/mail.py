"""Mail structure of a draft: header block, new text, quoted history and signature."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator

from server.engine.types import MailStructure, Region

# Header names of the top block (English and German mail clients) -> lower-case English key.
HEADER_KEYS = {
    "from": "from", "von": "from", "to": "to", "an": "to", "cc": "cc", "kopie": "cc", "bcc": "bcc",
    "blindkopie": "bcc", "subject": "subject", "betreff": "subject", "date": "date", "datum": "date",
    "gesendet": "date", "sent": "date", "reply-to": "reply-to", "antwort an": "reply-to",
    "message-id": "message-id", "in-reply-to": "in-reply-to", "references": "references",
}
# Further RFC 5322 fields seen in pasted raw mails; accepted inside (and to start) a header block.
_RFC_FIELD = re.compile(
    r"(?:x-[\w-]+|mime-version|content-[\w-]+|received|return-path|delivered-to|envelope-to|user-agent"
    r"|sender|importance|priority|organi[sz]ation|thread-topic|thread-index|list-[\w-]+|auto-submitted"
    r"|dkim-signature|arc-[\w-]+|authentication-results|resent-[\w-]+|keywords|comments)",
    re.I,
)
# Outlook's German/English extras that only count after a real header line.
_SOFT_FIELDS = frozenset({"anlagen", "anhang", "attachments", "wichtigkeit", "organisation"})
_HEADER_LINE = re.compile(r"[ \t]*\**([A-Za-zÄÖÜäöü][\w-]*(?: an)?)\**[ \t]*:\**[ \t]*(.*)")
_MBOX_FROM = re.compile(r"From \S+ .*\d")
_LEADING_BLANK = re.compile(r"\s*")


class _LinePattern:
    """A pattern tried only at line starts; scanning for a leading newline is several times faster
    than a `^` pattern in MULTILINE mode, which the regex engine tries at every character."""

    def __init__(self, source: str, flags: int = 0) -> None:
        self.first = re.compile(source, flags | re.M)
        self.rest = re.compile(r"\n" + source, flags | re.M)

    def scan(self, text: str, start: int, end: int) -> Iterator[tuple[int, re.Match[str]]]:
        """(line start, match) for each matching line in [start, end), without overlaps."""
        covered = start
        if start == 0 or text[start - 1] == "\n":
            m = self.first.match(text, start, end)
            if m is not None:
                covered = m.end()
                yield start, m
        for m in self.rest.finditer(text, covered, end):
            yield m.start() + 1, m


# A run of "> " quoted lines (any depth, with or without a space after the marker).
_QUOTE_BLOCK = _LinePattern(r"[ \t]*>[^\n]*(?:\n[ \t]*>[^\n]*)*")
# Candidate lines after which everything to the end is earlier correspondence (verified in `_is_cut`).
_CUT = _LinePattern(
    r"[ \t]*(?=[-_*VFAOB])(?:"
    r"(?P<sep>-{2,}[ \t]*(?i:urspr(?:ü|ue)ngliche[ \t]+nachricht|original[- ]?nachricht|original message"
    r"|forwarded message|weitergeleitete[ \t]+nachricht|nachricht weitergeleitet)[ \t]*-*[ \t]*$"
    r"|(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht)[ \t]*:[ \t]*$)"
    r"|(?P<bar>_{10,}[ \t]*$)"
    r"|(?P<from>\**(?:Von|From|VON|FROM)\**[ \t]*:)"
    r"|(?P<attr>(?:Am|On)[ \t])"
    r")"
)
_FROM_LINE = re.compile(r"[ \t]*\**(?:Von|From)\**[ \t]*:", re.I)
_OUTLOOK_FIELD = re.compile(
    r"[ \t]*\**(?:Gesendet|Sent|Datum|Date|An|To|Betreff|Subject|Cc|Kopie)\**[ \t]*:", re.I)
_OUTLOOK_INLINE = re.compile(r"\b(?:Gesendet|Sent)\**[ \t]*:", re.I)
_ATTR_VERB = re.compile(r"\b(?:schrieb|schrieben|wrote|geschrieben|a écrit)\b", re.I)
# The evidence that an attribution without "> " lines after it introduces old mail, not new text.
_ATTR_EVIDENCE = re.compile(r"@|\d{1,2}:\d{2}|\d{1,2}\.\d{1,2}\.|\d{4}")
MAX_ATTRIBUTION_CHARS = 400

# A signature delimiter ("-- ", often stripped to "--" by editors).
_SIG_DELIM = _LinePattern(r"--[ \t]*$")
_PS_LINE = _LinePattern(r"[ \t]*(?=[PN])(?:P\.?[ \t]?S\.?|PPS|Nachtrag)(?!\w)")
_GREETING_ADJ = (
    r"(?:den[ \t]+)?(?:allerbesten|besten|freundlichen|herzlichen|lieben|vielen|sonnigen|schönen"
    r"|kollegialen|netten|winterlichen|sommerlichen|frühlingshaften|herbstlichen|beste|viele|liebe"
    r"|herzliche|freundliche|schöne|sonnige|kollegiale|nette|winterliche|sommerliche|frühlingshafte"
    r"|herbstliche)[ \t]+"
)
# Closing formulas at the start of a line; the rest of that line may only hold a name.
_CLOSING = re.compile(
    r"[ \t]*(?:"
    rf"(?:(?:mit|und)[ \t]+)?(?:{_GREETING_ADJ})?(?:Grüßen|Grüssen|Grüße|Grüsse|Gruß|Gruss|Grüß)"
    r"(?:[ \t]+(?:aus|nach|von|vom|an)[ \t]+[^\n,]{1,40})?"
    r"|(?:Vielen|Besten|Herzlichen)[ \t]+Dank(?:[ \t]+und[ \t]+(?:viele|beste|liebe|freundliche)[ \t]+Grüße)?"
    r"|Danke(?:[ \t]+(?:schön|sehr))?(?:[ \t]+(?:und|&)[ \t]+(?:viele|beste|liebe|freundliche)[ \t]+Grüße)?"
    r"|Dankeschön|MfG|LG|VG|BG|Cheers|Ciao|Tschüss|Servus|Hochachtungsvoll|Herzlichst|Herzlich"
    r"|Bis[ \t]+(?:bald|dann|morgen|später)|Freundlich[ \t]+grüßt|Es[ \t]+grüßt|Alles[ \t]+Gute"
    r"|Guten[ \t]+Rutsch|Frohe[ \t]+(?:Weihnachten|Ostern|Feiertage|Festtage|Weihnachtstage)"
    r"|Frohes[ \t]+Fest|Schöne[ \t]+Feiertage|(?:Ein[ \t]+)?Schönes[ \t]+Wochenende"
    r"|Einen[ \t]+schönen[ \t]+(?:Tag|Abend|Feierabend|Start)(?:[ \t]+noch)?|Bleiben[ \t]+Sie[ \t]+gesund"
    r"|(?:Best|Kind|Warm)[ \t]+regards|Regards|Best[ \t]+wishes|Thanks|Thank[ \t]+you"
    r"|(?:Gesendet|Gesandt)[ \t]+(?:von|mit)[ \t]+meinem[ \t]+\S+|Von[ \t]+meinem[ \t]+\S+[ \t]+gesendet"
    r"|Sent[ \t]+from[ \t]+my[ \t]+\S+"
    r")(?![\wäöüß])(?P<rest>.*)",
    re.I,
)
_SALUTATION = re.compile(r"[ \t]*(?:Servus|Ciao)\b[^\n]*,[ \t]*$", re.I)
_NAME_REST = re.compile(r"[ \t,.!:;&+/-]*(?:[A-ZÄÖÜ][^\n]{0,40})?")
# Words that make a line a sentence (a finite verb or a first person): such a line is no name block.
_SENTENCE_WORDS = frozenset({
    "ist", "sind", "bin", "bist", "war", "waren", "habe", "hat", "haben", "hatte", "hatten", "wird",
    "werden", "werde", "kann", "können", "kannst", "muss", "müssen", "soll", "sollen", "will", "wollen",
    "darf", "dürfen", "möchte", "möchten", "würde", "würden", "gibt", "geht", "gehen", "melde", "melden",
    "schicke", "schicken", "sende", "senden", "liefere", "liefern", "komme", "kommt", "kommen", "rufe",
    "rufen", "freue", "freuen", "bitte", "erhalten", "erhält", "bekommen", "bekommt", "ich", "wir", "uns",
    "mich", "mir",
})
# Lower-case words that do occur in names, titles and company lines (not signs of running text).
_NAME_PARTICLES = frozenset({
    "von", "vom", "zu", "zum", "zur", "und", "der", "die", "das", "des", "dem", "den",
    "für", "im", "in", "am", "an", "auf", "bei", "mbH", "i", "e", "co",
})
_WORD = re.compile(r"\w+")  # \w is Unicode-aware: umlauts and ß are word characters
MAX_NAME_LINES = 12
MAX_NAME_LINE_CHARS = 80


def parse_mail_structure(text: str) -> MailStructure:
    """Split a draft into header block, the writer's new text, quoted history and signature."""
    # CRLF -> " \n" and lone CR -> "\n" keep every offset while letting the patterns see plain lines.
    norm = text.replace("\r\n", " \n").replace("\r", "\n") if "\r" in text else text
    headers, header, body = _header_block(norm)
    quoted = _quoted_regions(norm, body)
    new_text, signature = _split_new_text(norm, body, quoted)
    return MailStructure(headers=headers, header=header, new_text=tuple(new_text),
                         quoted=tuple(quoted), signature=signature)


def _split_new_text(norm: str, body: int, quoted: list[Region]) -> tuple[list[Region], Region | None]:
    """The text between the quotes, without signatures; and the first signature found."""
    regions = [_trim(norm, a, b) for a, b in zip([body] + [q.end for q in quoted],
                                                   [q.start for q in quoted] + [len(norm)], strict=True)]
    parts = [r for r in regions if r is not None]
    marks = _SignatureMarks(norm, body)
    new_text: list[Region] = []
    signature: Region | None = None
    for i, region in enumerate(parts):
        # Sign-offs mostly close the top-posted part or the very end; elsewhere a quick look at the last
        # line keeps interleaved replies with hundreds of parts fast ("-- " delimiters count everywhere).
        closings = i in (0, len(parts) - 1) or _may_end_with_name(norm, region)
        sig = _find_signature(norm, region.start, region.end, marks, closings=closings)
        if sig is None:
            new_text.append(region)
            continue
        # Every signature leaves the new text; the first one is reported (the writer's own, top-posted).
        signature = signature or sig
        new_text += [r for r in (_trim(norm, region.start, sig.start), _trim(norm, sig.end, region.end)) if r]
    return new_text, signature


def header_block(text: str) -> tuple[dict[str, str], Region | None]:
    """The fields (lower-case English keys) and the region of the header block at the top of a text."""
    norm = text.replace("\r\n", " \n").replace("\r", "\n") if "\r" in text else text
    fields, region, _ = _header_block(norm)
    return fields, region


def _header_field(line: str, first: bool) -> tuple[str, str] | None:
    """(key, value) when a line is a header field; `first` rejects Outlook's soft extras."""
    match = _HEADER_LINE.fullmatch(line)
    if match is None:
        return None
    name = match.group(1).lower()
    key = HEADER_KEYS.get(name)
    if key is None and (_RFC_FIELD.fullmatch(name) or (not first and name in _SOFT_FIELDS)):
        key = name
    return (key, match.group(2).strip()) if key else None


def _header_block(norm: str) -> tuple[dict[str, str], Region | None, int]:
    """Header fields, the block's region and where the body starts; lines until the first blank one."""
    blank = _LEADING_BLANK.match(norm)
    start = norm.rfind("\n", 0, blank.end() if blank else 0) + 1
    headers: dict[str, str] = {}
    pos, end, target = start, start, ""  # target: the field that folded lines continue ("" = ignore)
    while pos < len(norm):
        nl = norm.find("\n", pos)
        line_end = len(norm) if nl < 0 else nl
        line = norm[pos:line_end]
        if not line.strip():
            break
        if line[0] in " \t" and pos != start:  # a folded line continues the previous field
            if target:
                headers[target] = (headers[target] + " " + line.strip()).strip()
        elif pos == start and _MBOX_FROM.match(line):
            target = ""
        else:
            field = _header_field(line, first=pos == start)
            if field is None:
                break
            key, value = field
            target = key if key not in headers or key in ("to", "cc", "bcc") else ""
            if key not in headers:
                headers[key] = value
            elif target:  # repeated address lines add up; other repeats keep the first value
                headers[key] += ", " + value
        end, pos = line_end, line_end + 1
    if end == start:
        return {}, None, 0
    return headers, Region(start, _rstrip_end(norm, start, end)), end


def _quoted_regions(norm: str, body: int) -> list[Region]:
    """Quoted history: "> " blocks with their attribution, and everything after an old-mail marker."""
    cut = _find_cut(norm, body)
    limit = len(norm) if cut is None else cut
    regions: list[Region] = []
    for line_start, match in _QUOTE_BLOCK.scan(norm, body, limit):
        floor = regions[-1].end if regions else body
        start = _attribution_start(norm, line_start, floor)
        end = _rstrip_end(norm, line_start, match.end())
        if regions and not norm[regions[-1].end:start].strip():
            regions[-1] = Region(regions[-1].start, end)  # only blank lines between: one quote
        else:
            regions.append(Region(start, end))
    if cut is not None:
        end = _rstrip_end(norm, cut, len(norm))
        if regions and not norm[regions[-1].end:cut].strip():
            regions[-1] = Region(regions[-1].start, end)
        elif end > cut:
            regions.append(Region(cut, end))
    return regions


def _line_at(norm: str, pos: int) -> str:
    """The line that starts at `pos`, without its newline."""
    nl = norm.find("\n", pos)
    return norm[pos:] if nl < 0 else norm[pos:nl]


def _next_lines(norm: str, pos: int, count: int) -> list[str]:
    """Up to `count` non-blank lines starting at the line that contains `pos`."""
    out: list[str] = []
    for line in norm[pos:pos + 300 * count].split("\n"):
        if line.strip():
            out.append(line)
            if len(out) == count:
                break
    return out


def _find_cut(norm: str, body: int) -> int | None:
    """Start of the line after which everything is earlier correspondence, if there is one."""
    cut = None
    for line_start, match in _CUT.scan(norm, body, len(norm)):
        if _is_cut(norm, line_start, match):
            cut = line_start
            break
    # "Anna Reuter <a@b.de> schrieb am 18.11.2026 um 10:12:" can start with any word.
    pos = norm.find(" schrieb am ", body, cut)
    while pos >= 0:
        line_start = norm.rfind("\n", body, pos) + 1 or body
        if _is_dated_attribution(norm, line_start):
            return line_start
        pos = norm.find(" schrieb am ", pos + 1, cut)
    return cut


def _is_cut(norm: str, line_start: int, match: re.Match[str]) -> bool:
    """Whether a `_CUT` candidate really starts old mail (not a sentence that happens to look alike)."""
    if match.group("sep"):
        return True
    if match.group("bar"):
        lines = _next_lines(norm, match.end(), 1)
        return bool(lines) and _FROM_LINE.match(lines[0]) is not None
    if match.group("from"):
        lines = _next_lines(norm, line_start, 6)
        if lines and _OUTLOOK_INLINE.search(lines[0]):
            return True
        return sum(1 for line in lines[1:] if _OUTLOOK_FIELD.match(line)) >= 2
    return _is_dated_attribution(norm, line_start)


def _is_dated_attribution(norm: str, line_start: int) -> bool:
    """An attribution with a date, time or address and no "> " lines after it: old mail to the end."""
    line = _line_at(norm, line_start).strip()
    if not _is_attribution(line) or _ATTR_EVIDENCE.search(line) is None:
        return False
    after = _next_lines(norm, line_start + len(_line_at(norm, line_start)) + 1, 1)
    return not (after and after[0].lstrip().startswith(">"))


def _is_attribution(line: str) -> bool:
    """Whether a line introduces a quotation ("Am … schrieb X:", "On … wrote:", "X schrieb:")."""
    line = line.strip()
    if not line.endswith(":") or len(line) > MAX_ATTRIBUTION_CHARS:
        return False
    return _ATTR_VERB.search(line) is not None or line.lower().startswith(("zitat von", "quoting"))


def _line_before(norm: str, pos: int, floor: int) -> tuple[int, int] | None:
    """(start, end) of the line that ends just before line start `pos`, not reaching below `floor`."""
    if pos - 1 < floor:
        return None
    end = pos - 1
    return max(norm.rfind("\n", floor, end) + 1, floor), end


def _attribution_start(norm: str, block: int, floor: int) -> int:
    """Where a "> " block really starts: its attribution line(s) above it, if any."""
    if not norm[max(floor, block - 8):block].rstrip().endswith(":"):
        return block  # attributions end with a colon: most blocks need no closer look
    prev = _line_before(norm, block, floor)
    if prev is not None and not norm[prev[0]:prev[1]].strip():
        prev = _line_before(norm, prev[0], floor)  # one blank line between attribution and quote
    if prev is None or not norm[prev[0]:prev[1]].strip():
        return block
    line = norm[prev[0]:prev[1]]
    if _is_attribution(line):
        return prev[0]
    # Gmail wraps long attributions ("Am …, Anna Reuter <" / "a@b.de>:"): try the line above too.
    above = _line_before(norm, prev[0], floor) if line.rstrip().endswith(":") else None
    if above is not None:
        two = norm[above[0]:above[1]].strip() + " " + line.strip()
        if _is_attribution(two) and re.match(r"(?:Am|On)\b", two):
            return above[0]
    return block


def _trim(norm: str, start: int, end: int) -> Region | None:
    """The region without surrounding whitespace, or None when nothing is left."""
    piece = norm[start:end]
    stripped = piece.strip()
    if not stripped:
        return None
    lead = len(piece) - len(piece.lstrip())
    return Region(start + lead, start + lead + len(stripped))


def _rstrip_end(norm: str, start: int, end: int) -> int:
    """`end` moved back over trailing whitespace, not below `start`."""
    return start + len(norm[start:end].rstrip())


class _SignatureMarks:
    """Line starts of "-- " delimiters and PS lines, found in one pass each so that every new-text region
    costs only a bisection (interleaved replies have hundreds of regions)."""

    def __init__(self, norm: str, start: int) -> None:
        end = len(norm)
        self.delims = [pos for pos, _ in _SIG_DELIM.scan(norm, start, end)]
        self.ps = [pos for pos, _ in _PS_LINE.scan(norm, start, end)]

    @staticmethod
    def first(positions: list[int], start: int, end: int) -> int | None:
        """The first position in [start, end), if any."""
        i = bisect_left(positions, start)
        return positions[i] if i < len(positions) and positions[i] < end else None


def _may_end_with_name(norm: str, region: Region) -> bool:
    """Whether the region's last line could close a name block (short, not ending like a sentence)."""
    last = norm[max(norm.rfind("\n", region.start, region.end) + 1, region.start):region.end]
    return len(last) <= MAX_NAME_LINE_CHARS and not last.endswith((".", "?", "!", ":", ",", ";"))


def _find_signature(norm: str, start: int, end: int, marks: _SignatureMarks, *,
                    closings: bool) -> Region | None:
    """The signature inside [start, end): a "-- " block and/or a closing formula with a name block."""
    delim = marks.first(marks.delims, start, end)
    if delim is None and not closings:
        return None
    limit = end if delim is None else delim
    found = _closing_before(norm, start, limit)
    if found is not None:
        return Region(found, end if delim is not None else _rstrip_end(norm, found, limit))
    if delim is not None:
        return Region(delim, end)
    # "Viele Grüße / Anna" followed by a PS: the PS stays new text.
    ps = marks.first(marks.ps, start, end)
    if ps is not None:
        found = _closing_before(norm, start, ps)
        if found is not None:
            return Region(found, _rstrip_end(norm, found, ps))
    return None


def _closing_before(norm: str, start: int, limit: int) -> int | None:
    """Start of a closing formula whose following lines up to `limit` are only a short name block."""
    # Walk up from the end: a sentence line ends the search, so a region costs a line or two mostly.
    found = None
    end, seen = limit, 0
    while end > start and seen <= MAX_NAME_LINES:
        line_start = max(norm.rfind("\n", start, end) + 1, start)
        line = norm[line_start:end]
        end = line_start - 1
        if not line.strip():
            continue
        seen += 1
        if _is_sentence(line.strip()):  # closing formulas never read as sentences: one test for prose
            break
        match = _CLOSING.fullmatch(line)
        # "Servus Max," and "Ciao Anna," open a mail: with a comma after the name they are salutations.
        if match and _NAME_REST.fullmatch(match.group("rest").rstrip()) and not _SALUTATION.match(line):
            found = line_start + len(line) - len(line.lstrip())  # keep looking for an earlier formula
    return found


def _is_sentence(line: str) -> bool:
    """Whether a line reads like a sentence (finite verb, first person, question, running text) rather
    than a name, title, company or address line."""
    if len(line) > MAX_NAME_LINE_CHARS or line.endswith("?"):
        return True
    words = _WORD.findall(line)
    if not _SENTENCE_WORDS.isdisjoint(map(str.lower, words)):
        return True
    if sum(1 for word in words if word[0].islower() and word not in _NAME_PARTICLES) >= 3:
        return True
    return len(words) >= 6 and line.endswith((".", "!"))

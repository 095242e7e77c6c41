"""Offsets (Python str indices) to LSP positions and back, in UTF-16, UTF-8 or UTF-32 code units."""

from __future__ import annotations

import bisect
import re
from typing import Literal

Encoding = Literal["utf-16", "utf-8", "utf-32"]

# LSP counts only \n, \r\n and \r as line ends (str.splitlines also splits on \x0b, \u2028, ...).
LINE_END = re.compile(r"\r\n|\r|\n")
# Characters that take two UTF-16 code units; their presence switches off the fast path.
ASTRAL = re.compile("[\U00010000-\U0010ffff]")
NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _units(chunk: str, encoding: Encoding) -> int:
    """Length of `chunk` in code units of the given encoding."""
    if encoding == "utf-32":
        return len(chunk)
    if encoding == "utf-16":
        return len(chunk) + len(ASTRAL.findall(chunk))
    return len(chunk.encode("utf-8", "surrogatepass"))


def _index_for_units(line: str, units: int, encoding: Encoding) -> int:
    """The str index inside `line` that `units` code units reach (clamped; never splits a character)."""
    if encoding == "utf-32" or units <= 0:
        return max(0, min(units, len(line)))
    count = 0
    for index, char in enumerate(line):
        width = _char_units(char, encoding)
        if count + width > units:
            return index
        count += width
    return len(line)


def _char_units(char: str, encoding: Encoding) -> int:
    code = ord(char)
    if encoding == "utf-16":
        return 2 if code > 0xFFFF else 1
    if code < 0x80:
        return 1
    if code < 0x800:
        return 2
    return 3 if code < 0x10000 else 4


class LineIndex:
    """Line start offsets of one text, built once per text version (pygls recomputes on every access)."""

    __slots__ = ("_simple", "encoding", "starts", "text")

    def __init__(self, text: str, encoding: Encoding = "utf-16") -> None:
        self.text = text
        self.encoding: Encoding = encoding
        self.starts = [0, *(m.end() for m in LINE_END.finditer(text))]
        # Fast path: columns equal str indices when no character takes more than one code unit.
        if encoding == "utf-32":
            self._simple = True
        elif encoding == "utf-16":
            self._simple = ASTRAL.search(text) is None
        else:
            self._simple = NON_ASCII.search(text) is None

    def replaced(self, a: int, b: int, new_text: str) -> LineIndex:
        """The index of text[:a] + new_text + text[b:], reusing the line starts outside the edit."""
        text = self.text[:a] + new_text + self.text[b:]
        delta = len(new_text) - (b - a)
        starts = self.starts
        # Re-scan from the line before the edit to the first line start safely after it: an edit next to
        # a \r or \n can join or split a \r\n pair.
        lo_line = bisect.bisect_right(starts, max(0, a - 1)) - 1
        j = bisect.bisect_right(starts, b + 1)
        region_start = starts[lo_line]
        region_end = starts[j] + delta if j < len(starts) else len(text)
        inner = [m.end() for m in LINE_END.finditer(text, region_start, region_end)]
        if j < len(starts):
            inner = [s for s in inner if s < region_end]
        new = LineIndex.__new__(LineIndex)
        new.text = text
        new.encoding = self.encoding
        new.starts = [*starts[:lo_line + 1], *inner, *(s + delta for s in starts[j:])]
        check = ASTRAL if self.encoding == "utf-16" else NON_ASCII
        new._simple = self.encoding == "utf-32" or (self._simple and check.search(new_text) is None)
        return new

    @property
    def line_count(self) -> int:
        """Number of lines as LSP counts them (a trailing line end starts an empty last line)."""
        return len(self.starts)

    def line_text(self, line: int) -> str:
        """The text of a line without its line end."""
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        chunk = self.text[start:end]
        return chunk.rstrip("\r\n") if line + 1 < len(self.starts) else chunk

    def offset(self, line: int, character: int) -> int:
        """The str offset of an LSP position; out-of-range positions are clamped (LSP says so for columns)."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start = self.starts[line]
        content = self.line_text(line)
        if self._simple:
            return start + max(0, min(character, len(content)))
        return start + _index_for_units(content, character, self.encoding)

    def position(self, offset: int) -> tuple[int, int]:
        """The (line, character) of a str offset, clamped to the text; never inside a line end."""
        text = self.text
        if offset <= 0:
            return 0, 0
        if offset > len(text):
            offset = len(text)
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        # An offset between \r and \n belongs to the end of the line's content.
        if offset < len(text) and text[offset] == "\n" and text[offset - 1] == "\r" and offset > start:
            offset -= 1
        if self._simple:
            return line, offset - start
        return line, _units(text[start:offset], self.encoding)

    def end_position(self) -> tuple[int, int]:
        """The position just after the last character."""
        return self.position(len(self.text))


def apply_change(index: LineIndex, start: tuple[int, int], end: tuple[int, int], new_text: str) -> LineIndex:
    """The index of the text after replacing the LSP range start..end (clamped, swapped if reversed)."""
    a = index.offset(*start)
    b = index.offset(*end)
    if b < a:
        a, b = b, a
    return index.replaced(a, b, new_text)

"""Offset <-> LSP position conversion in UTF-16, UTF-8 and UTF-32, with LSP's line ends and clamping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.lsp.positions import LineIndex, apply_change

TEXT = "Grüße\r\nß 😀 x\rletzte\u2028Zeile\nEnde"


@pytest.mark.parametrize(("offset", "utf16", "utf8", "utf32"), [
    (0, (0, 0), (0, 0), (0, 0)),
    (3, (0, 3), (0, 4), (0, 3)),          # after "Grü": ü is 2 bytes in UTF-8
    (5, (0, 5), (0, 7), (0, 5)),          # end of line 0, before \r\n (ü and ß take 2 bytes)
    (6, (0, 5), (0, 7), (0, 5)),          # between \r and \n: still the end of line 0
    (7, (1, 0), (1, 0), (1, 0)),
    (9, (1, 2), (1, 3), (1, 2)),          # after "ß "
    (10, (1, 4), (1, 7), (1, 3)),         # after the emoji: 2 UTF-16 units, 4 bytes, 1 code point
    (13, (2, 0), (2, 0), (2, 0)),         # a lone \r ends a line
    (20, (2, 7), (2, 9), (2, 7)),         # \u2028 is no line end for LSP (3 bytes in UTF-8)
    (len(TEXT), (3, 4), (3, 4), (3, 4)),  # the very end of the text
])
def test_position_of_offset(offset: int, utf16: tuple[int, int], utf8: tuple[int, int],
                            utf32: tuple[int, int]) -> None:
    """Each encoding counts its own code units; line ends are \\n, \\r\\n and \\r only."""
    assert LineIndex(TEXT, "utf-16").position(offset) == utf16
    assert LineIndex(TEXT, "utf-8").position(offset) == utf8
    assert LineIndex(TEXT, "utf-32").position(offset) == utf32


@pytest.mark.parametrize(("position", "offset"), [
    ((0, 99), 5),                # a column past the line end means the line end
    ((1, 3), 9),                 # inside the emoji's surrogate pair: the emoji's start, never half of it
    ((1, 4), 10),
    ((7, 0), len(TEXT)),         # a line past the end means the end of the text
    ((-1, 5), 0),
    ((3, 4), len(TEXT)),
])
def test_offset_clamps(position: tuple[int, int], offset: int) -> None:
    """Out-of-range and split positions are clamped instead of raising."""
    assert LineIndex(TEXT).offset(*position) == offset


def test_line_count_and_trailing_newline() -> None:
    """A trailing line end starts an empty last line, as editors show it."""
    assert LineIndex("a\n").line_count == 2
    assert LineIndex("a\n").end_position() == (1, 0)
    assert LineIndex("").end_position() == (0, 0)


def test_apply_change_swaps_reversed_range() -> None:
    """A range given end-before-start is still applied to the right span."""
    text = "Hallo Welt"
    assert apply_change(LineIndex(text), (0, 10), (0, 6), "Team").text == "Hallo Team"


@given(st.text(alphabet=st.sampled_from(list("ab\n\r😀ä")), max_size=30), st.data())
def test_incremental_line_table(text: str, data: st.DataObject) -> None:
    """The line table updated after an edit equals one built from scratch (also when \r\n pairs form
    or break at the edit's edges)."""
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    new = data.draw(st.text(alphabet=st.sampled_from(list("x\n\r😀")), max_size=5))
    for encoding in ("utf-16", "utf-8"):
        updated = LineIndex(text, encoding).replaced(a, b, new)
        fresh = LineIndex(text[:a] + new + text[b:], encoding)
        assert updated.text == fresh.text and updated.starts == fresh.starts
        assert [updated.position(i) for i in range(len(fresh.text) + 1)] == [
            fresh.position(i) for i in range(len(fresh.text) + 1)]


@given(st.text(alphabet=st.sampled_from(list("aß😀\n\r \u2028é")), max_size=40), st.data())
def test_round_trip(text: str, data: st.DataObject) -> None:
    """position() and offset() are inverse for every offset that is not inside a \\r\\n pair."""
    offset = data.draw(st.integers(0, len(text)))
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        return
    for encoding in ("utf-16", "utf-8", "utf-32"):
        index = LineIndex(text, encoding)
        assert index.offset(*index.position(offset)) == offset

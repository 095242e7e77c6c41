"""Findings to publishDiagnostics JSON, cached per document by what each diagnostic shows.

A 100 KB draft has over a thousand findings, and one keystroke changes only a few of them; the others keep
their positions (offsets shift, lines and columns mostly do not). Building attrs objects and running them
through cattrs, or even re-encoding the same dicts, cost more than the engine's analysis of the keystroke.
So every diagnostic is keyed by its visible content and its JSON text is reused while the key stays the same.
"""

from __future__ import annotations

import bisect
import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _string
from typing import TYPE_CHECKING, Any, cast

from server.engine.types import Deadline, Delivery, Promise
from server.lsp.convert import SEVERITY_NUMBER, SOURCE, Finding, Options, deadline_words, finding_message, rule_id
from server.lsp.positions import LineIndex

if TYPE_CHECKING:
    from lsprotocol import types

# (line, character, line, character, message) of one related location.
Related = tuple[int, int, int, int, str]
# Everything a diagnostic shows: range, message, severity, code, related locations, data.
Key = tuple[int, int, int, int, str, str, str, tuple[Related, ...], tuple[str, ...] | None]


def related_spans(f: Finding, index: LineIndex) -> list[tuple[int, int, str]]:
    """Where the deadline of a promise lies, the promise of a deadline, the promise a delivery redeems."""
    item = f.item
    if isinstance(item, Promise) and item.deadline is not None and item.deadline.end > item.deadline.start:
        d = item.deadline
        return [(d.start, d.end, f"Frist: {deadline_words(d)}")]
    if isinstance(item, Deadline) and f.promise is not None:
        return [(f.promise.start, f.promise.end, "Die Zusage zu dieser Frist")]
    if isinstance(item, Delivery) and f.promise is not None and f.promise.end <= len(index.text):
        return [(f.promise.start, f.promise.end, f"Frühere Zusage: „{f.promise.text}“")]
    return []


def diagnostic_key(f: Finding, index: LineIndex, options: Options) -> Key:
    """What the diagnostic for `f` shows, as a hashable tuple."""
    position = index.position
    sl, sc = position(f.start)
    el, ec = position(f.end)
    related: tuple[Related, ...] = ()
    if options.related_information and f.exact:
        related = tuple((*position(s), *position(e), msg) for s, e, msg in related_spans(f, index))
    data = None
    if options.data_support:
        # The VS Code extension counts risky promises from this, whatever severity they are shown with.
        data = (f.kind, f.item.risk) if isinstance(f.item, Promise) else (f.kind,)
    return (sl, sc, el, ec, finding_message(f, options.rules), f.level, f.rule, related, data)


def _range(sl: int, sc: int, el: int, ec: int) -> dict[str, Any]:
    return {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}}


def diagnostic_json(key: Key, uri: str) -> dict[str, Any]:
    """The wire form of a diagnostic (code = rule id, source = versprochen)."""
    sl, sc, el, ec, message, level, rule, related, data = key
    out: dict[str, Any] = {"range": _range(sl, sc, el, ec), "message": message,
                           "severity": SEVERITY_NUMBER[level], "code": rule_id(rule), "source": SOURCE}
    if related:
        out["relatedInformation"] = [{"location": {"uri": uri, "range": _range(a, b, c, d)}, "message": m}
                                     for a, b, c, d, m in related]
    if data is not None:
        out["data"] = {"kind": data[0], "risk": data[1]} if len(data) > 1 else {"kind": data[0]}
    return out


def diagnostic_text(key: Key, uri_json: str) -> str:
    """The wire form as JSON text, formatted directly (same content as `json.dumps(diagnostic_json(...))`)."""
    sl, sc, el, ec, message, level, rule, related, data = key
    out = (f'{{"range": {_range_text(sl, sc, el, ec)}, "message": {_string(message)}, '
           f'"severity": {SEVERITY_NUMBER[level]}, "code": {_string(rule_id(rule))}, "source": "{SOURCE}"')
    if related:
        out += ', "relatedInformation": [' + ", ".join(
            f'{{"location": {{"uri": {uri_json}, "range": {_range_text(a, b, c, d)}}}, "message": {_string(m)}}}'
            for a, b, c, d, m in related) + "]"
    if data is not None:
        out += f', "data": {{"kind": {_string(data[0])}' + (f', "risk": {_string(data[1])}}}' if len(data) > 1
                                                              else "}")
    return out + "}"


def _range_text(sl: int, sc: int, el: int, ec: int) -> str:
    return (f'{{"start": {{"line": {sl}, "character": {sc}}}, '
            f'"end": {{"line": {el}, "character": {ec}}}}}')


class DiagnosticCache:
    """JSON text per diagnostic for one document, reused from the previous version where the text is the same.

    Only the engine thread uses it. Findings in the unchanged head of the text keep their diagnostics as they
    are; findings in the unchanged tail keep theirs with line numbers moved by the lines the edit added. Both
    are checked finding by finding against the previous version (same content, offsets moved by the edit);
    only the findings at the edit are converted again.
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._last: _Version | None = None

    def texts(self, findings: Sequence[Finding], index: LineIndex, options: Options) -> list[str]:
        """The JSON text of each finding's diagnostic, in order."""
        last = self._last if self._last is not None and self._last.options == options else None
        keys: list[Key | None] = [None] * len(findings)
        out: list[str | None] = [None] * len(findings)
        if last is not None:
            _reuse(last, findings, index, keys, out)
        uri = json.dumps(self.uri)
        for i, f in enumerate(findings):
            key = keys[i]
            if key is None:
                key = keys[i] = diagnostic_key(f, index, options)
            if out[i] is None:
                out[i] = diagnostic_text(key, uri)
        done = cast(list[str], out)
        self._last = _Version(index, options, tuple(findings), cast(list[Key], keys), done)
        return done


@dataclass(frozen=True, slots=True)
class _Version:
    """What the previous call converted: the findings, their keys and JSON texts, and the text's lines."""

    index: LineIndex
    options: Options
    findings: tuple[Finding, ...]
    keys: list[Key]
    texts: list[str]


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix of two strings (binary search over C-level comparisons)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.startswith(b[lo:mid], lo):
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the longest common suffix of two strings, at most `limit`."""
    lo, hi = 0, min(len(a), len(b), limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.endswith(b[len(b) - mid:len(b) - lo], 0, len(a) - lo):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _anchors(f: Finding) -> tuple[int, int]:
    """The lowest and highest offset the diagnostic of `f` shows (its range and related locations)."""
    lo, hi = f.start, f.end
    item = f.item
    if isinstance(item, Promise) and item.deadline is not None:
        lo, hi = min(lo, item.deadline.start), max(hi, item.deadline.end)
    if f.promise is not None:
        lo, hi = min(lo, f.promise.start), max(hi, f.promise.end)
    return lo, hi


def _moved_by(new: object, old: object, by: int) -> bool:
    """`new` is `old` with every offset moved by `by` characters (engine values know how to move)."""
    if new is old:
        return by == 0 or new is None
    if new is None or old is None:
        return False
    if by == 0:
        return new == old
    moved = getattr(old, "moved", None)
    return moved is not None and bool(new == moved(by))


def _same_finding(new: Finding, old: Finding, by: int) -> bool:
    """The findings show the same thing, `new` placed `by` characters after `old`."""
    return (new.start == old.start + by and new.end == old.end + by and new.kind == old.kind
            and new.rule == old.rule and new.level == old.level and new.exact == old.exact
            and new.note == old.note and new.redeems == old.redeems
            and _moved_by(new.item, old.item, by) and _moved_by(new.promise, old.promise, by))


def _moved_key(key: Key, lines: int) -> Key:
    """The key with every line number moved by `lines`."""
    if not lines:
        return key
    sl, sc, el, ec, message, level, rule, related, data = key
    return (sl + lines, sc, el + lines, ec, message, level, rule,
            tuple((a + lines, b, c + lines, d, m) for a, b, c, d, m in related), data)


def _reuse(last: _Version, findings: Sequence[Finding], index: LineIndex, keys: list[Key | None],
           out: list[str | None]) -> None:
    """Fill in keys and texts of the findings in the unchanged head and tail of the text from `last`.

    Findings are sorted by start and paired in order from the start (head) and from the end (tail); a pair
    that differs, or reaches across the edit (a delivery and the quoted promise it redeems), is left to be
    converted again, and the pairing goes on (one finding replaced by another keeps it in step).
    """
    before, after = last.index.text, index.text
    head = common_prefix(before, after)
    tail = common_suffix(before, after, min(len(before), len(after)) - head)
    old = last.findings
    # Head: positions below `head` depend only on the text before them (and the character at them).
    i = 0
    for i, f in enumerate(findings[:len(old)]):
        if f.start >= head:
            break
        # Tuple equality: item and promise are compared by identity first (the engine reuses them).
        if f == old[i] and _anchors(f)[1] < head:
            keys[i], out[i] = last.keys[i], last.texts[i]
    # Tail: a position whose whole line (and the line break before it) lies in the unchanged tail keeps
    # its column; its line moves by the number of lines the edit added.
    starts = index.starts
    k = bisect.bisect_left(starts, len(after) - tail + 2)
    if k >= len(starts):
        return
    first = starts[k]
    by = len(after) - len(before)
    lines = len(starts) - len(last.index.starts)
    j, o = len(findings) - 1, len(old) - 1
    while j >= i and o >= 0 and findings[j].start >= first:
        f = findings[j]
        if _anchors(f)[0] >= first and _same_finding(f, old[o], by):
            keys[j] = _moved_key(last.keys[o], lines)
            if not lines:
                out[j] = last.texts[o]
        j, o = j - 1, o - 1


def payload(uri: str, version: int, texts: Iterable[str]) -> str:
    """The publishDiagnostics params as JSON text, from the diagnostics' JSON texts."""
    return f'{{"uri": {json.dumps(uri)}, "diagnostics": [{", ".join(texts)}], "version": {version}}}'


@functools.cache
def _converter() -> Any:
    from pygls.protocol import default_converter

    return default_converter()  # type: ignore[no-untyped-call]


def to_lsp_diagnostic(text: str) -> types.Diagnostic:
    """A published diagnostic (JSON text) as an lsprotocol object, for code actions."""
    from lsprotocol import types

    return _converter().structure(json.loads(text), types.Diagnostic)  # type: ignore[no-any-return]

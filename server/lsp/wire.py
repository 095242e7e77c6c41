"""Findings to publishDiagnostics JSON, cached per document by what each diagnostic shows.

A 100 KB draft has over a thousand findings, and one keystroke changes only a few of them; the others keep
their positions (offsets shift, lines and columns mostly do not). Building attrs objects and running them
through cattrs, or even re-encoding the same dicts, cost more than the engine's analysis of the keystroke.
So every diagnostic is keyed by its visible content and its JSON text is reused while the key stays the same.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from lsprotocol import types

from server.engine.types import Deadline, Delivery, Promise
from server.lsp.convert import SEVERITY_NUMBER, SOURCE, Finding, Options, deadline_words, finding_message, rule_id
from server.lsp.positions import LineIndex

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


class DiagnosticCache:
    """JSON text per diagnostic key for one document; keeps only what the last version used."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._texts: dict[Key, str] = {}

    def texts(self, findings: Iterable[Finding], index: LineIndex, options: Options) -> list[str]:
        """The JSON text of each finding's diagnostic, in order."""
        old = self._texts
        new: dict[Key, str] = {}
        out = []
        for f in findings:
            key = diagnostic_key(f, index, options)
            text = new.get(key) or old.get(key)
            if text is None:
                text = json.dumps(diagnostic_json(key, self.uri))
            new[key] = text
            out.append(text)
        self._texts = new
        return out


def payload(uri: str, version: int, texts: Iterable[str]) -> str:
    """The publishDiagnostics params as JSON text, from the diagnostics' JSON texts."""
    return f'{{"uri": {json.dumps(uri)}, "diagnostics": [{", ".join(texts)}], "version": {version}}}'


@functools.cache
def _converter() -> Any:
    from pygls.protocol import default_converter

    return default_converter()  # type: ignore[no-untyped-call]


def to_lsp_diagnostic(text: str) -> types.Diagnostic:
    """A published diagnostic (JSON text) as an lsprotocol object, for code actions."""
    return _converter().structure(json.loads(text), types.Diagnostic)  # type: ignore[no-any-return]

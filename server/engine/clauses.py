"""Sentences and clause units of a paragraph (German punctuation and word-order heuristics, no parser)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lexicon import load_grammar
from server.engine.nlp import is_noun_like

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

GRAMMAR = load_grammar()
ABBREVIATIONS = GRAMMAR["abbreviations"]
MONTHS = GRAMMAR["months"]
SUBORDINATORS = GRAMMAR["subordinators"]
RELATIVE_STARTS = GRAMMAR["relative_starts"]
PRONOUNS = GRAMMAR["pronouns"]
PREPOSITIONS = GRAMMAR["prepositions"]
# Words with which a chunk can go on without a verb of its own ("versprochen", "no matter what").
CLAUSE_BREAK = frozenset({",", ";", "–", "—", ":", "(", ")"})
SENTENCE_END = re.compile(r"[.!?…]+[\"'“”»«)]*$")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A stretch of a sentence between clause punctuation, tagged by its role."""

    start: int  # token index (inclusive)
    end: int    # token index (exclusive)
    role: str   # "main" | "sub" | "inf" | "frag"


@dataclass(frozen=True, slots=True)
class Unit:
    """A main clause with the subordinate, infinitive and fragment chunks that belong to it."""

    sentence: Span
    main: Chunk
    before: tuple[Chunk, ...]   # chunks before the main clause (a leading "Sollte …," / "Wenn …,")
    after: tuple[Chunk, ...]    # chunks after it ("…, dass …", "…, versprochen")

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        """All chunks of the unit in text order."""
        return (*self.before, self.main, *self.after)

    @property
    def start(self) -> int:
        """First token index."""
        return self.chunks[0].start

    @property
    def end(self) -> int:
        """Token index after the last token."""
        return self.chunks[-1].end


def _ends_sentence(doc: Doc, i: int) -> bool:
    """True when token i closes a sentence."""
    tok = doc[i]
    text = tok.text
    if i + 1 >= len(doc):
        return True
    nxt = doc[i + 1]
    if "\n" in tok.whitespace_ or nxt.is_space:
        return _line_break_ends(doc, i)
    if not SENTENCE_END.search(text) or not tok.whitespace_:
        return False
    if text.endswith("."):
        word = text[:-1].lower()
        if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or word.endswith("nr"):
            return False
        if text[:-1].isdigit() and (nxt.lower_ in MONTHS or nxt.is_lower or nxt.lower_ in ("kw", "woche")):
            return False  # "am 3. Dezember", "18. KW"
        if text == "." and i > 0 and doc[i - 1].lower_ in ABBREVIATIONS and not doc[i - 1].whitespace_:
            return False
    return nxt.text[:1].isupper() or nxt.text[:1].isdigit() or not nxt.text[:1].isalpha()


def _line_break_ends(doc: Doc, i: int) -> bool:
    """A line break ends a sentence unless the line is hard-wrapped prose continuing in lower case."""
    line_start = i
    while line_start > 0 and "\n" not in doc[line_start - 1].whitespace_ and not doc[line_start - 1].is_space:
        line_start -= 1
    line_len = doc[i].idx + len(doc[i].text) - doc[line_start].idx
    j = i + 1
    while j < len(doc) and doc[j].is_space:
        j += 1
    if j >= len(doc):
        return True
    nxt = doc[j].text
    continues = line_len >= 50 and doc[i].text[-1:].isalnum() and (nxt[:1].islower() or nxt[:1].isdigit())
    return not continues


def sentences(doc: Doc) -> list[Span]:
    """Sentence spans of a paragraph (whitespace-only tokens dropped at the edges)."""
    out: list[Span] = []
    start = None
    for i, tok in enumerate(doc):
        if start is None:
            if tok.is_space:
                continue
            start = i
        if _ends_sentence(doc, i):
            end = i + 1
            while end > start and doc[end - 1].is_space:
                end -= 1
            if end > start:
                out.append(doc[start:end])
            start = None
    if start is not None:
        end = len(doc)
        while end > start and doc[end - 1].is_space:
            end -= 1
        if end > start:
            out.append(doc[start:end])
    return out


def _has_verb_hint(tokens: list[Token], verb_forms: frozenset[str]) -> bool:
    return any(is_verb(t, verb_forms) for t in tokens)


def is_verb(token: Token, verb_forms: frozenset[str]) -> bool:
    """A known verb form that is not capitalised as a noun."""
    return token.lower_ in verb_forms and not is_noun_like(token)


def _role(tokens: list[Token], verb_forms: frozenset[str], first: bool) -> str:
    words = [t for t in tokens if not t.is_punct and not t.is_space]
    if not words:
        return "frag"
    head = words[0].lower_
    if not first and head in SUBORDINATORS and head != "bis":
        return "sub"
    if first and head in SUBORDINATORS and head not in ("als", "bis", "seit"):
        return "sub"
    if head in ("sollte", "sollten") and first:
        return "sub"  # "Sollte die Warnleuchte …, tauschen wir …"
    if head in ("um", "ohne", "statt", "anstatt") and any(t.lower_ == "zu" for t in words[1:]):
        return "inf"
    if not first and head in RELATIVE_STARTS and len(words) > 1 and (
        words[1].lower_ in PRONOUNS or words[1].lower_ in PREPOSITIONS
    ):
        return "sub"
    if not first and head in ("wie", "was", "wo", "wann", "warum", "welche") and len(words) > 2:
        return "sub"
    if len(words) == 1 and not first:
        return "frag"  # ", versprochen." / ", garantiert."
    has_verb = _has_verb_hint(words, verb_forms)
    last = words[-1].lower_
    if not first and not any(t.lower_ in PRONOUNS for t in words) and (
        (len(words) >= 2 and words[-2].lower_ == "zu") or (re.match(r"^\w{2,}zu\w{3,}en$", last) is not None)
    ):
        return "inf"
    if not has_verb and len(words) <= 4 and not first:
        return "frag"
    return "main" if has_verb or first else "frag"


def chunk_sentence(sent: Span, verb_forms: frozenset[str],
                   protected: Sequence[tuple[int, int]] = ()) -> list[Chunk]:
    """Split a sentence at clause punctuation (never inside a protected character range) and tag each piece."""
    doc = sent.doc
    pieces: list[tuple[int, int]] = []
    start = sent.start
    for i in range(sent.start, sent.end):
        if any(a < doc[i].idx < b for a, b in protected):
            continue  # "für Dienstag, 1.12., um 15 Uhr" is one deadline, not three clauses
        if doc[i].text in CLAUSE_BREAK and i > start:
            pieces.append((start, i))
            start = i + 1
        elif doc[i].text in CLAUSE_BREAK:
            start = i + 1
    if start < sent.end:
        pieces.append((start, sent.end))
    chunks = []
    for n, (a, b) in enumerate(pieces):
        tokens = [doc[k] for k in range(a, b)]
        chunks.append(Chunk(a, b, _role(tokens, verb_forms, first=(n == 0))))
    return chunks


def units(sent: Span, verb_forms: frozenset[str], protected: Sequence[tuple[int, int]] = ()) -> list[Unit]:
    """Group a sentence's chunks into units: each main clause with its dependents."""
    chunks = chunk_sentence(sent, verb_forms, protected)
    result: list[Unit] = []
    pending: list[Chunk] = []
    for chunk in chunks:
        if chunk.role == "main":
            result.append(Unit(sent, chunk, tuple(pending), ()))
            pending = []
        elif result and not (chunk.role == "sub" and _leads_next(chunks, chunk)):
            last = result[-1]
            result[-1] = Unit(sent, last.main, last.before, (*last.after, chunk))
        else:
            pending.append(chunk)
    if pending:
        if result:
            last = result[-1]
            result[-1] = Unit(sent, last.main, last.before, (*last.after, *pending))
        else:
            result.append(Unit(sent, pending[0], (), tuple(pending[1:])))
    return result


def _leads_next(chunks: list[Chunk], chunk: Chunk) -> bool:
    """A subordinate chunk at the very start of a sentence leads the following main clause."""
    return chunks.index(chunk) == 0


def split_coordinated(doc: Doc, unit: Unit, verb_forms: frozenset[str],
                      deadline_spans: Sequence[tuple[int, int]]) -> list[Unit]:
    """Split "wir kümmern uns umgehend … und schicken Ihnen diese Woche …" into two units.

    Only when "und" is followed by a verb and each side has a deadline of its own: two commitments
    with two dates must be tracked separately; "kommt am Donnerstag und tauscht das Ventil" stays one.
    """
    main = unit.main
    for i in range(main.start + 2, main.end - 1):
        if doc[i].lower_ != "und" or not is_verb(doc[i + 1], verb_forms):
            continue
        left = (doc[main.start].idx, doc[i].idx)
        right = (doc[i + 1].idx, doc[main.end - 1].idx + len(doc[main.end - 1].text))
        inside = [any(lo <= a and b <= hi for a, b in deadline_spans) for lo, hi in (left, right)]
        if all(inside):
            first = Unit(unit.sentence, Chunk(main.start, i, "main"), unit.before, ())
            second = Unit(unit.sentence, Chunk(i + 1, main.end, "main"), (), unit.after)
            return [first, second]
    return [unit]

"""Sentences and clause units of a paragraph (German punctuation and word-order heuristics, no parser)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from lexicon import load_grammar
from server.engine.nlp import Tokens

GRAMMAR = load_grammar()
ABBREVIATIONS = GRAMMAR["abbreviations"]
MONTHS = GRAMMAR["months"]
SUBORDINATORS = GRAMMAR["subordinators"]
RELATIVE_STARTS = GRAMMAR["relative_starts"]
PRONOUNS = GRAMMAR["pronouns"]
PREPOSITIONS = GRAMMAR["prepositions"]
# Punctuation between clauses; a sentence is cut into chunks there.
CLAUSE_BREAK = frozenset({",", ";", "–", "—", ":", "(", ")"})
END_CHARS = frozenset(".!?…\"'“”»«)")
SENTENCE_END = re.compile(r"[.!?…]+[\"'“”»«)]*$")
DATE_TOKEN = re.compile(r"^\d{1,2}\.\d{1,2}\.(?:\d{2,4}\.)?$")
# Words that typically open a sentence; after a date with a period they mean the sentence ended there.
SENTENCE_OPENERS = GRAMMAR["function_words"] | PRONOUNS | RELATIVE_STARTS | GRAMMAR["determiners"]
ZU_MODALS = GRAMMAR["zu_modals"]
ZU_INFINITIVE = re.compile(r"^\w{2,}zu\w{3,}en$")
# A line this long that ends in a word and goes on in lower case is hard-wrapped prose.
WRAPPED_LINE = 50


class Chunk(NamedTuple):
    """A stretch of a sentence between clause punctuation, tagged by its role (a tuple: cheap to build)."""

    start: int  # token index (inclusive)
    end: int    # token index (exclusive)
    role: str   # "main" | "sub" | "inf" | "frag"


class Unit(NamedTuple):
    """A main clause with the subordinate, infinitive and fragment chunks that belong to it."""

    sentence: tuple[int, int]   # token range of the sentence
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
        return self.before[0].start if self.before else self.main.start

    @property
    def end(self) -> int:
        """Token index after the last token."""
        return self.after[-1].end if self.after else self.main.end


def is_verb(tokens: Tokens, i: int, verb_forms: frozenset[str]) -> bool:
    """A known verb form that is not capitalised as a noun."""
    return tokens.lower[i] in verb_forms and not tokens.noun[i]


def _ends_sentence(tokens: Tokens, i: int) -> bool:
    """True when token i closes a sentence."""
    n = len(tokens)
    if i + 1 >= n:
        return True
    if tokens.breaks_line(i):
        return _line_break_ends(tokens, i)
    text = tokens.text[i]
    if not tokens.space[i] or not SENTENCE_END.search(text):
        return False
    nxt = tokens.text[i + 1]
    if text.endswith("."):
        word = text[:-1].lower()
        following = tokens.lower[i + 1]
        if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or word.endswith("nr"):
            return False
        if word.isdigit() and (following in MONTHS or nxt.islower() or following in ("kw", "woche")):
            return False  # "am 3. Dezember", "18. KW"
        if text == "." and i > 0 and tokens.lower[i - 1] in ABBREVIATIONS and not tokens.space[i - 1]:
            return False
        if DATE_TOKEN.match(text) and following not in SENTENCE_OPENERS:
            return False  # "bis zum 27.11. Bescheid": a noun goes on; "am 27.11. Wir …" would end it
    return nxt[:1].isupper() or nxt[:1].isdigit() or not nxt[:1].isalpha()


def _line_break_ends(tokens: Tokens, i: int) -> bool:
    """A line break ends a sentence unless the line is hard-wrapped prose continuing in lower case."""
    line_start = i
    while line_start > 0 and not tokens.breaks_line(line_start - 1) and not tokens.is_space[line_start - 1]:
        line_start -= 1
    line_len = tokens.end[i] - tokens.start[line_start]
    j = i + 1
    while j < len(tokens) and tokens.is_space[j]:
        j += 1
    if j >= len(tokens):
        return True
    nxt = tokens.text[j]
    continues = line_len >= WRAPPED_LINE and tokens.text[i][-1:].isalnum() and (
        nxt[:1].islower() or nxt[:1].isdigit())
    return not continues


def sentences(tokens: Tokens) -> list[tuple[int, int]]:
    """Token ranges of the sentences of a paragraph (whitespace tokens dropped at the edges)."""
    out: list[tuple[int, int]] = []
    start = None
    is_space, texts, line_after = tokens.is_space, tokens.text, tokens.line_after
    last = len(tokens) - 1
    for i in range(len(tokens)):
        if start is None:
            if is_space[i]:
                continue
            start = i
        # Only a token ending in sentence punctuation, before a line break, or the last can end one.
        if (texts[i][-1] in END_CHARS or line_after[i] or i == last) and _ends_sentence(tokens, i):
            end = i + 1
            while end > start and is_space[end - 1]:
                end -= 1
            if end > start:
                out.append((start, end))
            start = None
    if start is not None:
        end = len(tokens)
        while end > start and is_space[end - 1]:
            end -= 1
        if end > start:
            out.append((start, end))
    return out


def _role(tokens: Tokens, words: list[int], verb_forms: frozenset[str], first: bool) -> str:
    """The role of a chunk given the indices of its non-punctuation tokens."""
    if not words:
        return "frag"
    lower = tokens.lower
    head = lower[words[0]]
    if head in SUBORDINATORS and (head not in ("als", "bis", "seit") if first else head != "bis"):
        return "sub"
    if first and head in ("sollte", "sollten"):
        return "sub"  # "Sollte die Warnleuchte …, tauschen wir …"
    if head in ("um", "ohne", "statt", "anstatt") and any(lower[k] == "zu" for k in words[1:]):
        return "inf"
    if first:
        return "main"
    second = lower[words[1]] if len(words) > 1 else ""
    if head in RELATIVE_STARTS and (second in PRONOUNS or second in PREPOSITIONS):
        return "sub"
    if head in ("wie", "was", "wo", "wann", "warum", "welche") and len(words) > 2:
        return "sub"
    if len(words) == 1:
        return "frag"  # ", versprochen." / ", garantiert."
    if not any(lower[k] in PRONOUNS for k in words) and (
        lower[words[-2]] == "zu" or ZU_INFINITIVE.match(lower[words[-1]]) is not None
    ):
        return "inf"
    if lower[words[-2]] == "zu" and lower[words[-1]] in ZU_MODALS:
        return "inf"  # "…, Sie bald wieder begrüßen zu dürfen": "Sie" is the object there, not a subject
    has_verb = any(is_verb(tokens, k, verb_forms) for k in words)
    # A personal pronoun marks a clause even when its verb is unknown ("…, weiß ich erst morgen").
    has_subject = any(lower[k] in PRONOUNS for k in words[1:]) or lower[words[0]] in PRONOUNS
    return "main" if has_verb or has_subject else "frag"


def chunk_sentence(tokens: Tokens, sentence: tuple[int, int], verb_forms: frozenset[str],
                   protected: Sequence[tuple[int, int]] = ()) -> list[Chunk]:
    """Split a sentence at clause punctuation (never inside a protected character range) and tag each piece."""
    first_tok, last_tok = sentence
    pieces: list[tuple[int, int]] = []
    start = first_tok
    for i in range(first_tok, last_tok):
        if tokens.text[i] not in CLAUSE_BREAK:
            continue
        if protected and any(a < tokens.start[i] < b for a, b in protected):
            continue  # "für Dienstag, 1.12., um 15 Uhr" is one deadline, not three clauses
        if i > start:
            pieces.append((start, i))
        start = i + 1
    if start < last_tok:
        pieces.append((start, last_tok))
    chunks = []
    for n, (a, b) in enumerate(pieces):
        words = [k for k in range(a, b) if not tokens.is_punct[k] and not tokens.is_space[k]]
        chunks.append(Chunk(a, b, _role(tokens, words, verb_forms, first=(n == 0))))
    return chunks


def units(tokens: Tokens, sentence: tuple[int, int], verb_forms: frozenset[str],
          protected: Sequence[tuple[int, int]] = ()) -> list[Unit]:
    """Group a sentence's chunks into units: each main clause with its dependents."""
    chunks = chunk_sentence(tokens, sentence, verb_forms, protected)
    result: list[Unit] = []
    pending: list[Chunk] = []
    for n, chunk in enumerate(chunks):
        if chunk.role == "main":
            result.append(Unit(sentence, chunk, tuple(pending), ()))
            pending = []
        elif chunk.role == "sub" and n + 1 < len(chunks) and _verb_first(tokens, chunks[n + 1], verb_forms):
            pending.append(chunk)  # "…, wenn er es nicht schafft, beauftrage ich …": it leads the next clause
        elif result and not (chunk.role == "sub" and n == 0):
            last = result[-1]
            result[-1] = Unit(sentence, last.main, last.before, (*last.after, chunk))
        else:
            pending.append(chunk)  # a leading "Wenn …," belongs to the main clause after it
    if pending and result:
        last = result[-1]
        result[-1] = Unit(sentence, last.main, last.before, (*last.after, *pending))
    # A sentence of subordinate clauses only ("Ob der Lkw kommt, …") has no unit to judge.
    return result


def _verb_first(tokens: Tokens, chunk: Chunk, verb_forms: frozenset[str]) -> bool:
    """A main clause opening with its verb and then a pronoun: a subordinate clause stands in front of it."""
    words = [k for k in range(chunk.start, chunk.end) if not tokens.is_punct[k] and not tokens.is_space[k]]
    return (chunk.role == "main" and len(words) > 1 and tokens.lower[words[1]] in PRONOUNS
            and (is_verb(tokens, words[0], verb_forms) or tokens.lower[words[0]] not in PRONOUNS)
            and not tokens.noun[words[0]] and tokens.text[words[0]][:1].islower())


def split_coordinated(tokens: Tokens, unit: Unit, verb_forms: frozenset[str],
                      deadline_spans: Sequence[tuple[int, int]]) -> list[Unit]:
    """Split "wir kümmern uns umgehend … und schicken Ihnen diese Woche …" into two units.

    Only when "und" is followed by a verb and each side has a deadline of its own: two commitments
    with two dates must be tracked separately; "kommt am Donnerstag und tauscht das Ventil" stays one.
    """
    main = unit.main
    for i in range(main.start + 2, main.end - 1):
        if tokens.lower[i] != "und" or not is_verb(tokens, i + 1, verb_forms):
            continue
        sides = ((tokens.start[main.start], tokens.start[i]), (tokens.start[i + 1], tokens.end[main.end - 1]))
        if all(any(lo <= a and b <= hi for a, b in deadline_spans) for lo, hi in sides):
            first = Unit(unit.sentence, Chunk(main.start, i, "main"), unit.before, ())
            second = Unit(unit.sentence, Chunk(i + 1, main.end, "main"), (), unit.after)
            return [first, second]
    return [unit]

"""Clause splitting for delivery detection, and the German grammar words and helpers it relies on."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lexicon import load_grammar
from server.engine.delivery_patterns import DIGIT, Match
from server.engine.nlp import TOKENS_KEY

if TYPE_CHECKING:
    from spacy.tokens import Doc



GRAMMAR = load_grammar()
# Closed word classes of German grammar, read from lexicon/grammar.toml (rule data lives in lexicon/rules).
DETERMINERS = GRAMMAR["delivery_determiners"]
GENITIVE = GRAMMAR["delivery_genitive"]
COMPLEMENT = GRAMMAR["delivery_complement"]
PREPOSITIONS = GRAMMAR["delivery_prepositions"]
PRONOUNS = GRAMMAR["delivery_pronouns"]
FUNCTION_WORDS = DETERMINERS | PREPOSITIONS | PRONOUNS | GRAMMAR["delivery_function_words"]
PERFECT_AUX = GRAMMAR["delivery_perfect_aux"]
PAST_AUX = PERFECT_AUX | GRAMMAR["delivery_past_aux"]
PRESENT_AUX = GRAMMAR["delivery_present_aux"]
FIRST_PERSON = GRAMMAR["delivery_first_person"]
SECOND_PERSON = frozenset({"Sie", "du", "Du", "ihr"})
# Capitalised words that open a sentence rather than continue a date ("am 3.12. Bitte …").
OPENERS = GRAMMAR["delivery_openers"]
SENTENCE_ENDS = frozenset({".", "!", "?", "...", "…", "?!", "!?"})
BREAKS = frozenset({",", ";", ":", "–", "—", "-", "(", ")", "[", "]"})
BULLETS = frozenset({"-", "•", "*", "–", "·"})
QUOTES_OPEN, QUOTES_CLOSE, QUOTES_BOTH = frozenset("„»‚"), frozenset("”«’"), frozenset("\"“")
WORDLIKE = re.compile(r"\w")


@dataclass(slots=True)
class Segment:
    """A clause: the word tokens between two breaks (comma, colon, dash, sentence end)."""

    ids: list[int]  # token indices into the Doc (and into the rows the clauses were split from)
    sentence: int
    quoted: bool = False
    question: bool = False
    words: list[str] = field(default_factory=list)  # lower-cased
    texts: list[str] = field(default_factory=list)  # as written
    inquote: list[bool] = field(default_factory=list)  # word stands inside quotation marks


def token_rows(doc: Doc) -> list[tuple[str, int]]:
    """(text, character offset) of every token: from the engine's token table when the pipeline made one."""
    table = doc.user_data.get(TOKENS_KEY)
    if table is not None:
        return list(zip(table.text, table.start, strict=True))
    return [(t.text, t.idx) for t in doc]  # spaCy builds a Token object per access: read each once


def token_lowers(doc: Doc, rows: list[tuple[str, int]]) -> list[str]:
    """Lower-case form of every token: from the engine's token table when the pipeline made one."""
    table = doc.user_data.get(TOKENS_KEY)
    lower: list[str] | None = getattr(table, "lower", None)
    return lower if lower is not None and len(lower) == len(rows) else [text.lower() for text, _ in rows]


def span_text(doc: Doc, start: int, end: int) -> str:
    """The text of tokens [start, end) without trailing whitespace (doc.text rebuilds the whole Doc)."""
    table = doc.user_data.get(TOKENS_KEY)
    if table is None:
        return str(doc[start:end].text)  # str(): the build checks types without spaCy installed
    return "".join(t + s for t, s in zip(table.text[start:end], table.space[start:end], strict=True)).rstrip()


def segments(doc: Doc) -> list[Segment]:
    """Split a paragraph into clauses (see `clauses`)."""
    return clauses(token_rows(doc))


def clauses(rows: list[tuple[str, int]], lowers: list[str] | None = None, start: int = 0,
            end: int | None = None, depth: int = 0) -> list[Segment]:
    """Split tokens [start, end) of a paragraph into clauses, minding abbreviations, glued sentence ends,
    quotes (`depth` open before `start`) and brackets. Segment ids index `rows`; sentences are numbered
    from 0 within the range."""
    splitter = _Splitter(rows)
    splitter.depth = depth
    for n in range(start, len(rows) if end is None else end):
        text = rows[n][0]
        if text.isalpha():  # most tokens: a plain word
            splitter.current.ids.append(n)
            if splitter.depth:
                splitter.quoted.add(n)
        else:
            splitter.other(n, text, rows[n + 1][0] if n + 1 < len(rows) else "")
    splitter.close(True)
    out = sorted(splitter.out, key=lambda seg: seg.ids[0])
    low = lowers if lowers is not None else [text.lower() for text, _ in rows]
    for seg in out:
        seg.words = [low[n] for n in seg.ids]
        seg.texts = [rows[n][0] for n in seg.ids]
        seg.inquote = [n in splitter.quoted for n in seg.ids]
        seg.quoted = all(seg.inquote)
        seg.question = seg.sentence in splitter.asked
    return out


def windows(rows: list[tuple[str, int]], hits: list[int]) -> list[tuple[int, int, int]]:
    """(start, end, open quotes at start) of the token ranges worth splitting: each sentence holding a hit,
    with the sentence after it.

    Cuts only where `clauses` surely ends a sentence too ("!", "?" or a lone "." before a capital), so a
    window never splits one of its sentences differently; elsewhere a window is merely larger.
    """
    cuts, depths = [0], [0]
    depth = 0
    for n in range(len(rows) - 1):
        text = rows[n][0]
        if text in QUOTES_OPEN or text in QUOTES_CLOSE or text in QUOTES_BOTH:
            opens = text in QUOTES_OPEN or (text in QUOTES_BOTH and depth == 0)
            depth = depth + 1 if opens else max(0, depth - 1)
        elif (text in ("!", "?", "…", "...") or text == ".") and rows[n + 1][0][:1].isupper():
            cuts.append(n + 1)
            depths.append(depth)
    cuts.append(len(rows))
    out: list[tuple[int, int, int]] = []
    k = 0
    for hit in hits:
        while cuts[k + 1] <= hit:
            k += 1
        start, end = cuts[k], cuts[min(k + 2, len(cuts) - 1)]
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]), out[-1][2])
        else:
            out.append((start, end, depths[k]))
    return out


class _Splitter:
    """The state of `clauses`: the open clause, clauses a bracket interrupted, quote depth."""

    def __init__(self, rows: list[tuple[str, int]]) -> None:
        self.rows = rows
        self.out: list[Segment] = []
        self.current = Segment([], 0)
        # Clauses interrupted by a bracket; the bracket is a clause of its own and the outer one goes on.
        self.outer: list[Segment] = []
        self.asked: set[int] = set()
        self.quoted: set[int] = set()  # token indices inside quotation marks
        self.depth = 0

    def close(self, sentence_end: bool, question: bool = False) -> None:
        """End the open clause (and, at a sentence end, the clauses a bracket interrupted)."""
        for seg in ([self.current, *reversed(self.outer)] if sentence_end else [self.current]):
            if seg.ids:
                self.out.append(seg)
        if sentence_end:
            self.outer.clear()
        if question:
            self.asked.add(self.current.sentence)
        self.current = Segment([], self.current.sentence + sentence_end)

    def other(self, n: int, text: str, after: str) -> None:
        """Handle a token that is not a plain word: punctuation, quotes, brackets, numbers, spaces."""
        punct = not text.isalnum() and WORDLIKE.search(text) is None
        if text.isspace():
            if "\n" in text and after in BULLETS:
                self.close(True)
        elif text in QUOTES_OPEN or text in QUOTES_CLOSE or text in QUOTES_BOTH:
            # Quotes do not break a clause ("Die Datei „Angebot.pdf“ liegt bei"); quoted words are marked.
            opens = text in QUOTES_OPEN or (text in QUOTES_BOTH and self.depth == 0)
            self.depth = self.depth + 1 if opens else max(0, self.depth - 1)
        elif text in SENTENCE_ENDS or (punct and text[0] in "?!."):
            # "Bestellnr. 558201", "ca. 20 Stück": a period before a number or a small letter ends nothing.
            if text != "." or not (after[:1].isdigit() or after[:1].islower()):
                self.close(True, "?" in text)
        elif text in ("(", "["):
            self.outer.append(self.current)
            self.current = Segment([], self.current.sentence)
        elif text in (")", "]") and self.outer:
            if self.current.ids:
                self.out.append(self.current)
            self.current = self.outer.pop()
        elif text in BREAKS:
            # A dash breaks a clause, a hyphen inside "2026-118" does not.
            previous = self.rows[n - 1] if n else ("", -9)
            if text not in "-–" or previous[1] + len(previous[0]) < self.rows[n][1]:
                self.close(False)
        elif not punct or text in "/&+":
            self.current.ids.append(n)
            if self.depth:
                self.quoted.add(n)
            if text.endswith(".") and DIGIT.search(text) and _glued_end(text, after):
                self.close(True)


def _glued_end(text: str, after: str) -> bool:
    """Whether the period of "KW 49." / "am 1.12.2026." also ends the sentence.

    An ordinal or a day.month. date goes on before a noun ("vom 3. bis 5. Januar", "zum 2. Mal"); it ends
    the sentence before a word that opens one ("… Gartenstraße 3. Danke!", "am 3.12. Die Rechnung …").
    """
    if not after or after.isspace():
        return True
    if not after[:1].isupper():
        return False
    return text.count(".") >= 3 or after.lower() in FUNCTION_WORDS or after.lower() in OPENERS


INSEPARABLE = ("be", "emp", "ent", "er", "ge", "miss", "ver", "zer", "über")


def is_modifier(text: str) -> bool:
    """An adjective or number before a noun ("neuen", "angepasste", "42")."""
    return (text[:1].islower() and text.isalpha() and text.lower() not in FUNCTION_WORDS) or text.isdigit()


def looks_participle(word: str) -> bool:
    """Looks like a past participle ("geprüft", "aktualisiert", "verschoben")."""
    return len(word) > 4 and word.isalpha() and (word.endswith("iert") or (
        word.endswith(("t", "en")) and ("ge" in word[:6] or word.startswith(INSEPARABLE))))


def base_form(noun: str, genitive: bool) -> str:
    """Nominative of a noun after a genitive article ("des Mietvertrags" -> "Mietvertrag")."""
    noun = noun.strip(".,;:!?\"'“”„»«()")
    if not genitive or len(noun) < 5:
        return noun
    if noun.endswith("es") and noun[-3] not in "aeiouäöü" and len(noun) > 5:
        return noun[:-2]
    return noun[:-1] if noun.endswith("s") else noun


class Scope:
    """Blockers of one clause, read per coordinated part.

    "Ihre Bestellung ist auf dem Weg zu Ihnen und kommt voraussichtlich am Dienstag an": the hedge belongs
    to the second part, the report in the first stands. A part starts at "und"/"aber"/"sondern" followed
    by a word that is no article, preposition or other function word (a verb, mostly).
    """

    def __init__(self, words: list[str], blocks: list[Match]) -> None:
        self.blocks = blocks
        self.part: list[int] = []
        part = 0
        for k, word in enumerate(words):
            after = words[k + 1] if k + 1 < len(words) else ""
            if word in ("und", "aber", "sondern", "doch") and after and after not in FUNCTION_WORDS:
                part += 1
            self.part.append(part)

    def around(self, positions: Iterable[int]) -> dict[str, list[Match]]:
        """Blockers by tag in the parts that hold `positions` (the whole clause when there are none)."""
        parts = {self.part[k] for k in positions}
        out: dict[str, list[Match]] = {}
        for m in self.blocks:
            if not parts or self.part[m.start] in parts:
                out.setdefault(m.pattern.tag, []).append(m)
        return out

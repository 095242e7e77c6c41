"""The small pattern language of the delivery rule files (syntax: see lexicon/rules/Deliveries.toml)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from lexicon import LexiconError, Rule


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Everyday words that make poor anchors for the quick "could this paragraph hold a delivery" test.
COMMON = _words("ist sind hat haben habe wird wir ich sie es der die das den dem ein eine und in im an am zu "
                "mit von für auf bei ihr ihre ihnen wie so schon bereits noch nun jetzt wieder auch erhalten "
                "bekommen sende senden schicke schicken finden")
# Words after which a "$" element still counts as ending its clause: a second part with its own verb follows.
COORDINATORS = frozenset({"und", "sowie"})
GAP = 8  # most words a "…" may skip
DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Element:
    """One position of a pattern: alternative words, word prefixes, "any number", anchors."""

    words: frozenset[str]
    prefixes: tuple[str, ...]
    digit: bool
    first: bool
    last: bool

    def accepts(self, word: str) -> bool:
        """Whether the lower-cased word fills this position."""
        return word in self.words or word.startswith(self.prefixes) or (
            self.digit and DIGIT.search(word) is not None)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A phrase of a rule file compiled to (element, gap before it) steps."""

    source: str
    rule: Rule | None
    # What the pattern stands for in its rule file ("phrases", "channel", a blocker's name, ...).
    tag: str
    steps: tuple[tuple[Element, bool], ...]

    def match(self, words: Sequence[str], i: int, origin: int = 0) -> tuple[int, ...] | None:
        """The matched word positions (gaps left out) when the pattern matches from position i.

        `origin` is the position that counts as the clause's first word for "^".
        """
        return self._rest(words, 0, i, origin)

    def _rest(self, words: Sequence[str], step: int, pos: int, origin: int) -> tuple[int, ...] | None:
        if step == len(self.steps):
            return ()
        element, gap = self.steps[step]
        for j in range(pos, min(len(words), pos + GAP + 1) if gap and step else pos + 1):
            if j < len(words) and element.accepts(words[j]) and (not element.first or j == origin) and (
                    not element.last or _clause_end(words, j)):
                rest = self._rest(words, step + 1, j + 1, origin)
                if rest is not None:
                    return (j, *rest)
        return None

    def anchors(self) -> Element:
        """The most selective element, used to skip paragraphs quickly: no everyday word, long words."""
        def rarity(element: Element) -> tuple[bool, int]:
            """(no everyday word, shortest word length): higher is more selective."""
            sizes = [len(w) for w in element.words] + [len(p) + 2 for p in element.prefixes]
            common = element.digit or not element.words.isdisjoint(COMMON)
            return not common, min(sizes) if sizes and not element.digit else 0
        return max((e for e, _ in self.steps), key=rarity)


def compile_pattern(source: str, rule: Rule | None, tag: str = "") -> Pattern:
    """Compile one phrase of the pattern syntax documented in Deliveries.toml."""
    steps: list[tuple[Element, bool]] = []
    gap = False
    for part in source.casefold().split():
        if part in ("…", "..."):
            gap = True
            continue
        first, last, core = part.startswith("^"), part.endswith("$"), part.strip("^$")
        alts = [a for a in core.split("|") if a]
        steps.append((Element(frozenset(a for a in alts if not a.endswith("*") and a != "#"),
                              tuple(a[:-1] for a in alts if a.endswith("*") and len(a) > 1),
                              "#" in alts, first, last), gap))
        gap = False
    if not steps or not all(e.words or e.prefixes or e.digit for e, _ in steps):
        where = rule.path if rule is not None else "delivery rules"
        raise LexiconError(f"{where}: phrase {source!r}: no words to match")
    return Pattern(source, rule, tag, tuple(steps))


class Match(NamedTuple):
    """Where a pattern matched: first and past-the-end word index and the matched positions."""

    start: int
    end: int
    positions: tuple[int, ...]
    pattern: Pattern


class PatternSet:
    """Patterns indexed by their first element; a pattern is tried only when its anchor word occurs."""

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self.patterns = list(patterns)
        self.by_word: dict[str, list[int]] = {}
        self.other: list[int] = []  # first element with prefixes or "#"
        self.by_anchor: dict[str, list[int]] = {}
        self.anchor_prefixes: list[tuple[str, int]] = []
        self.anchor_digit: list[int] = []
        for n, pattern in enumerate(self.patterns):
            head, anchor = pattern.steps[0][0], pattern.anchors()
            if head.prefixes or head.digit:
                self.other.append(n)
            for word in head.words:
                self.by_word.setdefault(word, []).append(n)
            for word in anchor.words:
                self.by_anchor.setdefault(word, []).append(n)
            self.anchor_prefixes += ((p, n) for p in anchor.prefixes)
            if anchor.digit:
                self.anchor_digit.append(n)
        self.all_prefixes = tuple(p for p, _ in self.anchor_prefixes)
        self.anchor_re = _starts_re(self.all_prefixes)
        self.head_prefixes = tuple(p for n in self.other for p in self.patterns[n].steps[0][0].prefixes)
        self.head_digit = any(self.patterns[n].steps[0][0].digit for n in self.other)
        # One search over the joined words tells whether any word can start a prefix or "#" pattern.
        self.head_re = _starts_re(self.head_prefixes, digit=self.head_digit)

    def viable(self, words: Sequence[str]) -> set[int]:
        """Indices of the patterns whose anchor word occurs in `words`."""
        out: set[int] = set()
        get = self.by_anchor.get
        for word in words:
            hit = get(word)
            if hit:
                out.update(hit)
        joined = " ".join(words) if self.all_prefixes or self.anchor_digit else ""
        if self.anchor_re is not None and self.anchor_re.search(joined):
            for word in words:
                if word.startswith(self.all_prefixes):
                    out.update(n for p, n in self.anchor_prefixes if word.startswith(p))
        if self.anchor_digit and DIGIT.search(joined):
            out.update(self.anchor_digit)
        return out

    def find(self, words: Sequence[str], origin: int = 0) -> Iterator[Match]:
        """Every match, in text order (`origin`: the position "^" stands for)."""
        viable = self.viable(words)
        if not viable:
            return
        by_word = self.by_word
        other = self.head_re is not None and self.head_re.search(" ".join(words)) is not None
        for i, word in enumerate(words):
            heads = by_word.get(word)
            if other:
                heads = [*(heads or ()), *(n for n in self.other if self.patterns[n].steps[0][0].accepts(word))]
            if not heads:
                continue
            for n in heads:
                if n not in viable:
                    continue
                pattern = self.patterns[n]
                positions = pattern.match(words, i, origin)
                if positions is not None:
                    yield Match(i, positions[-1] + 1, positions, pattern)

    def first(self, words: Sequence[str]) -> Match | None:
        """The first match or None."""
        return next(self.find(words), None)


def _clause_end(words: Sequence[str], j: int) -> bool:
    """Whether word j ends its clause or its coordinated part ("liegen vor und sind unauffällig")."""
    return j == len(words) - 1 or words[j + 1] in COORDINATORS


def _starts_re(prefixes: Sequence[str], digit: bool = False) -> re.Pattern[str] | None:
    """A regex finding, in words joined by spaces, a word with one of the prefixes (or any digit)."""
    parts = [f"(?:^| )(?:{'|'.join(map(re.escape, prefixes))})"] if prefixes else []
    parts += [r"\d"] if digit else []
    return re.compile("|".join(parts)) if parts else None


def option_list(rule: Rule | None, *keys: str) -> list[str]:
    """A list of strings under (nested) option keys of a rule file; empty when absent."""
    value: Any = rule.options if rule is not None else {}
    for key in keys:
        value = value.get(key, {}) if isinstance(value, dict) else {}
    if value and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise LexiconError(f"{rule.path if rule else 'delivery rules'}: {'.'.join(keys)}: a list of strings")
    return list(value) if value else []

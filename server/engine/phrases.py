"""Phrase lists of rule files matched case-insensitively over a spaCy Doc (one PhraseMatcher for all)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import TYPE_CHECKING

from lexicon import Rule

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc


class PhraseMatches:
    """Phrase matches of one Doc, queryable by token range."""

    def __init__(self, found: list[tuple[Rule, int, int]]) -> None:
        self.found = sorted(found, key=lambda m: m[1])  # stable: equal starts keep the matcher's order
        self._starts = [m[1] for m in self.found]
        self._within: dict[tuple[int, int], list[tuple[Rule, int, int]]] = {}

    def within(self, start: int, end: int) -> list[tuple[Rule, int, int]]:
        """Matches lying fully inside tokens [start, end) (memoised: clauses ask for the same range often)."""
        key = (start, end)
        hit = self._within.get(key)
        if hit is None:
            lo = bisect.bisect_left(self._starts, start)
            hi = bisect.bisect_left(self._starts, end, lo)
            hit = self._within[key] = [m for m in self.found[lo:hi] if m[2] <= end]
        return hit


class PhraseIndex:
    """All phrases of the given rules in one PhraseMatcher on the LOWER attribute."""

    def __init__(self, nlp: Language, rules: Iterable[Rule]) -> None:
        from spacy.matcher import PhraseMatcher

        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.rules: dict[int, Rule] = {}
        for rule in rules:
            patterns = [nlp.make_doc(p.lower()) for p in rule.phrases if p.strip()]
            if patterns:
                self.matcher.add(rule.name, patterns)
                self.rules[nlp.vocab.strings[rule.name]] = rule

    def matches(self, doc: Doc) -> PhraseMatches:
        """(rule, start token, end token) for every phrase occurrence in `doc`."""
        found = []
        for mid, start, end in self.matcher(doc):
            rule = self.rules[mid]
            # "ab sofort" is a state from now on, not the absolute "sofort": rules may list such words.
            if start > 0 and doc[start - 1].lower_ in rule.option("except_before", ()):
                continue
            found.append((rule, start, end))
        return PhraseMatches(found)

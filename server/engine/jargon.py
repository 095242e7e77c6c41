"""Jargon: anglicisms, technical terms and officialese, matched from the lexicon's substitution rules."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from lexicon import Lexicon, LexiconError, Rule, Term, Verb
from server.engine.nlp import TOKENS_KEY, Tokens, verb_forms
from server.engine.types import Jargon, JargonKind, Severity

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

# Hyphens, apostrophes and quotes vanish from match keys: "Kick-off" = "Kickoff", "To-do's" = "Todos".
_STRIP = str.maketrans("", "", "-'’‘`´\"„“”‚«»")
_PLAIN_WORDS = re.compile(r"[^\W_]+(?:-[^\W_]*)*(?: [^\W_]+(?:-[^\W_]*)*)*")  # words, hyphens, single spaces
NOUN_ENDINGS = ("", "s", "es", "e", "en", "n")
ADJ_ENDINGS = ("", "e", "en", "er", "es", "em")
GAP = "…"  # in a term: a few words may stand here ("..." works too)
MAX_GAP = 8  # tokens allowed where a term says "…" ("lassen Sie uns die Unterlagen … zukommen")
MAX_RUN = 3  # hyphen parts a compound term may span ("Service-Level" in "Service-Level-Vereinbarung")
MIN_HEAD_REST = 3  # "Druckerkonfiguration": the word before a closed-compound head has 3+ letters
MIN_MODIFIER_REST = 4  # "Feedbackgespräch": the word after a closed-compound modifier has 4+ letters
# Tokens a gap never crosses (besides line breaks and hyphens): the parts of a phrase stay in one clause.
BOUNDARIES = frozenset({".", "!", "?", ";", ":", ",", "(", ")", "–", "—"})
CACHE_LIMIT = 50_000
MIN_ENGLISH_MARKERS = 3  # distinct English function words that make a sentence English
MIN_AFFIX_CONTEXT = 5  # context words this long also match as the start or end of a compound


def norm(text: str) -> str:
    """The match key of a word: lower case without hyphens, apostrophes and quotes."""
    return text.lower().translate(_STRIP)


def _word_forms(word: str, irregular: Mapping[str, tuple[str, ...]], english: bool = False) -> set[str]:
    """Inflected forms of one word of a term, by its shape (noun, verb, adjective or abbreviation)."""
    low = word.lower()
    last = word.rsplit("-", 1)[-1]
    if any(c.isdigit() for c in word) or any(c in word for c in "./&") or any(c.isupper() for c in last[1:]):
        return {word, word + "s"}  # abbreviations: "KPI", "KPIs", "IGeL", "VOB/B"
    if word[:1].isupper():
        if english:
            # English nouns take English plurals in German ("Calls", "Patches", "den Usern"), never
            # German ones: "Calle" and "Toole" are other words.
            endings = ["", "s"] + (["es"] if low.endswith(("s", "x", "ch", "sh", "z")) else [])
            endings += ["n"] if low.endswith("er") else []
        else:
            endings = list(NOUN_ENDINGS)
        forms = {word + ending for ending in endings}
        if low.endswith("y"):
            forms.add(word[:-1] + "ies")  # "Party" -> "Parties" next to "Partys"
        return forms
    if low in irregular or (low.endswith(("en", "ern", "eln")) and len(low) >= 5):
        verb = verb_forms(Verb(low, irregular.get(low, ())))
        stem = low[:-1] if low.endswith(("ern", "eln")) else low[:-2]
        # The bare stem is a German noun too often ("brief", "block"): never a form.
        forms = {form for form in verb if form != stem}
        # Participles also stand as adjectives: "die gebrieften Kollegen", "der angewiesene Betrag".
        participles = [f for f in forms if f.startswith("ge") or f.endswith("t")]
        forms |= {p + ending for p in [*participles, *irregular.get(low, ()), low] for ending in ADJ_ENDINGS}
        return forms
    stem = low
    for ending in ("en", "er", "es", "em", "e"):
        if low.endswith(ending) and len(low) - len(ending) >= 4:
            stem = low[: -len(ending)]
            break
    return {low} | {stem + ending for ending in ADJ_ENDINGS}


@dataclass(frozen=True, slots=True)
class _Entry:
    """One lexicon term with everything a finding needs."""

    rule: Rule
    term: Term
    kind: JargonKind
    severity: Severity
    key: str
    noun: bool
    unless: tuple[str, ...] = ()
    only_with: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    plain_text: str = ""  # the alternatives as they appear in the message


@dataclass(frozen=True, slots=True)
class _Options:
    """A rule file's settings beyond the loader's keys, validated."""

    irregular: dict[str, tuple[str, ...]]  # [verb_forms]: infinitive -> irregular forms
    context: dict[str, dict[str, tuple[str, ...]]]  # [[context]]: term -> unless / only_with words
    exceptions: tuple[str, ...]  # words that begin like a compound term but are none


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A multi-token term: segments of word-form sets, separated by gaps where the term said "…"."""

    segments: tuple[tuple[frozenset[str], ...], ...]
    entry: _Entry


@dataclass(frozen=True, slots=True)
class _Tokens:
    """A Doc as lists: token texts, start offsets and match keys."""

    texts: list[str]
    starts: list[int]
    keys: list[str]

    def end(self, last: int) -> int:
        """Where a span ending with token `last` ends (a sentence period glued to it stays outside)."""
        text = self.texts[last]
        cut = text.endswith(".") and not self.keys[last].endswith(".")
        return self.starts[last] + len(text) - cut

    def surface(self, first: int, stop: int) -> str:
        """The text of tokens first..stop-1 as written (only single spaces lie between spaCy tokens)."""
        pieces = [self.texts[k] + " " * (self.starts[k + 1] - self.starts[k] - len(self.texts[k]))
                  for k in range(first, stop - 1)]
        return "".join(pieces) + self.texts[stop - 1]


@dataclass(frozen=True, slots=True)
class _Hit:
    """A candidate finding before overlaps are resolved: token range, entry, priority, gapped label."""

    start: int
    end: int
    entry: _Entry
    weight: int
    label: str


def _word_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise LexiconError(f"{where}: a list of words")
    return tuple(norm(w) for w in value)


def _options(rule: Rule) -> _Options:
    """A rule's message, irregular verb forms, context conditions and exceptions, validated."""
    where = str(rule.path)
    try:
        rule.message.format(term="x", plain="y")
    except (KeyError, IndexError, ValueError) as exc:
        raise LexiconError(f"{where}: message: only {{term}} and {{plain}} may be used ({exc})") from exc
    raw_forms = rule.option("verb_forms", {})
    if not isinstance(raw_forms, dict) or not all(
            isinstance(v, list) and all(isinstance(f, str) for f in v) for v in raw_forms.values()):
        raise LexiconError(f"{where}: verb_forms: a table of infinitive = [forms]")
    terms = {t.term for t in rule.terms}
    context: dict[str, dict[str, tuple[str, ...]]] = {}
    raw_context = rule.option("context", [])
    if not isinstance(raw_context, list):
        raise LexiconError(f"{where}: context: an array of tables ([[context]])")
    for i, item in enumerate(raw_context):
        key = f"{where}: context[{i}]"
        if not isinstance(item, dict) or item.get("term") not in terms:
            raise LexiconError(f"{key}.term: must name a term of this file")
        context[item["term"]] = {name: _word_list(item.get(name, []), f"{key}.{name}")
                                 for name in ("unless", "only_with")}
    return _Options(irregular={k.lower(): tuple(f.lower() for f in v) for k, v in raw_forms.items()},
                    context=context, exceptions=_word_list(rule.option("exceptions", []), f"{where}: exceptions"))


def _plain_text(plain: tuple[str, ...]) -> str:
    """Up to three alternatives as German prose: "A, B oder C"."""
    shown = list(plain[:3])
    return " oder ".join([", ".join(shown[:-1]), shown[-1]] if len(shown) > 1 else shown)


class JargonFinder:
    """Matches the lexicon's `substitution` rules against a spaCy Doc."""

    def __init__(self, lexicon: Lexicon, nlp: Language) -> None:
        self.lexicon = lexicon
        # The team's accepted words, compared casefolded ("Maßgabe" = "MASSGABE") and without hyphens.
        self._accepted = frozenset(a.casefold().translate(_STRIP) for a in lexicon.accepted)
        self._words: dict[str, list[_Entry]] = {}  # single-token forms, lower case
        self._exact: dict[str, list[_Entry]] = {}  # single-token forms of case-sensitive terms
        self._compound: dict[str, list[_Entry]] = {}  # forms that may stand inside compounds
        self._modifiers: dict[str, list[_Entry]] = {}  # base keys that may begin a closed compound
        # Multi-token terms by the forms of their first and second word; by the first alone when a
        # gap follows it ("lassen … zukommen").
        self._pairs: dict[str, dict[str, list[_Phrase]]] = {}
        self._gapped: dict[str, list[_Phrase]] = {}
        self._memo: dict[tuple[str, bool, int], frozenset[str]] = {}
        self._dotted: set[str] = set()  # keys that keep a final period ("bzgl.", "o.")
        self._cache: dict[str, tuple[str, tuple[tuple[_Entry, int], ...]]] = {}  # by token text
        # The index is thousands of small sets: with spaCy's heap loaded, cyclic garbage collections
        # triggered by those allocations cost more than building them, and the index holds no cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._index(lexicon, nlp)
        finally:
            if collecting:
                gc.enable()
        self._memo.clear()  # only needed while building
        self._starters = frozenset((*self._pairs, *self._gapped))
        # Function words that mark a sentence as English, not German with anglicisms in it.
        self._english = frozenset(w for rule in lexicon.of_kind("substitution") for w in _word_list(
            rule.option("english_words", []), f"{rule.path}: english_words"))
        self._min_compound = min((len(k) for k in self._compound), default=99)
        self._min_modifier = min((len(k) for k in self._modifiers), default=99)

    def _index(self, lexicon: Lexicon, nlp: Language) -> None:
        """Index every term of the substitution rules with its rule's settings."""
        for rule in lexicon.of_kind("substitution"):
            options = _options(rule)
            kind = cast(JargonKind, rule.option("jargon_kind"))
            severity = Severity(lexicon.severity(rule, Severity.INFORMATION.value))
            for term in rule.terms:
                cond = options.context.get(term.term, {})
                entry = _Entry(rule, term, kind, severity, norm(term.term), term.term[:1].isupper(),
                               cond.get("unless", ()), cond.get("only_with", ()), options.exceptions,
                               _plain_text(term.plain))
                self._add(entry, nlp, options.irregular)

    def _add(self, entry: _Entry, nlp: Language, irregular: Mapping[str, tuple[str, ...]]) -> None:
        """Index one term under all its forms (and its spaced variant when it is hyphenated)."""
        term = entry.term
        segments = [s.strip() for s in term.term.replace("...", GAP).split(GAP)]
        if any(not s for s in segments):
            raise LexiconError(f"{entry.rule.path}: terms: {term.term!r}: '…' needs words on both sides")
        # Tokenize like the text will be; plain words (most terms) need no tokenizer call.
        words = [s.split() if _PLAIN_WORDS.fullmatch(s) else [t.text for t in nlp.make_doc(s)]
                 for s in segments]
        self._dotted.update(norm(w) for seg in words for w in seg if w.endswith("."))
        if len(words) == 1 and len(words[0]) == 1:
            forms = {norm(f) if not term.case_sensitive else f.translate(_STRIP)
                     for f in _word_forms(words[0][0], irregular, entry.kind == "anglicism")}
            index = self._exact if term.case_sensitive else self._words
            for form in forms:
                index.setdefault(form, []).append(entry)
                if term.match == "compound":
                    self._compound.setdefault(form, []).append(entry)
            if term.match == "compound":
                self._modifiers.setdefault(entry.key, []).append(entry)
            if "-" in words[0][0]:  # "Kick off" written apart
                words = [[part for part in words[0][0].split("-") if part]]
                if len(words[0]) < 2:
                    return
            else:
                return
        english = entry.kind == "anglicism"
        compiled = tuple(tuple(self._phrase_word(w, irregular, english) for w in seg) for seg in words)
        phrase = _Phrase(compiled, entry)
        for first in compiled[0][0]:
            if len(compiled[0]) == 1:
                self._gapped.setdefault(first, []).append(phrase)
                continue
            seconds = self._pairs.setdefault(first, {})
            for second in compiled[0][1]:
                seconds.setdefault(second, []).append(phrase)

    def _phrase_word(self, word: str, irregular: Mapping[str, tuple[str, ...]], english: bool) -> frozenset[str]:
        """The match keys of one word of a phrase (memoized: "wir", "Ihnen", "zur" recur)."""
        memo_key = (word, english, id(irregular))
        forms = self._memo.get(memo_key)
        if forms is None:
            forms = self._memo[memo_key] = frozenset(norm(f) for f in _word_forms(word, irregular, english))
        return forms

    def find(self, doc: Doc) -> list[Jargon]:
        """Jargon findings in `doc`, character offsets relative to `doc.text`."""
        texts, starts = _texts_and_starts(doc)
        cache, single = self._cache, self._single
        infos = [cache.get(text) or single(text) for text in texts]
        tokens = _Tokens(texts, starts, [key for key, _ in infos])
        hits = [_Hit(i, i + 1, entry, weight, "")
                for i, (_, singles) in enumerate(infos) if singles for entry, weight in singles]
        keys, starters, pairs = tokens.keys, self._starters, self._pairs
        for i in [i for i, key in enumerate(keys) if key in starters]:
            after = keys[i + 1] if i + 1 < len(keys) else ""
            key = keys[i]
            # Phrases are indexed by their first two words: most starts find nothing at once.
            for phrase in (*self._gapped.get(key, ()), *pairs.get(key, {}).get(after, ())):
                hit = self._match_phrase(phrase, tokens, i)
                if hit is not None:
                    hits.append(hit)
        return self._resolve(hits, tokens)

    def _single(self, text: str) -> tuple[str, tuple[tuple[_Entry, int], ...]]:
        """A token's match key and its one-token matches (cached: tokens repeat across mails)."""
        key = norm(text)
        if key.endswith(".") and len(key) > 1 and key not in self._dotted:
            key = key.rstrip(".")  # "VOB/B." at a sentence end: the tokenizer keeps the period on "B."
        found: dict[int, tuple[_Entry, int]] = {}
        for entry in (*self._words.get(key, ()), *self._exact.get(text.translate(_STRIP).rstrip("."), ())):
            found.setdefault(id(entry), (entry, len(key) + 100))
        if not found and len(key) > self._min_compound:
            for entry, weight in self._compound_hits(text):
                found.setdefault(id(entry), (entry, weight))
        upper = text[:1].isupper()
        kept = [hit for hit in found.values()
                if not (hit[0].exceptions and key.startswith(hit[0].exceptions))]
        # "Update" (noun) before "updaten" (verb) for a capitalised token, and the other way round.
        singles = tuple(sorted(kept, key=lambda h: (h[0].noun != upper, -h[1])))
        if len(self._cache) > CACHE_LIMIT:
            self._cache.clear()
        self._cache[text] = (key, singles)
        return key, singles

    def _compound_hits(self, text: str) -> Iterable[tuple[_Entry, int]]:
        """Compound terms inside a hyphenated or closed compound ("Upload-Portal", "Druckerkonfiguration")."""
        parts = [norm(p) for p in text.replace("/", "-").split("-")]
        parts = [p for p in parts if p]
        for i in range(len(parts)):
            for j in range(i + 2, min(len(parts), i + MAX_RUN) + 1):
                for entry in self._compound.get("".join(parts[i:j]), ()):
                    yield entry, sum(len(p) for p in parts[i:j])
        for part in parts:
            for entry in self._compound.get(part, ()):
                yield entry, len(part)
        # Closed compounds are nouns: a lower-case word ("diffuser", "universales") is none.
        if not text[:1].isupper():
            return
        for part in parts:
            for cut in range(MIN_HEAD_REST, len(part) - self._min_compound + 1):
                for entry in self._compound.get(part[cut:], ()):
                    yield entry, len(part) - cut
            for cut in range(self._min_modifier, len(part) - MIN_MODIFIER_REST + 1):
                for entry in self._modifiers.get(part[:cut], ()):
                    yield entry, cut

    def _match_phrase(self, phrase: _Phrase, tokens: _Tokens, i: int) -> _Hit | None:
        """The phrase starting at token i, segments in order with bounded gaps between them."""
        keys = tokens.keys
        pos = i
        pieces: list[str] = []
        for n, segment in enumerate(phrase.segments):
            limit = pos + (MAX_GAP if n else 0)
            start = pos
            while start <= limit and start + len(segment) <= len(keys):
                if keys[start] in segment[0] and all(keys[start + k] in forms for k, forms in enumerate(segment)):
                    break
                if not keys[start] or keys[start] in BOUNDARIES or keys[start].isspace():
                    return None
                start += 1
            else:
                return None
            pieces.append(" ".join(tokens.texts[k] for k in range(start, start + len(segment))))
            pos = start + len(segment)
        return _Hit(i, pos, phrase.entry, 1000 + pos - i, f" {GAP} ".join(pieces) if n else "")

    def _resolve(self, hits: list[_Hit], tokens: _Tokens) -> list[Jargon]:
        """Longest match wins; accepted words, context conditions and overlaps are dropped."""
        keys = tokens.keys
        taken = bytearray(len(keys))  # tokens already inside a finding
        out: list[Jargon] = []
        spans = [(tokens.starts[h.start], tokens.end(h.end - 1), h) for h in hits]
        # Fewer than three English function words in the whole text: no sentence of it is English.
        english = len(self._english.intersection(keys)) >= MIN_ENGLISH_MARKERS if hits else False
        for start, end, hit in sorted(spans, key=lambda s: (s[0] - s[1], -s[2].weight, s[0])):
            if taken.find(1, hit.start, hit.end) >= 0 or not self._allowed(hit, keys, english):
                continue
            label = hit.label or tokens.surface(hit.start, hit.end)[:end - start]
            if self._accepted and not self._accepted.isdisjoint(
                    (label.casefold().translate(_STRIP), hit.entry.term.term.casefold().translate(_STRIP))):
                continue
            taken[hit.start:hit.end] = b"\1" * (hit.end - hit.start)
            out.append(self._finding(hit.entry, start, end, label))
        return sorted(out, key=lambda j: j.start)

    def _allowed(self, hit: _Hit, keys: list[str], english: bool) -> bool:
        """Context conditions: "Ticket" not next to "Flug", "angewiesen" only next to "Zahlung"."""
        entry = hit.entry
        if not entry.unless and not entry.only_with and not english:
            return True
        lo, hi = hit.start, hit.end
        while lo > 0 and not _sentence_end(keys[lo - 1]):
            lo -= 1
        while hi < len(keys) and not _sentence_end(keys[hi]):
            hi += 1
        own = "".join(keys[hit.start:hit.end])
        sentence = keys[lo:hit.start] + keys[hit.end:hi]
        # A sentence written in English is no German sentence with anglicisms in it.
        if english and len(self._english.intersection(sentence)) >= MIN_ENGLISH_MARKERS:
            return False
        if entry.unless and _mentions(own, sentence, entry.unless):
            return False
        return not entry.only_with or _mentions(own, sentence, entry.only_with)

    def _finding(self, entry: _Entry, start: int, end: int, label: str) -> Jargon:
        message = entry.rule.message.format(term=label, plain=entry.plain_text)
        return Jargon(start=start, end=end, term=label, kind=entry.kind, plain=entry.term.plain,
                      rule=entry.rule.name, message=message, reason=entry.rule.reason, severity=entry.severity)


def _texts_and_starts(doc: Doc) -> tuple[list[str], list[int]]:
    """Token texts and offsets from the pipeline's token table, else spaCy's arrays (not Token objects)."""
    table = doc.user_data.get(TOKENS_KEY)
    if isinstance(table, Tokens):
        return table.text, table.start
    from spacy.attrs import IDX, ORTH

    if not len(doc):
        return [], []
    strings = doc.vocab.strings
    return [strings[orth] for orth in doc.to_array(ORTH).tolist()], doc.to_array(IDX).tolist()


def _mentions(own: str, keys: list[str], words: tuple[str, ...]) -> bool:
    """One of `words` inside the flagged word ("Rückflugticket"), as another word of the sentence, or,
    five letters or longer, at its start or end ("Reiseunterlagen"); so "zug" never finds "Zugang"."""
    if any(word in own for word in words):
        return True
    long_words = tuple(w for w in words if len(w) >= MIN_AFFIX_CONTEXT)
    return any(key in words or key.startswith(long_words) or key.endswith(long_words) for key in keys)


def _sentence_end(key: str) -> bool:
    return key in (".", "!", "?") or (key.isspace() and "\n" in key)



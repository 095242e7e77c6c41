"""Clause splitting and the small pattern language of the delivery rule files (see Deliveries.toml)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from lexicon import LexiconError, Rule
from server.engine.nlp import TOKENS_KEY

if TYPE_CHECKING:
    from spacy.tokens import Doc



def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Closed word classes of German grammar (not rule data: triggers and blockers live in lexicon/rules).
DETERMINERS = _words(
    "der die das den dem des ein eine einen einem einer eines mein meine meinen meinem meiner meines dein "
    "deine deinen deinem deiner deines ihr ihre ihren ihrem ihrer ihres unser unsere unseren unserem "
    "unserer unseres euer eure euren eurem eurer sein seine seinen seinem seiner seines dies diese diesen "
    "diesem dieser dieses jede jeder jedes jeden jedem alle allen aller beide beiden welche kein keine "
    "keinen keinem keiner keines")
GENITIVE = _words("des eines meines deines ihres unseres seines dieses jedes")
COMPLEMENT = _words("des der eines einer meines meiner ihres ihrer unseres unserer seines seiner dieses "
                     "dieser von vom auf über zu zum zur für")
PREPOSITIONS = _words(
    "in im ins an am ans auf aufs für fürs mit von vom zu zum zur bei beim aus nach über übers unter vor "
    "hinter neben zwischen durch gegen ohne um bis seit ab gemäß laut inklusive inkl. samt nebst wegen trotz "
    "während statt innerhalb außerhalb bezüglich per pro via hinsichtlich zwecks")
PRONOUNS = _words("ich du er sie es wir ihr mich dich sich uns euch mir dir ihm ihnen man")
FUNCTION_WORDS = DETERMINERS | PREPOSITIONS | PRONOUNS | _words(
    "und oder aber denn doch sondern sowie also auch noch schon bereits nun jetzt hier da dort heute gestern "
    "gerne gern leider bitte danke wie so als dass ob wenn falls sobald weil damit nicht nur sehr ganz "
    "anbei hiermit beigefügt anliegend beiliegend inzwischen mittlerweile soeben gerade eben endlich wieder "
    "zudem außerdem ebenfalls deshalb daher somit übrigens vielen herzlichen liebe lieber hallo guten hi "
    "moin servus ja nein ok okay was wer etwas nichts alles das dies zuerst danach dann selbstverständlich "
    "natürlich wichtig kurz vorab erst")
PERFECT_AUX = _words("hat haben habe hab hab's habs hast habt hatte hatten")
PAST_AUX = PERFECT_AUX | _words("wurde wurden worden geworden")
PRESENT_AUX = _words("ist sind")
FIRST_PERSON = _words("ich wir hab habe hab's habs")
SECOND_PERSON = frozenset({"Sie", "du", "Du", "ihr"})
# Capitalised words that open a sentence rather than continue a date ("am 3.12. Bitte …").
OPENERS = _words("bitte viele beste freundliche herzliche mfg lg vg gruß grüße bei mit für ab seit")
# Everyday words that make poor anchors for the quick "could this paragraph hold a delivery" test.
COMMON = _words("ist sind hat haben habe wird wir ich sie es der die das den dem ein eine und in im an am zu "
                "mit von für auf bei ihr ihre ihnen wie so schon bereits noch nun jetzt wieder auch erhalten "
                "bekommen sende senden schicke schicken finden")
SENTENCE_ENDS = frozenset({".", "!", "?", "...", "…", "?!", "!?"})
BREAKS = frozenset({",", ";", ":", "–", "—", "-", "(", ")", "[", "]"})
BULLETS = frozenset({"-", "•", "*", "–", "·"})
QUOTES_OPEN, QUOTES_CLOSE, QUOTES_BOTH = frozenset("„»‚"), frozenset("”«’"), frozenset("\"“")
GAP = 8
WORDLIKE = re.compile(r"\w")
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
                    not element.last or j == len(words) - 1):
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
        return doc[start:end].text
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

"""The spaCy pipeline: `spacy.blank("de")` plus lemmas generated from the lexicon's verbs."""

from __future__ import annotations

import os
import sys
import types
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lexicon import Lexicon, Verb

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

# Prefixes that take no "ge-" in the participle (bestellen -> bestellt, erledigen -> erledigt).
INSEPARABLE = ("be", "emp", "ent", "er", "ge", "miss", "ver", "zer", "über", "hinter", "wider")


# Characters after which the next word starts a sentence (or a line) and may be capitalised anyway.
SENTENCE_STARTERS = frozenset({".", "!", "?", ":", "\n", "-", "–", "(", "\"", "„", "“", "»"})


def _stem(infinitive: str) -> str:
    if infinitive.endswith(("eln", "ern")):
        return infinitive[:-1]
    return infinitive[:-2] if infinitive.endswith("en") else infinitive[:-1]


def verb_forms(verb: Verb) -> dict[str, str]:
    """Inflected forms of a verb mapped to lemmas: finite forms -> base verb, joined forms -> full verb.

    "zu|schicken" gives schicke/schickst/schickt/... -> "schicken" (the particle stands apart in
    main clauses) and zuschicken/zugeschickt/zuzuschicken -> "zuschicken".
    """
    particle, _, base = verb.lemma.rpartition("|")
    full = particle + base
    stem = _stem(base)
    e = "e" if stem.endswith(("d", "t")) or (stem.endswith(("m", "n")) and stem[-2:-1] not in "aeioulrh") else ""
    finite = {base, stem, stem + "e", stem + e + "st", stem + e + "t", stem + "en", stem + e + "te",
              stem + e + "ten", stem + e + "test", stem + "n"}
    if base.endswith("eln"):
        finite.add(stem[:-2] + "le")  # übermitteln -> "ich übermittle"
    no_ge = base.endswith("ieren") or base.startswith(INSEPARABLE)
    participle = ("" if no_ge else "ge") + stem + e + "t"
    forms: dict[str, str] = {}
    for form in finite:
        forms[form] = base
    forms[participle] = base
    for form in verb.forms:
        forms[form.casefold()] = base
    if particle:
        forms[full] = full
        forms[particle + "zu" + base] = full
        forms[particle + participle] = full
        for form in verb.forms:
            if form.startswith("ge"):
                forms[particle + form.casefold()] = full
    return forms


def lemma_table(lexicon: Lexicon) -> dict[str, str]:
    """Lower-case form -> lemma for every verb any rule names."""
    table: dict[str, str] = {}
    for rule in lexicon.rules.values():
        for verb in rule.verbs:
            for form, lemma in verb_forms(verb).items():
                table.setdefault(form, lemma)
    return table


@dataclass(frozen=True, slots=True)
class Tokens:
    """Per-token attributes of one Doc as plain lists, read once (spaCy Token objects are slow to create)."""

    text: list[str]
    lower: list[str]
    start: list[int]          # character offset of each token
    end: list[int]            # character offset after each token
    space: list[str]          # whitespace after each token
    is_space: list[bool]
    is_punct: list[bool]
    lemma: list[str]          # verb lemma, else the lower-case form
    noun: list[bool]          # capitalised inside a sentence: a noun, never a verb form
    line_after: list[bool]    # a line break follows the token
    source: str               # the tokenised text (Doc.text would re-join Token objects)

    def __len__(self) -> int:
        return len(self.text)

    def chars(self, start: int, end: int) -> tuple[int, int]:
        """Character range of tokens [start, end)."""
        return self.start[start], self.end[end - 1]

    def breaks_line(self, i: int) -> bool:
        """True when a line break follows token i (spaCy keeps line breaks as whitespace tokens)."""
        return self.line_after[i]


TOKENS_KEY = "versprochen.tokens"
PUNCT_CACHE_SIZE = 200_000  # distinct words remembered for the punctuation flag


def tokens_of(doc: Doc) -> Tokens:
    """The token table the pipeline stored on `doc`."""
    tokens: Tokens = doc.user_data[TOKENS_KEY]
    return tokens


def punct_flag(word: str) -> bool:
    """spaCy's IS_PUNCT: every character is Unicode punctuation (category P*)."""
    return all(unicodedata.category(char).startswith("P") for char in word)


def _table_for(doc: Doc, text: str, lemmas: dict[str, str], punct: dict[str, bool]) -> Tokens:
    """Build the token table from spaCy's arrays and the text (no Token objects: they cost ~1 µs each)."""
    from spacy.attrs import IDX, LENGTH, SPACY

    if not len(doc):
        return Tokens([], [], [], [], [], [], [], [], [], [], text)
    # Token attributes only: reading the lexeme flags (IS_SPACE, IS_PUNCT) costs 4x more than
    # computing them here from the words with a cache.
    start, lengths, spacy_flags = doc.to_array([IDX, LENGTH, SPACY]).T.tolist()
    # Column-wise comprehensions: about twice as fast as one loop appending to ten lists.
    end = [a + n for a, n in zip(start, lengths, strict=True)]
    words = [text[a:b] for a, b in zip(start, end, strict=True)]
    lower = [w.lower() for w in words]
    space = [" " if f else "" for f in spacy_flags]
    is_space = [w.isspace() for w in words]
    if len(punct) > PUNCT_CACHE_SIZE:
        punct.clear()
    is_punct = [punct[w] if w in punct else punct.setdefault(w, punct_flag(w)) for w in words]
    # The first word of a line or sentence may be capitalised without being a noun.
    starters = SENTENCE_STARTERS
    previous_ends = [True, *(sp or w[-1:] in starters for w, sp in zip(words, is_space, strict=True))]
    nouns = [w[:1].isupper() and not prev and not w.isupper() for w, prev in zip(words, previous_ends, strict=False)]
    get = lemmas.get
    lemma = [low if noun else get(low, low) for low, noun in zip(lower, nouns, strict=True)]
    breaks = [sp and ("\n" in w or "\r" in w) for w, sp in zip(words, is_space, strict=True)]
    line_after = [*breaks[1:], False]
    return Tokens(words, lower, start, end, space, is_space, is_punct, lemma, nouns, line_after, text)


# spaCy's package init imports its command line (`spacy.cli`: weasel, httpx, requests, rich), about a
# quarter of `import spacy`, only to re-export `spacy.info`. The engine never uses it.
_SKIPPED_ON_IMPORT = ("spacy.cli", "spacy.cli.info")


def import_spacy() -> Any:
    """`import spacy` without loading spaCy's command line; `import spacy.cli` later still gets the real one."""
    if "spacy" in sys.modules:
        return sys.modules["spacy"]
    # spaCy needs numpy only for token arrays; OpenBLAS's idle worker threads would spin on the second core.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    stubs = {name: types.ModuleType(name) for name in _SKIPPED_ON_IMPORT if name not in sys.modules}
    if "spacy.cli.info" in stubs:
        stubs["spacy.cli"].__path__ = []  # a package, so that "from .cli.info import info" resolves
        stubs["spacy.cli.info"].info = _cli_not_loaded  # type: ignore[attr-defined]
    sys.modules.update(stubs)
    try:
        import spacy
    finally:
        for name, stub in stubs.items():
            if sys.modules.get(name) is stub:
                del sys.modules[name]
    if spacy.__dict__.get("cli") is stubs.get("spacy.cli"):
        spacy.__dict__.pop("cli", None)  # the next "import spacy.cli" loads the real module
    return spacy


def _cli_not_loaded(*_args: object, **_kwargs: object) -> None:
    """Stand-in for `spacy.info`, which the engine never calls."""
    raise RuntimeError("spacy.info ist hier nicht geladen: `import spacy.cli` lädt es")


class Pipeline:
    """spaCy's blank German tokenizer plus the token table with lemmas from the lexicon's verbs.

    Only the tokenizer runs (`make_doc`): a pipeline call costs more than the tokenizing itself.
    """

    def __init__(self, lexicon: Lexicon, extra_lemmas: Iterable[tuple[str, str]] = ()) -> None:
        spacy = import_spacy()
        self.lemmas = lemma_table(lexicon)
        self.lemmas.update(extra_lemmas)
        self.nlp: Language = spacy.blank("de")
        self._punct: dict[str, bool] = {}

    def __call__(self, text: str) -> Doc:
        """Tokenise `text` and attach its token table (read it with `tokens_of`)."""
        doc = self.nlp.make_doc(text)
        doc.user_data[TOKENS_KEY] = _table_for(doc, text, self.lemmas, self._punct)
        return doc

    @property
    def vocab(self) -> Vocab:
        """The spaCy vocabulary (for matchers)."""
        return self.nlp.vocab

    def make_doc(self, text: str) -> Doc:
        """A Doc with tokens only (for matcher patterns)."""
        return self.nlp.make_doc(text)

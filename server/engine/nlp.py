"""The spaCy pipeline: `spacy.blank("de")` plus lemmas generated from the lexicon's verbs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lexicon import Lexicon, Verb

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

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

    def __len__(self) -> int:
        return len(self.text)

    def chars(self, start: int, end: int) -> tuple[int, int]:
        """Character range of tokens [start, end)."""
        return self.start[start], self.end[end - 1]

    def breaks_line(self, i: int) -> bool:
        """True when a line break follows token i (in its whitespace or as the next token)."""
        nxt = self.text[i + 1] if i + 1 < len(self.text) and self.is_space[i + 1] else ""
        return "\n" in self.space[i] or "\r" in self.space[i] or "\n" in nxt or "\r" in nxt


TOKENS_KEY = "versprochen.tokens"


def tokens_of(doc: Doc) -> Tokens:
    """The token table the pipeline stored on `doc`."""
    tokens: Tokens = doc.user_data[TOKENS_KEY]
    return tokens


def _table_for(doc: Doc, lemmas: dict[str, str]) -> Tokens:
    text, lower, start, end, space, is_space, is_punct, lemma, nouns = [], [], [], [], [], [], [], [], []
    previous_ends = True  # the first word of a line or sentence may be capitalised without being a noun
    for tok in doc:
        word, low, ws = tok.text, tok.lower_, tok.whitespace_
        idx = tok.idx
        text.append(word)
        lower.append(low)
        start.append(idx)
        end.append(idx + len(word))
        space.append(ws)
        sp = tok.is_space
        is_space.append(sp)
        is_punct.append(tok.is_punct)
        noun = word[:1].isupper() and not previous_ends and not word.isupper()
        lemma.append(low if noun else lemmas.get(low, low))
        nouns.append(noun)
        previous_ends = sp or "\n" in ws or "\r" in ws or word[-1:] in SENTENCE_STARTERS
    return Tokens(text, lower, start, end, space, is_space, is_punct, lemma, nouns)


def make_nlp(lexicon: Lexicon, extra_lemmas: Iterable[tuple[str, str]] = ()) -> Language:
    """Build the blank German pipeline with a component that stores the token table and verb lemmas."""
    import spacy
    from spacy.language import Language as SpacyLanguage

    table = lemma_table(lexicon)
    table.update(extra_lemmas)
    nlp = spacy.blank("de")
    component = f"versprochen_tokens_{id(table)}"

    @SpacyLanguage.component(component)
    def store_tokens(doc):  # type: ignore[no-untyped-def]
        doc.user_data[TOKENS_KEY] = _table_for(doc, table)
        return doc

    nlp.add_pipe(component)
    return nlp

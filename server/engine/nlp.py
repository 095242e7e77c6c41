"""The spaCy pipeline: `spacy.blank("de")` plus lemmas generated from the lexicon's verbs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from lexicon import Lexicon, Verb

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Token

# Prefixes that take no "ge-" in the participle (bestellen -> bestellt, erledigen -> erledigt).
INSEPARABLE = ("be", "emp", "ent", "er", "ge", "miss", "ver", "zer", "über", "hinter", "wider")


# Characters after which the next word starts a sentence (or a line) and may be capitalised anyway.
SENTENCE_STARTERS = frozenset({".", "!", "?", ":", "\n", "-", "–", "(", "\"", "„", "“", "»"})


def is_noun_like(token: Token) -> bool:
    """A capitalised word inside a sentence is a noun ("120 Zusagen"), not a verb form."""
    if not token.text[:1].isupper() or token.is_upper or token.i == 0:
        return False
    prev = token.doc[token.i - 1]
    return not ("\n" in prev.whitespace_ or prev.is_space or prev.text[-1:] in SENTENCE_STARTERS)


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


def make_nlp(lexicon: Lexicon, extra_lemmas: Iterable[tuple[str, str]] = ()) -> Language:
    """Build the blank German pipeline with a lookup lemmatizer fed from the lexicon."""
    import spacy
    from spacy.language import Language as SpacyLanguage

    table = lemma_table(lexicon)
    table.update(extra_lemmas)
    nlp = spacy.blank("de")
    component = f"versprochen_lemmas_{id(table)}"

    @SpacyLanguage.component(component)
    def set_lemmas(doc):  # type: ignore[no-untyped-def]
        for token in doc:
            lower = token.lower_
            token.lemma_ = lower if is_noun_like(token) else table.get(lower, lower)
        return doc

    nlp.add_pipe(component)
    return nlp

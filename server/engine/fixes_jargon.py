"""Quick fixes for jargon: the plain alternatives, with the article and adjectives adapted to the new noun."""

from __future__ import annotations

import re

from server.engine.fixes import NOT_VERBS, WORD, Fix, at_sentence_start, capitalize_first, delete_span, unique_fixes
from server.engine.types import Jargon

ADVICE_MARKERS = ("formulieren", "umschreiben", "erklären", "nennen", "ansprechen", "…")
# Alternatives that carry their own finite verb ("hier ist" for "anbei").
OWN_VERBS = frozenset(["ist", "sind"])
# Plain alternatives that are advice rather than replacement words ("streichen", "direkt formulieren").
DELETE_ADVICE = frozenset({"streichen", "weglassen", "ersatzlos streichen"})
FEMININE_SUFFIXES = ("ung", "heit", "keit", "schaft", "tion", "sion", "tät", "enz", "anz", "ik", "ei")
NEUTER_SUFFIXES = ("chen", "lein", "ment")
ARTICLE_BEFORE = re.compile(
    r"(?<![\w-])((?i:der|die|das|dem|den|des|im|am|vom|beim|zum|zur|(?:[kmds]?ein|ihr|unser)(?:e|em|en|er|es)?))"
    r"((?:\s+[a-zäöüß]+(?:e|en|er|es|em))*)\s+$")
EIN_WORD = re.compile(r"([kmds]?ein|ihr|unser)(e|em|en|er|es)?")
# Ending of an ein-word by the new noun's gender, for the endings that fix the case (nominative or
# accusative singular, dative); "-en", "-er", "-es" are ambiguous and left alone.
EIN_SWAP = {"": {"f": "e", "n": ""}, "e": {"f": "e", "n": ""}, "em": {"f": "er", "n": "em"}}
ADJECTIVE_ENDING = re.compile(r"\b([a-zäöüß]+?)(es|er|e)\b")
# Article forms that show case clearly enough to swap the gender (nominative/accusative neuter or feminine,
# dative); "der", "den", "des" are ambiguous between cases and left alone.
ARTICLE_SWAP = {
    "das": {"f": "die", "n": "das"}, "die": {"f": "die", "n": "das"},
    "dem": {"f": "der", "n": "dem"}, "ein": {"f": "eine", "n": "ein"},
    "eine": {"f": "eine", "n": "ein"}, "einem": {"f": "einer", "n": "einem"},
    # Preposition and article in one word (dative masculine/neuter).
    "im": {"f": "in der", "n": "im"}, "am": {"f": "an der", "n": "am"}, "vom": {"f": "von der", "n": "vom"},
    "beim": {"f": "bei der", "n": "beim"}, "zum": {"f": "zur", "n": "zum"}, "zur": {"f": "zur", "n": "zum"},
}


def noun_gender(noun: str) -> str | None:
    """"f"/"n" for nouns whose suffix decides their gender ("Besprechung", "Dokument"), else None."""
    word = noun.split()[-1].casefold() if noun.split() else ""
    if not noun[:1].isupper():
        return None
    if word.endswith(FEMININE_SUFFIXES):
        return "f"
    if word.endswith(NEUTER_SUFFIXES):
        return "n"
    return None


def _article_edit(text: str, start: int, plain: str) -> tuple[int, str] | bool | None:
    """How the article (and adjectives) before text[start] must change for the noun `plain`.

    (start, new text up to the noun) when it must and can change, None when nothing needs changing,
    False when an article is there but its right form cannot be known.
    """
    match = ARTICLE_BEFORE.search(text, max(0, start - 80), start)
    if match is None:
        return None
    article, adjectives = match.group(1), match.group(2)
    gender = noun_gender(plain)
    ein = EIN_WORD.fullmatch(article.casefold())
    if ein is not None:
        # ein/kein/mein/Ihr/unser: the ending shows gender and case only in some forms.
        stem, ending = ein.group(1), ein.group(2) or ""
        if gender is None or ending not in EIN_SWAP:
            return False
        new_article = article[:len(stem)] + EIN_SWAP[ending][gender]
        if ending in ("", "e"):  # mixed declension: "ein kurzes Meeting" -> "eine kurze Besprechung"
            adjectives = ADJECTIVE_ENDING.sub(lambda m: m.group(1) + ("e" if gender == "f" else "es"), adjectives)
    else:
        swaps = ARTICLE_SWAP.get(article.casefold())
        if swaps is None or gender is None:
            return False
        new_article = capitalize_first(swaps[gender]) if article[:1].isupper() else swaps[gender]
    replacement = new_article + adjectives + text[match.end(2):start]
    return None if replacement == text[match.start(1):start] else (match.start(1), replacement)


def _brings_own_verb(text: str, end: int, plain: str) -> bool:
    """Whether the alternative has a verb of its own ("hier ist") while a verb already follows the term."""
    if not set(plain.split()) & OWN_VERBS:
        return False
    nxt = WORD.search(text, end, min(len(text), end + 40))
    return nxt is not None and nxt.group()[0].islower() and nxt.group().casefold() not in NOT_VERBS


def jargon_fixes(text: str, jargon: Jargon) -> list[Fix]:
    """The plain alternatives for a jargon term (capitalised at a sentence start, the article adapted where
    the replacement's gender is certain; "streichen" deletes)."""
    fixes = []
    initial = at_sentence_start(text, jargon.start)
    written = text[jargon.start:jargon.end]
    for plain in jargon.plain:
        advice = plain.strip().casefold()
        if advice in DELETE_ADVICE:
            # A sentence's first word holds the verb-second slot: deleting it would break the word order.
            if not initial:
                start, end = delete_span(text, jargon.start, jargon.end)
                fixes.append(Fix(f"„{written}“ streichen", start, end, ""))
            continue
        if any(marker in advice for marker in ADVICE_MARKERS):
            continue
        if _brings_own_verb(text, jargon.end, advice):
            continue  # "Anbei erhalten Sie …" cannot become "Hier ist erhalten Sie …"
        repl = capitalize_first(plain) if initial else plain
        notes = []
        if written.casefold() != jargon.term.casefold():
            notes.append("Form prüfen")  # an inflected match ("Meetings") gets the base form
        article = _article_edit(text, jargon.start, plain) if plain[:1].isupper() else None
        start = jargon.start
        if isinstance(article, tuple):
            start, prefix = article
            repl = prefix + repl
        elif article is False:
            notes.append("Artikel prüfen")
        title = f"Ersetzen durch „{plain}“" + (f" ({', '.join(notes)})" if notes else "")
        fixes.append(Fix(title, start, jargon.end, repl))
    return unique_fixes(text, fixes)

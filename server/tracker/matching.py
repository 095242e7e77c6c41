"""Matching for kept detection: bare addresses, Message-IDs, compound-aware objects, "wie versprochen"."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.engine.types import Analysis

WORD = re.compile(r"[^\W\d_]+")
MIN_STEM = 3  # shortest content word taken from an object phrase without capitals
AS_PROMISED = re.compile(
    r"\b(?:wie\s+(?:versprochen|vereinbart|zugesagt|angekündigt|besprochen)"
    r"|(?:das|die|den|der)\s+versprochenen?)\b",
    re.IGNORECASE,
)
# Capitalised words in a quote that are never the promised thing: time and certainty words (the engine's
# `object_nouns` already leaves out pronouns and other function words).
STOPWORDS = frozenset(
    [
        "ich", "wir", "sie", "ihnen", "ihr", "ihre", "ihren", "ihrem", "ihrer", "ihres", "du", "dich",
        "dir", "euch", "uns", "unser", "unsere", "unseren", "unserem", "mein", "meine", "meinen",
        "meinem", "es", "er", "man", "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen",
        "einem", "einer", "eines", "und", "oder", "aber", "auch", "noch", "schon", "gern", "gerne",
        "bitte", "danke", "anbei", "hiermit", "hier", "dann", "damit", "dazu", "so", "also", "bis",
        "zum", "zur", "am", "an", "auf", "aus", "bei", "mit", "nach", "von", "vor", "in", "im", "für",
        "über", "unter", "um", "ab", "sobald", "sofern", "wenn", "falls", "heute", "morgen",
        "übermorgen", "gestern", "früh", "abend", "abends", "mittag", "vormittag", "nachmittag", "uhr",
        "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag", "wochenende",
        "woche", "wochen", "tag", "tage", "tagen", "monat", "monats", "monatsende", "jahr", "jahres",
        "jahresende", "quartal", "quartals", "ende", "anfang", "mitte", "kw", "stunde", "stunden",
        "januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
        "november", "dezember", "weihnachten", "zeitnah", "bald", "kürze", "demnächst", "asap",
        "spätestens", "voraussichtlich", "garantiert", "definitiv", "sicher", "versprochen",
        "selbstverständlich", "natürlich", "verbindlich", "sofort"
    ]
)


def bare_address(value: str) -> str:
    """The casefolded address of `Name <a@b.de>` (or of a plain address), for case-insensitive matching."""
    _name, addr = parseaddr(value)
    return (addr or value).strip().strip("<>").casefold()


def bare_addresses(values: Iterable[str]) -> list[str]:
    """Bare addresses of header-style values, each of which may hold several comma-separated addresses."""
    out: list[str] = []
    for _name, addr in getaddresses(list(values)):
        addr = addr.strip().casefold()
        if addr and addr not in out:
            out.append(addr)
    return out


def display_name(value: str) -> str:
    """The display name of `Name <a@b.de>`, else the bare address."""
    name, addr = parseaddr(value)
    return name.strip() or addr.strip() or value.strip()


def normalize_message_id(value: str | None) -> str:
    """A Message-ID in its canonical `<id@host>` form ("" for nothing), so headers compare equal."""
    if value is None:
        return ""
    core = value.strip().strip("<>").strip()
    return f"<{core}>" if core else ""


def split_references(values: Iterable[str]) -> list[str]:
    """Canonical Message-IDs from References/In-Reply-To values (each may list several ids)."""
    out: list[str] = []
    for value in values:
        for item in re.findall(r"<[^<>]+>|[^\s<>,]+", value):
            norm = normalize_message_id(item)
            if norm and norm not in out:
                out.append(norm)
    return out


def _nouns(text: str, *, exclude: Iterable[str] = ()) -> list[str]:
    """Nouns of `text` that may name a deliverable: the engine's, without time words and `exclude`."""
    # Imported here: `server.engine` loads the whole engine (~0.4 s), and the store and dashboards import us.
    from server.engine.delivery_match import object_nouns

    skip = {w.casefold() for w in exclude}
    return [w for w in object_nouns(text) if w.casefold() not in STOPWORDS and w.casefold() not in skip]


def object_words(phrase: str) -> list[str]:
    """Words naming the thing in an object phrase: its nouns, or every content word if none is capitalised."""
    nouns = _nouns(phrase)
    if nouns:
        return nouns
    return [w for w in WORD.findall(phrase) if w.casefold() not in STOPWORDS and len(w) >= MIN_STEM]


def words_match(a: str, b: str) -> bool:
    """The engine's "names the same thing", read strictly: the same noun or a compound and its head."""
    from server.engine.delivery_match import same_thing  # lazily, see `_nouns`

    return same_thing(a, b, first_part=False)


def promise_words(quote: str, obj: str | None, deadline_text: str | None) -> list[str]:
    """Candidate words for what a promise is about: its object's nouns plus the quote's nouns."""
    deadline_words = WORD.findall(deadline_text or "")
    words = object_words(obj) if obj else []
    return words + [w for w in _nouns(quote, exclude=deadline_words) if w not in words]


# Open promises are compared with every delivery to the same customer: their word forms are computed once
# per process (24-50 ms per mail with 500 open promises before), keyed by the columns they derive from.
STEM_CACHE_SIZE = 65_536


@dataclass(frozen=True, slots=True)
class WordForms:
    """The stems of some words, and the compound heads those stems end in, as sets to intersect."""

    stems: frozenset[str]
    heads: frozenset[str]


def word_forms(words: Iterable[str]) -> WordForms:
    """Stems of `words` plus each stem's possible compound heads (what `words_match` compares)."""
    from server.engine.delivery_match import MIN_HEAD, MIN_REST, stems  # lazily, see `_nouns`

    all_stems = frozenset(s for w in words for s in stems(w))
    # "Preisangebot" ends in the head "angebot": at least MIN_REST letters cut off, at least MIN_HEAD left.
    heads = frozenset(s[k:] for s in all_stems for k in range(MIN_REST, len(s) - MIN_HEAD + 1))
    return WordForms(all_stems, heads)


def forms_match(a: WordForms, b: WordForms) -> bool:
    """`words_match` for any word of `a` and any of `b`: one word inflected, or a compound and its head."""
    return not (a.stems.isdisjoint(b.stems) and a.heads.isdisjoint(b.stems) and b.heads.isdisjoint(a.stems))


@functools.lru_cache(maxsize=STEM_CACHE_SIZE)
def promise_forms(quote: str, obj: str | None, deadline_text: str | None) -> WordForms:
    """The forms of `promise_words`, cached (a promise's columns never change while it is open)."""
    return word_forms(promise_words(quote, obj, deadline_text))


@functools.lru_cache(maxsize=4096)
def delivered_forms(delivered: str) -> WordForms:
    """The forms of the words naming a delivered object, cached like `promise_forms`."""
    return word_forms(object_words(delivered))


def delivery_matches(delivered: str, quote: str, obj: str | None, deadline_text: str | None) -> bool:
    """True when a delivered object names the same thing as a promise's object or quote."""
    return forms_match(delivered_forms(delivered), promise_forms(quote, obj, deadline_text))


def says_as_promised(analysis: Analysis) -> bool:
    """True when the writer's new text says "wie versprochen/vereinbart/zugesagt" (quoted lines excluded)."""
    if any(d.phrased for d in analysis.deliveries):
        return True
    regions = analysis.mail.new_text
    if not regions:
        # No structure found at all: the whole text counts as new text; only quotes: nothing new was said.
        return not analysis.mail.quoted and AS_PROMISED.search(analysis.text) is not None
    return any(AS_PROMISED.search(analysis.text, r.start, r.end) for r in regions)

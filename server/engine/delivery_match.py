"""Matching deliveries to earlier promises, and the "Wie versprochen, …" rewrite of a delivery clause."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from server.engine.delivery_clauses import DETERMINERS, FUNCTION_WORDS
from server.engine.types import Delivery, Promise

NOUN = re.compile(r"[A-ZÄÖÜ][\wäöüß]*(?:-[\wäöüßÄÖÜ]+)*")


# Inflection and linking endings tried when comparing nouns ("Angebots", "Unterlagen", "Preise").
SUFFIXES = ("e", "s", "es", "n", "en", "er", "ern", "ns", "nen")
MIN_STEM = 3
# A compound head must be this long before "Preisangebot" may count as an "Angebot" ("Motor" is no "Tor").
MIN_HEAD = 4
# A compound's first part must be this long ("Mietvertragskopie" ~ "Mietvertrag", but "Miete" stays apart).
MIN_FIRST = 5
# What a compound adds to its head or first part: "Preis" is no compound of "Reis".
MIN_REST = 3


def stems(word: str) -> set[str]:
    """The casefolded word and the forms left after stripping one inflection or linking ending."""
    w = word.casefold()
    return {w} | {w[: -len(s)] for s in SUFFIXES if w.endswith(s) and len(w) - len(s) >= MIN_STEM}


def same_form(a: str, b: str) -> bool:
    """Whether two nouns are one word in different inflections ("Rechnungen" ~ "Rechnung")."""
    return not stems(a).isdisjoint(stems(b))


def same_thing(a: str, b: str, *, first_part: bool = True) -> bool:
    """Whether two nouns name the same thing: one word, or a compound and its head ("Nachtragsangebot" ~
    "Angebot"); with `first_part` also a compound and its first part ("Mietvertragskopie" ~ "Mietvertrag").

    The tracker passes first_part=False: a state change wants the strict reading ("Rechnungskopie" is a copy).
    """
    if same_form(a, b):
        return True
    for x in stems(a):
        for y in stems(b):
            short, long = sorted((x, y), key=len)
            if len(long) - len(short) < MIN_REST:
                continue
            if len(short) >= MIN_HEAD and long.endswith(short):
                return True
            if first_part and len(short) >= MIN_FIRST and long.startswith(short):
                return True
    return False


def object_nouns(source: str) -> list[str]:
    """The capitalised words of a text that may name a thing (German nouns, function words left out)."""
    return [m.group() for m in NOUN.finditer(source) if m.group().casefold() not in FUNCTION_WORDS]


def promise_nouns(promise: Promise) -> list[str]:
    """The nouns a promise names: its object's, else those of its text."""
    nouns = object_nouns(promise.object or promise.text)
    if not nouns and promise.object:
        nouns = promise.object.split()
    return nouns


def match_deliveries(deliveries: Iterable[Delivery], promises: Iterable[Promise]) -> list[Delivery]:
    """Deliveries with `matches` set to the earlier promise that names the same object."""
    candidates = [(p, promise_nouns(p)) for p in promises]
    out: list[Delivery] = []
    for delivery in deliveries:
        if delivery.matches is None and delivery.object:
            target = delivery.object
            exact = [p for p, nouns in candidates if any(same_form(n, target) for n in nouns)]
            close = exact or [p for p, nouns in candidates if any(same_thing(n, target) for n in nouns)]
            if close:
                delivery = replace(delivery, matches=close[0])
        out.append(delivery)
    return out


FRONTED = re.compile(r"(anbei|hiermit|anliegend|beiliegend|beigefügt|im anhang|in der anlage|als anlage)\s*:?\s+",
                     re.IGNORECASE)
HIER_VERB = re.compile(r"hier\s+(?:ist|sind|kommt|kommen)\s+", re.IGNORECASE)
PRONOUN_RUN = re.compile(r"(?:\s+(?:Sie|ich|wir|Ihnen|dir|euch|du|ihr|uns|mir))+")
SUBJECT_FIRST = re.compile(r"([Ii]ch|[Ww]ir|Sie)\s+([a-zäöüß]+)\s+")
FINITE = re.compile(r"\b(ist|sind|wurde|wurden|haben|habe|hat|hab|liegt|liegen|erhalten|finden|bestätigen|"
                    r"übersenden|senden|schicken|konnten|konnte|hängt|hängen|steht|stehen|läuft|laufen|"
                    r"funktioniert|funktionieren|können|kann)\b")


def wie_versprochen_rewrite(text: str, delivery: Delivery) -> tuple[int, int, str] | None:
    """The edit (start, end, replacement) that makes the delivery clause say "Wie versprochen, …"."""
    start, end = delivery.start, delivery.end
    if delivery.phrased or not 0 <= start < end <= len(text) or text[start:end] != delivery.text:
        return None
    clause = delivery.text
    before = text[:start].rstrip()
    at_start = not before or before[-1] in ".!?" or (before[-1] == "," and "\n" in text[len(before):start])
    new = _sentence_start(clause) if at_start else _inside(clause)
    return (start, end, new) if new else None


def _inside(clause: str) -> str | None:
    """Inside a sentence: "…, die Zahlung ist wie versprochen angewiesen", "…, hier wie versprochen die …"."""
    if clause[:5].lower() == "hier ":
        return f"{clause[:4]} wie versprochen{clause[4:]}"
    verb = FINITE.search(clause)
    if verb is None:
        return None
    pronouns = PRONOUN_RUN.match(clause, verb.end())  # "habe ich Ihnen wie versprochen …"
    cut = pronouns.end() if pronouns else verb.end()
    return f"{clause[:cut]} wie versprochen{clause[cut:]}"


def _sentence_start(clause: str) -> str:
    """At the start of a sentence: "Wie versprochen, erhalten Sie anbei …" / "Wie versprochen: Die …"."""
    wie = "Wie" if clause[:1].isupper() else "wie"
    if m := HIER_VERB.match(clause):
        return f"{wie} versprochen, hier {clause[m.end():]}"
    if m := FRONTED.match(clause):
        marker, rest = m.group(1)[:1].lower() + m.group(1)[1:], clause[m.end():]
        verb = re.match(r"([a-zäöüß]+)", rest)
        if verb and verb.group(1) not in FUNCTION_WORDS and verb.group(1) not in DETERMINERS:
            # "Anbei erhalten Sie das Angebot" -> "erhalten Sie anbei das Angebot"
            pronouns = PRONOUN_RUN.match(rest, verb.end())
            cut = pronouns.end() if pronouns else verb.end()
            return f"{wie} versprochen, {rest[:cut]} {marker} {rest[cut:].lstrip()}".rstrip()
        return f"{wie} versprochen, {marker} {rest}"
    if clause[:5].lower() == "hier ":
        return f"{wie} versprochen, hier{clause[4:]}"
    if m := SUBJECT_FIRST.match(clause):
        subject = m.group(1) if m.group(1) == "Sie" else m.group(1).lower()
        return f"{wie} versprochen, {m.group(2)} {subject} {clause[m.end():]}"
    return f"{wie} versprochen: {clause[:1].upper()}{clause[1:]}"

"""Matching deliveries to earlier promises, and the "Wie versprochen, …" rewrite of a delivery clause."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from server.engine.delivery_clauses import DETERMINERS, FUNCTION_WORDS
from server.engine.types import Delivery, Promise

NOUN = re.compile(r"[A-ZÄÖÜ][\wäöüß]*(?:-[\wäöüßÄÖÜ]+)*")


def _stem(word: str) -> str:
    """A crude stem so inflected forms compare equal ("Rechnungen" ~ "Rechnung", "Angebots" ~ "Angebot")."""
    word = word.casefold()
    for suffix in ("en", "es", "e", "n", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def same_thing(a: str, b: str) -> bool:
    """Whether two nouns name the same thing, compounds included ("Mietvertragskopie" ~ "Mietvertrag")."""
    a, b = _stem(a), _stem(b)
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    # A compound shares its head ("Nachtragsangebot" ~ "Angebot") or its first part ("Mietvertragskopie").
    compound = long.startswith(short) or long.endswith(short)
    return compound and len(short) >= 5 and len(long) - len(short) >= 3


def promise_nouns(promise: Promise) -> list[str]:
    """The nouns a promise names: its object's, else those of its text."""
    source = promise.object or promise.text
    nouns = [m.group() for m in NOUN.finditer(source) if m.group().casefold() not in FUNCTION_WORDS]
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
            exact = [p for p, nouns in candidates if any(_stem(n) == _stem(target) for n in nouns)]
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

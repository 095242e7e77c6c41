"""Quick-fix edits as pure functions: text plus finding in, (title, start, end, replacement) out."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import NamedTuple

from lexicon import load_grammar
from server.engine.types import Deadline, Delivery, Jargon, Promise, Trigger

WORD = re.compile(r"[^\W\d_][\w\-]*", re.UNICODE)
SENTENCE_END = re.compile(r"[.!?…]+[\"'“”»«)]*")
GRAMMAR = load_grammar()
# Function words for the V2 heuristic that finds the finite verb; lexicon/grammar.toml has the shared ones.
SUBJECT_PRONOUNS = GRAMMAR["pronouns"]
OBJECT_PRONOUNS = frozenset(["mich", "dich", "sich", "uns", "euch", "ihnen", "ihm", "es", "sie", "dir", "mir"])
DETERMINERS = GRAMMAR["determiners"] | frozenset(
    ["des", "einer", "eines", "unserem", "unserer", "ihrer", "mein", "meine", "meinen", "meinem", "meiner",
     "dieser", "diesem", "alle"])
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
DATE_PREPOSITIONS = frozenset(["bis", "am", "ab", "für", "zum", "spätestens"])
# Plain alternatives that are advice rather than replacement words ("streichen", "direkt formulieren").
DELETE_ADVICE = frozenset({"streichen", "weglassen", "ersatzlos streichen"})
ADVICE_MARKERS = ("formulieren", "umschreiben", "erklären", "nennen", "ansprechen", "…")
PLACEHOLDER = "[…]"
# Abbreviations whose period ends no sentence (single letters and numbers are handled apart).
ABBREVIATIONS = GRAMMAR["abbreviations"]
# Noun endings that fix the gender; other nouns leave the article to the writer.
FEMININE_SUFFIXES = ("ung", "heit", "keit", "schaft", "tion", "sion", "tät", "enz", "anz", "ik", "ei")
NEUTER_SUFFIXES = ("chen", "lein", "ment")
ARTICLE_BEFORE = re.compile(
    r"\b(der|die|das|dem|den|des|ein|eine|einem|einen|einer|eines|im|am|vom|beim|zum|zur)\s+$", re.IGNORECASE)
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
# Modifier rules whose triggers are absolute words that a hedge replaces (ThirdParties names a carrier:
# that word must stay).
ABSOLUTE_RULES = frozenset({"AbsoluteWords"})
# Words that make a trigger a clause of its own ("Sie können sich darauf verlassen"): not simply droppable.
CLAUSAL = frozenset([
    "sie", "sich", "kein", "keine", "nichts", "verlassen", "kümmern", "tun", "sorge", "problem", "passiert",
    "egal", "dass",
])


class Fix(NamedTuple):
    """One quick fix: replace text[start:end] by `replacement`."""

    title: str
    start: int
    end: int
    replacement: str


def _ends_sentence(text: str, stop: int) -> bool:
    """Whether the punctuation at text[stop] ends a sentence (not "z. B.", "d. h.", "Nr. 5", "30.11.")."""
    if text[stop] != ".":
        return text[stop] in "!?…"
    word = re.search(r"(\w+)$", text[max(0, stop - 12):stop])
    if word is None:
        return True
    token = word.group(1)
    return not (len(token) == 1 or token.isdigit() or token.casefold() in ABBREVIATIONS)


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around text[start:end]: from after the previous sentence end or line break to its end."""
    left = start
    while left > 0:
        prev = text[left - 1]
        if prev == "\n" or (prev.isspace() and left >= 2 and text[left - 2] in ".!?…:"
                            and (text[left - 2] == ":" or _ends_sentence(text, left - 2))):
            break
        left -= 1
    while left < start and text[left].isspace():
        left += 1
    newline = text.find("\n", end)
    right = len(text) if newline < 0 else newline
    for match in SENTENCE_END.finditer(text, end, right):
        if _ends_sentence(text, match.start()):
            right = match.end()
            break
    return left, max(right, end)


def at_sentence_start(text: str, offset: int) -> bool:
    """True when only spaces, opening quotes or nothing stand between `offset` and a sentence start."""
    before = text[:offset].rstrip(" \t\"'„“‚»«(")
    return not before or before[-1] in ".!?…:\n\r"


def capitalize_first(word: str) -> str:
    """The word with its first letter upper-case (the rest untouched)."""
    return word[:1].upper() + word[1:]


def _delete_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a deletion so that exactly one space remains between the neighbours."""
    if end < len(text) and text[end] == " ":
        return start, end + 1
    if start > 0 and text[start - 1] == " ":
        return start - 1, end
    return start, end


def _apply(text: str, edits: list[tuple[int, int, str]], lo: int, hi: int) -> str:
    """text[lo:hi] with the (start, end, replacement) edits applied (edits inside lo..hi, not overlapping)."""
    out, pos = [], lo
    for start, end, repl in sorted(edits):
        if start < pos:
            continue
        out += [text[pos:start], repl]
        pos = end
    out.append(text[pos:hi])
    return "".join(out)


def _words(text: str, lo: int, hi: int) -> list[re.Match[str]]:
    return list(WORD.finditer(text, lo, hi))


def finite_verb_end(text: str, lo: int = 0, hi: int | None = None) -> int | None:
    """Where an adverb can go after the finite verb of a V2 main clause in text[lo:hi] (None if unsure)."""
    words = _words(text, lo, len(text) if hi is None else hi)
    if len(words) < 2:
        return None
    first = words[0].group().casefold()
    # "Ihr Paket kommt …": a determiner reading wins over the pronoun "ihr".
    noun = next((i for i, w in enumerate(words[1:], 1) if w.group()[0].isupper()), -1)
    if first in DETERMINERS and 0 < noun < len(words) - 1:
        # Determiner, adjectives (lower-case), then the capitalised head noun; the verb follows.
        verb_index = noun + 1
    elif first in SUBJECT_PRONOUNS:
        verb_index = 1
    else:
        return None
    verb = words[verb_index].group()
    if not verb[0].islower():
        return None
    end = words[verb_index].end()
    # Unstressed object pronouns stay next to the verb: "Ich kümmere mich voraussichtlich darum".
    for word in words[verb_index + 1:]:
        if word.group().casefold() not in OBJECT_PRONOUNS or text[end:word.start()].strip():
            break
        end = word.end()
    return end


def droppable(trigger: Trigger) -> bool:
    """An absolute word or adverbial that can go without rebuilding the sentence ("garantiert")."""
    words = [w.casefold() for w in WORD.findall(trigger.text)]
    return 0 < len(words) <= 3 and not CLAUSAL.intersection(words)


def _removable(text: str, hi: int, trig: Trigger) -> bool:
    """Whether the trigger can go: a short absolute word, or a lead-in like "Keine Sorge," at the front."""
    if droppable(trig):
        return True
    after = text[trig.end:hi]
    return (at_sentence_start(text, trig.start) and re.match(r"\s*[,:]", after) is not None
            and re.match(r"\s*[,:]\s*(dass|ob|wenn|weil)\b", after) is None)


def _drop_edit(text: str, lo: int, hi: int, trig: Trigger) -> tuple[int, int, str]:
    """The edit that removes one absolute word, keeping punctuation and capitals right."""
    after = text[trig.end:hi]
    if at_sentence_start(text, trig.start) and trig.start >= lo:
        # "Keine Sorge, wir liefern …" / "Versprochen: …" -> the next word starts the sentence.
        gap = re.match(r"\s*[,:;–—-]?\s*", after)
        skip = gap.end() if gap else 0
        nxt = text[trig.end + skip:trig.end + skip + 1]
        if gap and gap.group().strip() and nxt:
            return trig.start, trig.end + skip + 1, nxt.upper()
        return trig.start, trig.end + skip, ""
    before = text[lo:trig.start]
    tail = re.match(r"\s*[.!?…]", after)
    comma = re.search(r"\s*[,–—-]\s*$", before)
    if tail and comma:
        # "…, versprochen." -> "…."
        return trig.start - len(comma.group()), trig.end, ""
    start, end = _delete_span(text, trig.start, trig.end)
    return start, end, ""


def _dropped(text: str, lo: int, hi: int, triggers: list[Trigger]) -> str:
    """text[lo:hi] without the absolute words; word order repaired when one stood first."""
    edits = [_drop_edit(text, lo, hi, t) for t in triggers]
    first = min(triggers, key=lambda t: t.start)
    if at_sentence_start(text, first.start) and not re.match(r"\s*[,:;–—-]", text[first.end:hi]):
        # A leading adverb held the first position: "Selbstverständlich liefern wir …" -> "Wir liefern …".
        words = _words(text, first.end, hi)
        inverted = len(words) >= 2 and words[1].group().casefold() in SUBJECT_PRONOUNS
        if inverted and words[0].group()[0].islower():
            verb, subject = words[0], words[1]
            edits = [e for e in edits if e[0] != first.start]
            edits.append((first.start, subject.end(), f"{capitalize_first(subject.group())} {verb.group()}"))
    return _apply(text, edits, lo, hi)


def _hedged(text: str, lo: int, hi: int, triggers: list[Trigger], hedge: str) -> str | None:
    """text[lo:hi] with the absolute words gone and `hedge` in their place or after the finite verb."""
    inner = [t for t in triggers if not at_sentence_start(text, t.start)
             and not re.match(r"\s*[,:;.!?–—-]", text[t.end:hi])
             and not re.search(r"[,–—-]\s*$", text[lo:t.start])]
    if len(inner) == 1 and len(triggers) == 1:
        return _apply(text, [(inner[0].start, inner[0].end, hedge)], lo, hi)
    sentence = _dropped(text, lo, hi, triggers) if triggers else text[lo:hi]
    verb_end = finite_verb_end(sentence)
    if verb_end is not None:
        return f"{sentence[:verb_end]} {hedge}{sentence[verb_end:]}"
    if hedge == "nach aktuellem Stand":
        return f"Nach aktuellem Stand: {sentence}"
    return None


def hedge_fixes(text: str, promise: Promise,
                is_absolute: Callable[[Trigger], bool] | None = None) -> list[Fix]:
    """Hedged rewrites of a risky promise: drop the absolute word, "voraussichtlich", "nach aktuellem Stand",
    or name the difficulty instead of promising.

    `is_absolute` tells which triggers are absolute words (default: those of the AbsoluteWords rule).
    """
    check = is_absolute or (lambda t: t.rule in ABSOLUTE_RULES)
    lo, hi = sentence_bounds(text, promise.start, promise.end)
    triggers = [t for t in promise.triggers if lo <= t.start < t.end <= hi and check(t)
                and _removable(text, hi, t)]
    fixes: list[Fix] = []
    if triggers:
        words = ", ".join(f"„{t.text}“" for t in sorted(triggers, key=lambda t: t.start))
        fixes.append(Fix(f"{words} streichen", lo, hi, _dropped(text, lo, hi, triggers)))
    for hedge in ("voraussichtlich", "nach aktuellem Stand"):
        hedged = _hedged(text, lo, hi, triggers, hedge)
        if hedged is not None:
            fixes.append(Fix(f"Abschwächen: „{hedge}“", lo, hi, hedged))
    base = _dropped(text, lo, hi, triggers) if triggers else text[lo:hi]
    core = re.sub(r"[.!?…]+[\"'“”»«)]*$", "", base.rstrip())
    difficulty = (f"{core} – das hängt allerdings noch von {PLACEHOLDER} ab. "
                  "Falls es eng wird, melde ich mich rechtzeitig bei Ihnen.")
    fixes.append(Fix("Schwierigkeit benennen statt versprechen", lo, hi, difficulty))
    return _unique(text, fixes)


def _unique(text: str, fixes: list[Fix]) -> list[Fix]:
    """Fixes without duplicates and without no-op edits, in order."""
    seen: set[tuple[int, int, str]] = set()
    out = []
    for fix in fixes:
        key = (fix.start, fix.end, fix.replacement)
        if key in seen or text[fix.start:fix.end] == fix.replacement:
            continue
        seen.add(key)
        out.append(fix)
    return out


def short_date(day: date) -> str:
    """"Freitag, 27.11." (weekday and day.month., the year is clear from context)."""
    return f"{WEEKDAYS[day.weekday()]}, {day.day}.{day.month}."


def _weekday_options(deadline: Deadline, sent: datetime) -> list[tuple[str, date]]:
    """For an ambiguous weekday ("nächsten Dienstag" on a Monday): its next two occurrences."""
    words = [w.casefold() for w in WORD.findall(deadline.text)]
    names = [d for d in WEEKDAYS if d.casefold() in words]
    if not names:
        return []
    target = WEEKDAYS.index(names[0])
    prep = words[0] if words[0] in DATE_PREPOSITIONS else "am"
    first = sent.date() + timedelta(days=(target - sent.weekday()) % 7 or 7)
    return [(f"{prep} {short_date(d)}", d) for d in (first, first + timedelta(days=7))]


def deadline_fixes(text: str, deadline: Deadline, sent: datetime) -> list[Fix]:
    """Concrete dates to choose from for a vague or ambiguous deadline phrase."""
    if deadline.ambiguous and not deadline.vague:
        options = _weekday_options(deadline, sent)
    else:
        from server.engine.deadlines import concrete_date_options

        options = concrete_date_options(sent)
    fixes = []
    # "… bis Freitag, 27.11." at the end of a sentence: the date's period also ends the sentence.
    end = deadline.end + 1 if text[deadline.end:deadline.end + 1] == "." else deadline.end
    for label, _day in options:
        repl = capitalize_first(label) if at_sentence_start(text, deadline.start) else label
        stop = end if repl.endswith(".") else deadline.end
        fixes.append(Fix(f"Konkret: „{label}“", deadline.start, stop, repl))
    return _unique(text, fixes)


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
    """How the article before text[start] must change for `plain`.

    (article start, new article) when it must and can change, None when nothing needs changing,
    False when an article is there but its right form cannot be known.
    """
    match = ARTICLE_BEFORE.search(text, 0, start)
    if match is None or match.end() != start:
        return None
    article = match.group(1)
    swaps = ARTICLE_SWAP.get(article.casefold())
    if swaps is None:
        return False
    gender = noun_gender(plain)
    new = swaps.get(gender) if gender else None
    if new is None:
        return False
    if article[:1].isupper():
        new = capitalize_first(new)
    return (match.start(1), new) if new != article else None


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
                start, end = _delete_span(text, jargon.start, jargon.end)
                fixes.append(Fix(f"„{written}“ streichen", start, end, ""))
            continue
        if any(marker in advice for marker in ADVICE_MARKERS):
            continue
        repl = capitalize_first(plain) if initial else plain
        notes = []
        if written.casefold() != jargon.term.casefold():
            notes.append("Form prüfen")  # an inflected match ("Meetings") gets the base form
        article = _article_edit(text, jargon.start, plain) if plain[:1].isupper() else None
        start = jargon.start
        if isinstance(article, tuple):
            start, new_article = article
            repl = f"{new_article}{text[start + len(text[start:jargon.start].split()[0]):jargon.start]}{repl}"
        elif article is False:
            notes.append("Artikel prüfen")
        title = f"Ersetzen durch „{plain}“" + (f" ({', '.join(notes)})" if notes else "")
        fixes.append(Fix(title, start, jargon.end, repl))
    return _unique(text, fixes)


def delivery_fixes(text: str, delivery: Delivery, *, promised: bool | None = None) -> list[Fix]:
    """The "Wie versprochen, …" rewrite for a delivery that redeems an earlier promise.

    `promised` overrides `delivery.matches` (the language server also matches against the tracker).
    """
    if delivery.phrased or not (delivery.matches is not None if promised is None else promised):
        return []
    edit = wie_versprochen(text, delivery)
    if edit is None:
        return []
    start, end, repl = edit
    return _unique(text, [Fix("Als eingelöste Zusage formulieren: „Wie versprochen, …“", start, end, repl)])


def wie_versprochen(text: str, delivery: Delivery) -> tuple[int, int, str] | None:
    """The engine's rewrite (`deliveries.wie_versprochen_rewrite`), or a plain "Wie versprochen: " prefix."""
    from server.engine import deliveries

    rewrite: Callable[[str, Delivery], tuple[int, int, str] | None] | None = getattr(
        deliveries, "wie_versprochen_rewrite", None)
    if rewrite is not None:
        return rewrite(text, delivery)
    lo, _hi = sentence_bounds(text, delivery.start, delivery.end)
    return lo, lo, "Wie versprochen: "

"""Quick-fix edits as pure functions: text plus finding in, (title, start, end, replacement) out."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import NamedTuple

from lexicon import load_grammar
from server.engine.types import Deadline, Delivery, Promise, Trigger

WORD = re.compile(r"[^\W\d_][\w\-]*", re.UNICODE)
SENTENCE_END = re.compile(r"[.!?…]+[\"'“”»«)]*")
GRAMMAR = load_grammar()
# Function words for the V2 heuristic that finds the finite verb; lexicon/grammar.toml has the shared ones.
SUBJECT_PRONOUNS = GRAMMAR["pronouns"]
OBJECT_PRONOUNS = GRAMMAR["object_pronouns"]
PREPOSITIONS = GRAMMAR["prepositions"]
SUBORDINATORS = GRAMMAR["subordinators"]
COORDINATORS = GRAMMAR["coordinators"]
DETERMINERS = GRAMMAR["determiners"] | GRAMMAR["more_determiners"]
NOT_VERBS = PREPOSITIONS | DETERMINERS | COORDINATORS | SUBORDINATORS
SENTENCE_STARTS = NOT_VERBS | SUBJECT_PRONOUNS
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
DATE_PREPOSITIONS = GRAMMAR["date_prepositions"]
PLACEHOLDER = "[…]"
# Abbreviations whose period ends no sentence (single letters and numbers are handled apart).
ABBREVIATIONS = GRAMMAR["abbreviations"]
# Noun endings that fix the gender; other nouns leave the article to the writer.
# Modifier rules whose triggers are absolute words that a hedge replaces (ThirdParties names a carrier:
# that word must stay).
ABSOLUTE_RULES = frozenset({"AbsoluteWords"})
# Words that make a trigger a clause of its own ("Sie können sich darauf verlassen"): not simply droppable.
CLAUSAL = GRAMMAR["clausal_trigger_words"]


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
    if len(token) == 1 or token.casefold() in ABBREVIATIONS:
        return False
    if token.isdigit():
        # "… ab Montag, den 30.11. Die Farbmuster …": a date ends the sentence when a sentence start follows.
        after = stop + 1
        while after < len(text) and text[after] in " \t":
            after += 1
        nxt = WORD.match(text, after)
        return nxt is not None and nxt.group()[0].isupper() and nxt.group().casefold() in SENTENCE_STARTS
    return True


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
    # The span may already end with the sentence's full stop.
    scan = end - 1 if end > start and text[end - 1] in ".!?…" else end
    for match in SENTENCE_END.finditer(text, scan, right):
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


def delete_span(text: str, start: int, end: int) -> tuple[int, int]:
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
    """Where an adverb can go after the finite verb of a V2 main clause in text[lo:hi] (None if unsure).

    The first position holds a pronoun, a noun phrase (with prepositional phrases attached) or a
    prepositional phrase; the verb follows, then pronouns stay next to it ("liefern wir Ihnen | …").
    """
    words = [w.group() for w in _words(text, lo, len(text) if hi is None else hi)]
    spans = _words(text, lo, len(text) if hi is None else hi)
    i = 0
    while i < len(words) and words[i].casefold() in COORDINATORS:
        i += 1
    # "Sofern …" opens a subordinate clause, "Bitte …" a request: no verb-second main clause to hedge.
    if i >= len(words) - 1 or words[i].casefold() in SUBORDINATORS or words[i].casefold() == "bitte":
        return None
    first = words[i].casefold()
    noun_follows = i + 1 < len(words) and words[i + 1][0].isupper()
    if first in SUBJECT_PRONOUNS and not (first in DETERMINERS and noun_follows):
        verb = i + 1
    else:
        head = _phrase_end(words, i)
        if head is None:
            return None
        verb = head + 1
    if verb >= len(words) or not words[verb][0].islower() or words[verb].casefold() in NOT_VERBS:
        return None
    end = spans[verb].end()
    for span in spans[verb + 1:]:
        word = span.group().casefold()
        if (word not in OBJECT_PRONOUNS and word not in SUBJECT_PRONOUNS) or text[end:span.start()].strip():
            break
        end = span.end()
    return end


def _phrase_end(words: list[str], i: int) -> int | None:
    """Index of the last noun of the phrase starting at words[i] (prepositional phrases included)."""
    first = words[i].casefold()
    if first in DETERMINERS or first in PREPOSITIONS:
        j = next((k for k in range(i + 1, len(words)) if words[k][0].isupper()), None)
    elif words[i][0].isupper():
        j = i
    else:
        return None
    while j is not None and j + 1 < len(words) and words[j + 1].casefold() in PREPOSITIONS:
        j = next((k for k in range(j + 2, len(words)) if words[k][0].isupper()), None)
    return j


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
    start, end = delete_span(text, trig.start, trig.end)
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


def _hedge_fix(text: str, lo: int, hi: int, promise: Promise, triggers: list[Trigger], hedge: str) -> Fix | None:
    """One hedged variant: the hedge in place of the absolute word, or after the clause's finite verb."""
    title = f"Abschwächen: „{hedge}“"
    inner = [t for t in triggers if not at_sentence_start(text, t.start)
             and not re.match(r"\s*[,:;.!?–—-]", text[t.end:hi])
             and not re.search(r"[,–—-]\s*$", text[lo:t.start])]
    if len(inner) == 1 and len(triggers) == 1:
        return Fix(title, inner[0].start, inner[0].end, hedge)
    clause_start = max(lo, promise.start)
    if not triggers:
        verb_end = finite_verb_end(text, clause_start, min(hi, promise.end))
        if verb_end is not None:
            return Fix(title, verb_end, verb_end, f" {hedge}")
        if hedge == "nach aktuellem Stand" and clause_start == lo:
            return Fix(title, lo, lo, "Nach aktuellem Stand: ")
        return None
    # Absolute words dropped first; the clause starts where its text starts in the new sentence.
    edits = [_drop_edit(text, lo, hi, t) for t in triggers]
    sentence = _dropped(text, lo, hi, triggers)
    offset = len(_apply(text, [e for e in edits if e[1] <= clause_start], lo, clause_start))
    verb_end = finite_verb_end(sentence, offset)
    if verb_end is not None:
        return Fix(title, lo, hi, f"{sentence[:verb_end]} {hedge}{sentence[verb_end:]}")
    if hedge == "nach aktuellem Stand" and clause_start == lo:
        return Fix(title, lo, hi, f"Nach aktuellem Stand: {sentence}")
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
        fix = _hedge_fix(text, lo, hi, promise, triggers, hedge)
        if fix is not None:
            fixes.append(fix)
    base = _dropped(text, lo, hi, triggers) if triggers else text[lo:hi]
    core = base.rstrip()
    final = SENTENCE_END.search(core, max(0, len(core) - 4))
    if final is not None and final.end() == len(core) and _ends_sentence(core, final.start()):
        core = core[:final.start()]
    difficulty = (f"{core} – das hängt allerdings noch von {PLACEHOLDER} ab. "
                  "Falls es eng wird, melde ich mich rechtzeitig bei Ihnen.")
    fixes.append(Fix("Schwierigkeit benennen statt versprechen", lo, hi, difficulty))
    return unique_fixes(text, fixes)


def unique_fixes(text: str, fixes: list[Fix]) -> list[Fix]:
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
    return unique_fixes(text, fixes)


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
    return unique_fixes(text, [Fix("Als eingelöste Zusage formulieren: „Wie versprochen, …“", start, end, repl)])


def wie_versprochen(text: str, delivery: Delivery) -> tuple[int, int, str] | None:
    """The engine's rewrite (`deliveries.wie_versprochen_rewrite`), or a plain "Wie versprochen: " prefix."""
    from server.engine import deliveries

    rewrite: Callable[[str, Delivery], tuple[int, int, str] | None] | None = getattr(
        deliveries, "wie_versprochen_rewrite", None)
    if rewrite is not None:
        return rewrite(text, delivery)
    lo, _hi = sentence_bounds(text, delivery.start, delivery.end)
    return lo, lo, "Wie versprochen: "

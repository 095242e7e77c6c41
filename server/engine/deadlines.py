"""Deadline phrases in German text and the dates they resolve to (DESIGN.md's deadline rules).

The grammar lives in `deadline_patterns`, the per-phrase resolution in `deadline_anchors` and the
calendar arithmetic in `calendar_de`; this module finds, filters and ranks the phrases, and holds the
helpers the language server's hovers and quick fixes use.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from server.engine.calendar_de import (
    DAY_NAMES,
    add_workdays,
    is_workday,
    last_day,
    monday_of,
    workday_on_or_before,
)
from server.engine.deadline_anchors import HANDLERS, Core, Ctx, Due
from server.engine.deadline_patterns import (
    ADVERBS,
    ANCHORS,
    ANCHORS_BY_FIRST,
    ARTICLES,
    BLOCKERS,
    CASED_KINDS,
    CLAUSE_EVENT,
    EVENT_AFTER,
    EVENT_BEFORE,
    GENERAL,
    GLUED_BEFORE,
    LATE_ADVERBS,
    LEADERS,
    MAX_LEAD,
    NUMBER_KINDS,
    PREPOSITIONS,
    SELF_TRIGGERS,
    SENTENCE_END,
    TOKEN,
    TRIGGERS,
    alternation,
    lower_same_length,
)
from server.engine.types import Deadline

__all__ = ["DeadlineFinder", "concrete_date_options", "format_due_de", "is_tight", "is_workday"]

Hit = tuple[int, int, Deadline | None]  # start, end, and None for a span that blocks but is no deadline
# Prepositions that make a named day a reference: "seit Montag", "vom 20.11.", "übers Wochenende".
REFERENCE_PREPS = frozenset({"seit", "vom", "von", "über", "übers", "nach"})
GREETING = re.compile(r"(?<![\w])bis\s+$")
EQUAL_BEFORE = re.compile(r"(?<![\w])(?:ist|sind|bleibt|bleiben|genau|ungefähr|fast|nicht|alles|mir|dir|uns"
                          r"|euch|ihm|ihnen|ganz|egal|so)\s+$")
EQUAL_AFTER = re.compile(r"\s+(?:viel|wie|[a-zäöüß]+(?:er|en|e))(?![\w])")  # original text: not a noun
# Between a vague phrase and a dated one that bounds it: ", spätestens aber", " – allerspätestens".
LATEST = re.compile(r"\s*[,–-]?\s*(?:(?:aber|jedoch|also|und|oder)\s+)?(?:aller)?spätestens(?:\s+aber)?", re.I)
HOURS_NAMED = re.compile(r"stunde|std|minute|\dh\b", re.I)


class DeadlineFinder:
    """Finds deadline phrases ("bis Freitag", "KW 49", "zeitnah") and resolves them against the sent time."""

    def __init__(self, vague_phrases: Iterable[str] = ()) -> None:
        self.vague_phrases = tuple(p.strip() for p in vague_phrases if p.strip())
        phrases = {" ".join(p.lower().split()) for p in self.vague_phrases}
        self._vague = re.compile(rf"(?:{alternation(phrases)})(?![\w])") if phrases else None
        self._vague_first = frozenset(m.group() for p in phrases if (m := TOKEN.search(p)))
        # One pass in C over the lowercased text finds every word worth a closer look (see TRIGGERS).
        words = TRIGGERS | SELF_TRIGGERS | self._vague_first
        # It starts with a character class, so the engine skips from word to word in C.
        self._scan = re.compile(rf"[^\w]((?:{alternation(words)})(?![\w])|\d+|kw\d+)")

    def find(self, text: str, sent: datetime) -> list[Deadline]:
        """All deadline phrases in `text`, offsets relative to `text`, in text order, not overlapping."""
        sent = _wall_clock(sent)
        low = lower_same_length(text)
        anchors, vague = self._positions(low)
        hits: list[Hit] = []
        floor = 0
        sentences = _Sentences(text)
        for pos in sorted(anchors):
            if pos < floor or (m := _anchor(text, low, pos, anchors[pos])) is None:
                continue  # below floor: already part of a longer phrase ("für Dienstag, 1.12., um 15 Uhr")
            found = _resolve(text, low, m, sent, floor, sentences)
            if found is not None:
                hits.append(found)
                floor = found[1]
        if self._vague is not None:
            for pos in vague:
                if (m := self._vague.match(low, pos)) and (hit := _vague_hit(text, low, m)):
                    hits.append(hit)
        # Longest first at a start, concrete before vague: "gleich morgen" is tomorrow, not "gleich".
        hits.sort(key=lambda h: (h[0], h[0] - h[1], h[2] is None or h[2].vague))
        out: list[Deadline] = []
        end = 0
        for start, stop, deadline in hits:
            if start >= end:
                end = stop
                if deadline is not None:
                    out.append(deadline)
        return _with_day_of_previous(text, _with_latest_date(text, out), sent)

    def _positions(self, low: str) -> tuple[dict[int, str], list[int]]:
        """Where an anchor (with its first word) or a vague phrase may start, from one scan of the text."""
        anchors: dict[int, str] = {}
        vague: list[int] = []
        for m in self._scan.finditer(" " + low):  # the space lets a word at offset 0 match too
            word, pos = m.group(1), m.start(1) - 1
            if word in self._vague_first:
                vague.append(pos)
            if word in SELF_TRIGGERS:
                anchors[pos] = word
            elif word[0].isdigit():
                if pos and (low[pos - 1] in GLUED_BEFORE or (low[pos - 1] == " " and low[pos - 2:pos - 1].isdigit())):
                    continue  # the tail of "1.234,56", "2026-0815", "030 1234": part of another number
                anchors[pos] = word
                _leaders(low, pos, anchors)
            elif word in TRIGGERS or word.startswith("kw"):
                anchors[pos] = word
                _leaders(low, pos, anchors)
        return anchors, vague


def _leaders(low: str, pos: int, into: dict[int, str]) -> None:
    """Add the leading words right before a trigger ("innerhalb von zwei" before "Wochen")."""
    lo = max(0, pos - 80)
    window = low[lo:pos]
    idx = len(window)
    for chunk in reversed(window.rsplit(None, MAX_LEAD)[-MAX_LEAD:]):
        idx = window.rindex(chunk, 0, idx)
        word = chunk.rstrip(".,")  # "ca. zwei", "Dienstag, 1.12."
        if word not in LEADERS or (idx == 0 and lo > 0 and not low[lo - 1].isspace()):
            return
        into[lo + idx] = word


def _anchor(text: str, low: str, pos: int, word: str) -> re.Match[str] | None:
    """The first anchor kind that matches at `pos`, trying only kinds that can start with `word`."""
    if word[0].isdigit():
        after = low[pos + len(word):pos + len(word) + 1]
        kinds = NUMBER_KINDS.get(" " if after.isspace() else "a" if after.isalpha() else after, ())
    else:
        kinds = ANCHORS_BY_FIRST.get("kw" if word.startswith("kw") and word[2:].isdigit() else word, ())
    for kind in kinds:
        m = ANCHORS[kind].match(text if kind in CASED_KINDS else low, pos)
        if m is not None:
            return m
    return None


BARE_CLOCK = re.compile(r"(?i)^(?:um|bis|ab|gegen|spätestens\s+um)?\s*\d{1,2}(?:[:.]\d{2})?\s*uhr$")
# How far back a named day may stand and still give a bare clock time its day.
DAY_CONTEXT_CHARS = 300
PARAGRAPH_GAP = re.compile(r"\n[ \t\r]*\n")  # the day does not carry over into the next paragraph


def _with_day_of_previous(text: str, found: list[Deadline], sent: datetime) -> list[Deadline]:
    """A bare clock time ("um 19 Uhr") takes the day named just before it ("Am Samstag … um 17 Uhr …")."""
    out: list[Deadline] = []
    for d in found:
        prev = out[-1] if out else None
        if (prev is not None and prev.due is not None and isinstance(d.due, datetime)
                and BARE_CLOCK.match(d.text.strip()) and d.start - prev.end <= DAY_CONTEXT_CHARS
                and not PARAGRAPH_GAP.search(text, prev.end, d.start)):
            day = prev.due.date() if isinstance(prev.due, datetime) else prev.due
            if day > sent.date():
                d = Deadline(d.start, d.end, d.text, datetime.combine(day, d.due.time()), d.vague, d.ambiguous,
                             d.event_bound)
        out.append(d)
    return out


def _with_latest_date(text: str, found: list[Deadline]) -> list[Deadline]:
    """ "zeitnah, spätestens aber bis Freitag": the writer did name a date, so the pair is one dated deadline."""
    out: list[Deadline] = []
    for d in found:
        prev = out[-1] if out else None
        if (prev is not None and prev.vague and not d.vague and d.due is not None
                and LATEST.fullmatch(text, prev.end, d.start + len(d.text.split()[0]))):
            out[-1] = Deadline(prev.start, d.end, text[prev.start:d.end], d.due)
        else:
            out.append(d)
    return out


def _vague_hit(text: str, low: str, m: re.Match[str]) -> Hit | None:
    word, start = m.group(), m.start()
    before = low[max(0, start - 20):start]
    if " " not in word and GREETING.search(before):
        return None  # "Bis bald!", "bis später": greetings
    if word == "gleich" and (EQUAL_BEFORE.search(before) or EQUAL_AFTER.match(text, m.end())):
        return None  # "gleich hoch", "bleibt gleich": equality, not time
    event = EVENT_AFTER.match(text, m.end()) if " " not in word else None  # "umgehend nach Eingang"
    end = event.end() if event else m.end()
    return start, end, Deadline(start, end, text[start:end], None, vague=True, event_bound=bool(event))


def _resolve(text: str, low: str, m: re.Match[str], sent: datetime, floor: int, sentences: _Sentences) -> Hit | None:
    """One anchor with its preposition ("bis zum", "spätestens"), extensions and context checks."""
    words = _words_before(low, m.start())
    own = [w for w in words if w[0] >= floor]  # the prefix never reaches into the previous phrase
    start, prep, used = _prefix(own, m.start())
    ctx = Ctx(text, low, m, sent, prep, start)
    core = HANDLERS[m.lastgroup or ""](ctx)
    if core is None:
        return None
    if _blocked(words[used:]) or (prep in REFERENCE_PREPS and not (prep == "nach" and m.lastgroup == "CMP")):
        core.keep = False  # "wie am Freitag besprochen", "seit Montag", "Ihre Mail vom 20.11."
    if core.keep and core.service:
        _relative_context(ctx, core, sentences)
    if core.keep and core.due is not None and _day(core.due) < ctx.today:
        core.keep = False  # a time of the past is a reference, not a deadline
    if not core.keep:
        return start, core.end, None
    due = None if core.event else core.due
    return start, core.end, Deadline(start, core.end, text[start:core.end], due, ambiguous=core.ambiguous,
                                     event_bound=core.event)


def _words_before(low: str, pos: int, n: int = 5) -> list[tuple[int, str]]:
    """Up to n space-separated words before `pos`, nearest first, with their starts ("ca." as "ca")."""
    lo = max(0, pos - 50)
    window = low[lo:pos]
    out: list[tuple[int, str]] = []
    if not window or not window[-1].isspace():
        return out  # glued to the anchor: "(morgen", "-Termin"
    idx = len(window)
    for chunk in reversed(window.rsplit(None, n)[-n:]):
        idx = window.rindex(chunk, 0, idx)
        if idx == 0 and lo > 0 and low[lo - 1].isalnum():
            break  # cut in the middle of a word
        out.append((lo + idx, chunk[:-1] if chunk[-1] == "." and chunk[:-1].isalpha() else chunk))
    return out


def _prefix(words: list[tuple[int, str]], start: int) -> tuple[int, str, int]:
    """Extend an anchor to its adverbs and preposition: the new start, the preposition, the words used."""
    w = [word for _, word in words] + ["", "", ""]
    prep, i = "", 0
    if w[i] in LATE_ADVERBS:
        i += 1
    if w[i] in ARTICLES and w[i + 1] in PREPOSITIONS:
        prep, i = w[i + 1], i + 2
    elif w[i] in PREPOSITIONS:
        prep, i = w[i], i + 1
    if w[i] in ADVERBS:
        i += 1
    elif w[i] == "aber" and w[i + 1] in ADVERBS:
        i += 2  # "spätestens aber am Donnerstag"
    elif (w[i], w[i + 1], w[i + 2]) == ("als", "später", "nicht"):
        i += 3  # "nicht später als Freitag"
    return (words[i - 1][0] if i else start), prep, i


def _blocked(rest: list[tuple[int, str]]) -> bool:
    """A word before the phrase turns it into a reference or a habit: "wie am Freitag", "jeden Montag"."""
    first = rest[0][1] if rest else ""
    second = rest[1][1] if len(rest) > 1 else ""
    return first in BLOCKERS or first.startswith("§") or (first, second) == ("heute", "von")  # von heute auf morgen


def _relative_context(ctx: Ctx, core: Core, sentences: _Sentences) -> None:
    """Deadlines counted from now: service times are none, and an event before them binds them."""
    s0, s1 = sentences.around(ctx.start, core.end)
    if GENERAL.search(ctx.low, s0, s1):
        core.keep = False  # "Unser Notdienst ist in der Regel innerhalb von zwei Stunden da."
    elif core.relative and not core.event:
        core.event = bool(EVENT_BEFORE.search(ctx.text, max(s0, ctx.start - 60), ctx.start)
                          or CLAUSE_EVENT.search(ctx.low, s0, ctx.start))


class _Sentences:
    """Sentence bounds of a text, found on first use (most paragraphs never need them)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.done = False

    def around(self, start: int, end: int) -> tuple[int, int]:
        """The sentence around [start, end): from the last sentence end before it to the next one after it."""
        if not self.done:
            for m in SENTENCE_END.finditer(self.text):
                self.ends.append(m.start())
                self.starts.append(m.end())
            self.done = True
        i = bisect_right(self.starts, start)
        j = bisect_left(self.ends, end)
        return (self.starts[i - 1] if i else 0), (self.ends[j] if j < len(self.ends) else len(self.text))


def _wall_clock(sent: datetime) -> datetime:
    """The writer's local time without its zone: "heute" and "bis 12 Uhr" mean the writer's clock."""
    return sent.replace(tzinfo=None) if sent.tzinfo is not None else sent


def _day(due: Due) -> date:
    return due.date() if isinstance(due, datetime) else due


def format_due_de(due: Due) -> str:
    """A due date as German readers expect it: "Freitag, 27.11.2026" (", 14:00 Uhr" with a time)."""
    day = _day(due)
    text = f"{DAY_NAMES[day.weekday()]}, {day.day}.{day.month}.{day.year}"
    return text + f", {due:%H:%M} Uhr" if isinstance(due, datetime) else text


def concrete_date_options(sent: datetime) -> list[tuple[str, date]]:
    """3–4 concrete dates to offer instead of a vague deadline, all working days, soonest first.

    The next working day, this Friday, the month's last working day, next Friday and the one after,
    keeping the first four that lie ahead ("bis morgen, 24.11.", "bis Freitag, 27.11.", …).
    """
    today = sent.date()
    friday = monday_of(today) + timedelta(days=4)
    days = {add_workdays(today, 1), workday_on_or_before(today.replace(day=last_day(today))),
            *(workday_on_or_before(friday + timedelta(days=7 * k)) for k in range(3))}
    tomorrow = today + timedelta(days=1)
    return [(f"bis {'morgen' if d == tomorrow else DAY_NAMES[d.weekday()]}, {d.day}.{d.month}.", d)
            for d in sorted(d for d in days if d > today)[:4]]


def is_tight(deadline: Deadline, sent: datetime) -> bool:
    """True for a deadline at a clock time today or within hours ("innerhalb von 24 Stunden").

    "heute" or "heute Nachmittag" without a clock time leaves the day as buffer: not tight.
    """
    due, sent = deadline.due, _wall_clock(sent)
    if deadline.vague or not isinstance(due, datetime):
        return False
    if due.date() == sent.date():
        return True
    return due - sent <= timedelta(hours=48) and bool(HOURS_NAMED.search(deadline.text))

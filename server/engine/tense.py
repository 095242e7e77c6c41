"""Tense of a clause: does a deadline lie ahead, is the clause past or perfect (then it reports, not promises)."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime

from lexicon import load_grammar
from server.engine.nlp import Tokens
from server.engine.types import Deadline

GRAMMAR = load_grammar()
PAST_ONLY = GRAMMAR["past_only"]
PERFECT_AUX = GRAMMAR["perfect_aux"]
FUTURE_AUX = GRAMMAR["future_aux"]
SCHEDULED = GRAMMAR["scheduled"]
STRONG_PARTICIPLES = GRAMMAR["strong_participles"]
PARTICIPLE = re.compile(
    rf"^(?:(?:{'|'.join(sorted(GRAMMAR['particles']))})?ge\w{{2,}}(?:t|en)|\w{{3,}}iert|"
    rf"(?:{'|'.join(sorted(GRAMMAR['particles']))})?(?:{'|'.join(sorted(GRAMMAR['inseparable']))})\w{{3,}}t)$"
)


def is_future(deadline: Deadline | None, sent: datetime) -> bool:
    if deadline is None:
        return False
    if deadline.vague or deadline.due is None:
        return True  # vague, event-bound or ambiguous deadlines all lie ahead
    if re.match(r"(?i)ab\s+sofort\b", deadline.text):
        return False  # "ist ab sofort online": a state that already holds, no date ahead
    due = deadline.due.date() if isinstance(deadline.due, datetime) else deadline.due
    return isinstance(due, date) and due >= sent.date()


def is_past(tokens: Tokens, start: int, end: int, deadline: Deadline | None = None,
             skip: set[int] | frozenset[int] = frozenset()) -> bool:
    """Past or perfect tense, judged on the coordinated part that holds the deadline if there is one."""
    lo, hi = start, end
    if deadline is not None:
        cuts = [i for i in range(start, end) if tokens.lower[i] in ("und", "sowie")]
        bounds = [start - 1, *cuts, end]
        for a, b in itertools.pairwise(bounds):
            if a + 1 < b and tokens.start[a + 1] <= deadline.start < tokens.end[b - 1]:
                lo, hi = a + 1, b
                break
    words = [tokens.lower[i] for i in range(lo, hi) if i not in skip and not tokens.noun[i]]  # "Angebot" ≠ an-ge-bot
    word_set = set(words)
    if word_set & PAST_ONLY:
        return True
    if word_set & FUTURE_AUX:
        return False  # "ist bekannt und wird … behoben": the future part decides
    if word_set & PERFECT_AUX:
        return any((PARTICIPLE.match(w) or w in STRONG_PARTICIPLES) and w not in SCHEDULED for w in words)
    return False

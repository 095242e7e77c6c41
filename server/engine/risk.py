"""Risk of a promise from the words around it: hedges and conditions lower it, absolutes and third parties raise it."""

from __future__ import annotations

from collections.abc import Sequence

from lexicon import Lexicon, Rule
from server.engine.types import Risk, Trigger

# Which rule decides when several fire: hedged or conditional first (DESIGN.md: high means unconditional).
PRECEDENCE: tuple[tuple[str, Risk], ...] = (
    ("Hedges", "low"), ("Conditions", "low"), ("AbsoluteWords", "high"), ("TightDeadlines", "high"),
    ("ThirdParties", "high"), ("OutsideControl", "high"),
)


def grades(rule: Rule, start: int, end: int, own_action: bool, unit: tuple[int, int]) -> bool:
    """Whether a risk modifier at tokens [start, end) grades a promise in this unit.

    Hedges and conditions count in the promise's own clauses only (a hedge in the next clause hedges
    that clause); words that raise the risk may stand in a neighbouring clause ("…, der Spediteur hat das
    fest zugesagt"). A third party raises the risk only when the result is theirs ("Der Gutachter kommt",
    "Sie bekommen es morgen per Post"), not for our own action ("wir schicken Ihnen einen Gutachter").
    """
    effect = rule.option("effect")
    if rule.kind != "modifier" or effect not in ("high", "low"):
        return False
    if effect == "low":
        return unit[0] <= start and end <= unit[1]
    return not ((rule.name == "ThirdParties" or rule.option("third_party")) and own_action)


def grade(triggers: Sequence[Trigger], lexicon: Lexicon) -> tuple[Risk, Trigger | None]:
    """Risk from the triggers: hedges and conditions first (DESIGN: high means unconditional), then the rest."""
    by_rule: dict[str, Trigger] = {}
    for t in triggers:
        by_rule.setdefault(t.rule, t)
    for name, risk in PRECEDENCE:
        if name in by_rule:
            return risk, by_rule[name]
    for t in triggers:  # team rule files with their own effect
        rule = lexicon.rules.get(t.rule)
        if rule is not None:
            return rule.option("effect"), t
    return "medium", None

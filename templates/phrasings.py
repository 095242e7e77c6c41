"""'Wie versprochen, …' sentences by delivery type, from templates/wie_versprochen.txt.j2 (for quick fixes)."""

from __future__ import annotations

import re
from datetime import date

import jinja2

DELIVERY_TYPES = ("document", "shipment", "appointment", "repair", "payment", "callback", "information", "other")
WORD = re.compile(r"[^\W\d_][\w-]*")
# Capitalised words that are never the head noun of a delivered object.
NOT_HEADS = frozenset({"ihr", "ihre", "ihren", "ihrem", "ihrer", "ihres", "sie", "unser", "unsere", "unseren",
                       "unserem", "unserer", "unseres"})


def delivery_type(env: jinja2.Environment, obj: str) -> str:
    """The phrasing type for a delivered object ("das Preisangebot" → "document"), "other" when unknown.

    The table lives in `delivery_types.j2`, so a team can extend it in its template folder.
    """
    words = WORD.findall(obj)
    if not words:
        return "other"
    # The head is the first noun ("die Reparatur Ihrer Heizung" → Reparatur), else the last word.
    nouns = [w for w in words if w[:1].isupper() and w.casefold() not in NOT_HEADS]
    last = (nouns[0] if nouns else words[-1]).casefold()
    table: dict[str, list[str]] = env.get_template("delivery_types.j2").module.DELIVERY_TYPES  # type: ignore[attr-defined]
    best, best_len = "other", 0
    for kind, endings in table.items():
        for ending in endings:
            if last.endswith(ending) and len(ending) > best_len:
                best, best_len = kind, len(ending)
    return best


def wie_versprochen(env: jinja2.Environment, obj: str = "", *, kind: str | None = None,
                    day: date | None = None) -> str:
    """The sentence for `obj` (with its article), its type guessed from the noun unless `kind` is given."""
    chosen = kind or delivery_type(env, obj)
    if chosen not in DELIVERY_TYPES:
        raise ValueError(f"Unbekannte Lieferart „{chosen}“ (erlaubt: {', '.join(DELIVERY_TYPES)})")
    text = env.get_template("wie_versprochen.txt.j2").render(type=chosen, object=obj.strip(), date=day)
    return " ".join(text.split())

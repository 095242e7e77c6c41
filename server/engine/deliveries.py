"""Deliveries: the new text hands something over or reports a task done."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from lexicon import Lexicon
from server.engine.types import Delivery, Promise

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc


class DeliveryFinder:
    """Finds hand-overs ("Anbei erhalten Sie das Angebot") and done reports in a paragraph."""

    def __init__(self, lexicon: Lexicon, nlp: Language) -> None:
        self.lexicon = lexicon

    def find(self, doc: Doc) -> list[Delivery]:
        """Deliveries in `doc`, offsets relative to `doc.text`."""
        return []


def match_deliveries(deliveries: Iterable[Delivery], promises: Iterable[Promise]) -> list[Delivery]:
    """Deliveries with `matches` set to the earlier promise that names the same object."""
    return list(deliveries)

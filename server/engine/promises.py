"""Promises: commitments of the writer in the new text, with kind, risk and deadline."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lexicon import Lexicon
from server.engine.deadlines import DeadlineFinder
from server.engine.types import Promise

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc


class PromiseFinder:
    """Finds promise clauses in a paragraph."""

    def __init__(self, lexicon: Lexicon, nlp: Language, deadlines: DeadlineFinder) -> None:
        self.lexicon = lexicon
        self.deadlines = deadlines

    def find(self, doc: Doc, sent: datetime) -> list[Promise]:
        """Promises in `doc`, offsets relative to `doc.text`."""
        return []

"""Jargon: anglicisms, technical terms and officialese, matched from the lexicon's substitution rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lexicon import Lexicon
from server.engine.types import Jargon

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc


class JargonFinder:
    """Matches the lexicon's `substitution` rules against a spaCy Doc."""

    def __init__(self, lexicon: Lexicon, nlp: Language) -> None:
        self.lexicon = lexicon

    def find(self, doc: Doc) -> list[Jargon]:
        """Jargon findings in `doc`, character offsets relative to `doc.text`."""
        return []

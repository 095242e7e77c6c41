"""Deadline phrases in German text and the dates they resolve to (DESIGN.md's deadline rules)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from server.engine.types import Deadline


class DeadlineFinder:
    """Finds deadline phrases ("bis Freitag", "KW 49", "zeitnah") and resolves them against the sent time."""

    def __init__(self, vague_phrases: Iterable[str] = ()) -> None:
        self.vague_phrases = tuple(vague_phrases)

    def find(self, text: str, sent: datetime) -> list[Deadline]:
        """All deadline phrases in `text`, offsets relative to `text`, in text order, not overlapping."""
        return []

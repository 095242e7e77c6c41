"""The analysis engine: pure functions from draft text and sent time to findings (no I/O).

`Engine` is imported on first use, so importing the value types stays cheap (no spaCy).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.engine import _source

# Before any engine module is imported: compiled (mypyc) unless stale or switched off.
BUILD = _source.choose(Path(__file__).parent)

from server.engine.types import (  # noqa: E402
    Analysis,
    Deadline,
    Delivery,
    Jargon,
    MailStructure,
    Promise,
    Region,
    Severity,
    Trigger,
)

if TYPE_CHECKING:
    from server.engine.engine import Engine

__all__ = [
    "Analysis", "Deadline", "Delivery", "Engine", "Jargon", "MailStructure", "Promise", "Region",
    "Severity", "Trigger",
]


def __getattr__(name: str) -> Any:
    """Load `Engine` lazily (PEP 562)."""
    if name == "Engine":
        from server.engine.engine import Engine

        return Engine
    raise AttributeError(f"module 'server.engine' has no attribute {name!r}")

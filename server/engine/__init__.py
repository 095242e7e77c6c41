"""The analysis engine: pure functions from draft text and sent time to findings (no I/O)."""

from server.engine.engine import Engine
from server.engine.types import (
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

__all__ = [
    "Analysis", "Deadline", "Delivery", "Engine", "Jargon", "MailStructure", "Promise", "Region",
    "Severity", "Trigger",
]

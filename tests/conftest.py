"""Shared fixtures: one engine per test session (building it costs about a second)."""

from __future__ import annotations

from datetime import datetime

import pytest

from server.engine import Engine

# Monday 2026-11-23 10:00, the reference time of DESIGN.md's deadline examples.
MONDAY = datetime(2026, 11, 23, 10, 0)


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine with the built-in lexicon."""
    return Engine()

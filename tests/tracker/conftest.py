"""Shared fixtures for tracker tests: a fresh store with a pinned clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.tracker.store import TrackerStore
from tests.tracker.tracker_factories import MONDAY, Clock


@pytest.fixture
def clock() -> Clock:
    """The store's clock, starting Monday 2026-11-23 10:00."""
    return Clock(MONDAY)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's tracker database lives."""
    return tmp_path / "data" / "tracker.sqlite3"


@pytest.fixture
def store(db_path: Path, clock: Clock) -> Iterator[TrackerStore]:
    """A fresh writable store with the pinned clock."""
    with TrackerStore(db_path, clock=clock) as s:
        yield s

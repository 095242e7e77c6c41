"""Fixtures for dashboard tests: a seeded tracker per test and a TestClient on the app with a pinned clock."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 and warns once when it falls back to httpx (the dev extra has httpx).
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

from server.dashboard.app import create_app
from server.dashboard.security import Tokens
from server.tracker.store import TrackerStore
from templates import make_environment
from tests.dashboard.seed import NOW, seed


@pytest.fixture(scope="session")
def env() -> jinja2.Environment:
    """The built-in templates (no team folder)."""
    return make_environment(use_config=False)


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A freshly seeded tracker and its promise ids by role."""
    path = tmp_path / "tracker.sqlite3"
    return path, seed(path)


@pytest.fixture
def ids(db: tuple[Path, dict[str, int]]) -> dict[str, int]:
    """The seeded promise ids by role."""
    return db[1]


@pytest.fixture
def store(db: tuple[Path, dict[str, int]]) -> Iterator[TrackerStore]:
    """The seeded store, writable."""
    with TrackerStore(db[0]) as s:
        yield s


def make_client(store: TrackerStore, env: jinja2.Environment, tokens: Tokens | None = None,
                allowed_hosts: list[str] | None = None) -> TestClient:
    """A TestClient over the dashboard with the clock pinned to NOW and user "testerin"."""
    app = create_app(store, user="testerin", tokens=tokens, env=env, allowed_hosts=allowed_hosts,
                     clock=lambda: NOW)
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def client(store: TrackerStore, env: jinja2.Environment) -> Iterator[TestClient]:
    """A client on the open (loopback, no token) dashboard."""
    with make_client(store, env) as c:
        yield c

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


def free_port() -> int:
    """A port free on loopback right now (the server binds it a moment later)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(db: tuple[Path, dict[str, int]], tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """`versprochen dashboard` in a subprocess on a free loopback port over the seeded tracker.

    Yields (base URL, the command line); tests add `--token` by parametrizing `served_args` if needed.
    """
    import os
    import subprocess
    import sys
    import time

    import httpx

    port = free_port()
    cmd = [sys.executable, "-m", "server.cli", "dashboard", "--port", str(port), "--db", str(db[0]),
           "--user", "browser-test", "--token", "pruefer:geheim-browser-1"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            # Wait for the server to answer, not for a fixed time.
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"dashboard did not start: {proc.stderr.read().decode()}") from None  # type: ignore[union-attr]
                time.sleep(0.05)
        yield base, cmd
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

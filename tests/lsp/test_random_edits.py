"""Hypothesis replays random edit sequences into a live server: it never errors, every range is in bounds."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from server.lsp.positions import LineIndex
from tests.lsp.conftest import CLIENTS, Published, Session, fresh_workspace, start_session

T = TypeVar("T")
PIECES = ["ä", "ß", "😀", "\n", "\r\n", " ", "x", " garantiert ", " Meeting ", "Wir liefern ", " zeitnah.",
          " bis Freitag.", "\n\n", "> ", "An: a@b.de\n", "–", "\u2028"]
START = "Hallo Frau Reuter,\n\nwir liefern garantiert bis Freitag. Das Meeting ist zeitnah. 😀\n"


class LoopThread:
    """An event loop in a thread of its own, so synchronous hypothesis tests can drive the async client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 180) -> T:
        """Run a coroutine on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        """Stop and close the loop."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module", params=CLIENTS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[LoopThread, Session]]:
    """A server and client running on a background loop for the whole module."""
    runner = LoopThread()
    stack = contextlib.AsyncExitStack()
    root: Path = fresh_workspace(tmp_path_factory, request.param)

    async def enter() -> Session:
        return await stack.enter_async_context(start_session(request.param, root))

    session = runner.run(enter())
    try:
        yield runner, session
    finally:
        runner.run(stack.aclose())
        runner.stop()


position = st.tuples(st.integers(0, 8), st.integers(0, 90))
edit = st.tuples(position, position, st.lists(st.sampled_from(PIECES), max_size=4).map("".join))
batches = st.lists(st.lists(edit, min_size=1, max_size=3), min_size=1, max_size=6)


def check_in_bounds(text: str, published: Published) -> None:
    """Every diagnostic range lies inside `text` (UTF-16 units) and is not reversed."""
    index = LineIndex(text)
    for d in published.diagnostics:
        for pos in (d.range.start, d.range.end):
            assert 0 <= pos.line < index.line_count, (d, text)
            assert pos.character <= len(index.line_text(pos.line).encode("utf-16-le")) // 2, (d, text)
        assert (d.range.start.line, d.range.start.character) <= (d.range.end.line, d.range.end.character)


async def replay(session: Session, uri: str, steps: list[list[tuple[Any, Any, str]]]) -> None:
    """Open, send each batch as one didChange, wait for the last version, check every publish, close."""
    texts = {1: START}
    mark = len(session.recorder.events)
    await session.open(uri, START)
    for batch in steps:
        version = session.change(uri, batch)
        texts[version] = session.texts[uri]
    await session.wait_for(uri, max(texts))
    for event in session.recorder.events[mark:]:
        if event.uri == uri:
            assert event.version in texts
            check_in_bounds(texts[event.version], event)
    errors = [m.message for m in session.client.messages if m.type == types.MessageType.Error]
    errors += [m.message for m in session.client.log_messages if m.type == types.MessageType.Error]
    assert not errors, errors
    assert session.client.error is None
    session.close(uri)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(steps=batches)
def test_random_edit_sequences(live: tuple[LoopThread, Session], steps: list[list[tuple[Any, Any, str]]]) -> None:
    """Random incremental edits (also out of range, with CRLF, emoji, U+2028) never break the server."""
    runner, session = live
    runner.run(replay(session, session.uri("zufall.txt"), steps))

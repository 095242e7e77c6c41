"""The early engine's pipe protocol in one process: answers, other rules, silence, a child that will not exit."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server.lsp import early
from server.lsp.analysis import Job
from server.lsp.convert import Options
from server.lsp.early import EarlyEngine, Reply, read_frame, write_frame

KEY = ((), ("Anglicisms",))
JOB = Job(uri="file:///a.txt", version=3, text="Wir liefern garantiert bis Freitag.", kind="text",
          encoding="utf-16", options=Options(), max_chars=1000)


@pytest.fixture
def sleeper() -> Iterator[int]:
    """A real process that ignores its pipes (stands in for the child's pid); killed if a test left it."""
    pid = os.posix_spawn("/bin/sleep", ["sleep", "30"], dict(os.environ))
    yield pid
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def engine_with(child: Callable[[int, int], None], pid: int) -> tuple[EarlyEngine, threading.Thread]:
    """An EarlyEngine whose other pipe ends are served by `child` on a thread."""
    requests_r, requests_w = os.pipe()
    replies_r, replies_w = os.pipe()
    os.set_blocking(requests_w, False)

    def run() -> None:
        try:
            child(requests_r, replies_w)
        finally:
            os.close(requests_r)
            os.close(replies_w)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return EarlyEngine(pid, requests_w, replies_r), thread


def test_a_ready_child_answers_with_the_payload(sleeper: int) -> None:
    """Hello with the key, then one reply per request; the request carries no rule objects or callables."""
    seen: list[tuple[object, ...]] = []

    def child(requests: int, replies: int) -> None:
        write_frame(replies, ("ready", KEY))
        while (message := read_frame(requests)) is not None:
            seen.append(message)
            write_frame(replies, Reply(message[1], '{"diagnostics": []}', 0))

    engine, thread = engine_with(child, sleeper)
    assert engine.wait_ready()
    assert engine.analyse(JOB, KEY, Path("/tmp/tracker.db")) == Reply(3, '{"diagnostics": []}', 0)
    assert seen[0][:3] == ("file:///a.txt", 3, JOB.text)
    assert seen[0][5].rules == {} and seen[0][-1] == Path("/tmp/tracker.db")
    os.kill(sleeper, 9)  # the stand-in exits, as the child does at EOF
    engine.stop()
    thread.join(5)
    assert not thread.is_alive() and not Path(f"/proc/{sleeper}").exists()
    assert engine.answered == 1 and engine.peak_rss_kb is not None


def test_other_rules_are_not_asked_but_the_child_stays_usable(sleeper: int) -> None:
    """A job for other rules gets None without a request; the next one with the child's key is answered."""
    requests_seen = []

    def child(requests: int, replies: int) -> None:
        write_frame(replies, ("ready", KEY))
        while (message := read_frame(requests)) is not None:
            requests_seen.append(message[1])
            write_frame(replies, Reply(message[1], "{}", 0))

    engine, _ = engine_with(child, sleeper)
    assert engine.analyse(JOB, ((Path("/regeln"),), ()), None) is None
    assert engine.usable and requests_seen == []
    assert engine.analyse(JOB, KEY, None) == Reply(3, "{}", 0)
    os.kill(sleeper, 9)
    engine.stop()


def test_a_silent_child_times_out_and_a_lingering_one_is_killed(sleeper: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """No answer: the request gives up at its deadline; stop kills a child that does not exit and reaps it."""
    monkeypatch.setattr(early, "REQUEST_TIMEOUT", 0.3)
    monkeypatch.setattr(early, "READY_WAIT", 0.2)
    monkeypatch.setattr(early, "EXIT_TIMEOUT", 0.2)
    release = threading.Event()

    def child(requests: int, replies: int) -> None:
        release.wait(10)

    engine, thread = engine_with(child, sleeper)
    assert not engine.wait_ready()
    assert engine.usable  # not ready yet is no failure
    started = time.monotonic()
    assert engine.analyse(JOB, KEY, None) is None
    assert time.monotonic() - started < 2
    assert not engine.usable
    engine.stop()  # the stand-in ignores EOF: killed after EXIT_TIMEOUT
    assert not Path(f"/proc/{sleeper}").exists()
    release.set()
    thread.join(5)


def test_a_dead_child_is_noticed_at_once(sleeper: int) -> None:
    """EOF on the reply pipe: no engine, nothing waits for a timeout."""
    engine, thread = engine_with(lambda requests, replies: None, sleeper)
    thread.join(5)
    started = time.monotonic()
    assert not engine.wait_ready()
    assert engine.analyse(JOB, KEY, None) is None
    assert time.monotonic() - started < 1 and not engine.usable
    os.kill(sleeper, 9)
    engine.stop()
    engine.stop()  # idempotent

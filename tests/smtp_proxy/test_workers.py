"""Worker processes record exactly the mails the upstream accepted; reminder cycles run in both modes."""

from __future__ import annotations

import asyncio
import functools
import os
import queue
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from server.engine.types import Analysis
from smtp_proxy.extract import Extraction
from smtp_proxy.pool import ExtractionPool, QueueLimits
from smtp_proxy.reminders import reminder_cycle
from smtp_proxy.worker_process import WorkerState
from tests.smtp_proxy.helpers import mail, send, split_header, tracker_rows
from tests.smtp_proxy.support import (
    CaptureHandler,
    FakeAnalyzer,
    ProxyFactory,
    SlowAnalyzer,
    UpstreamController,
)

pytestmark = pytest.mark.slow


def wait_for(condition: Callable[[], bool], limit: float = 30) -> None:
    """Poll until the condition holds (the worker records in the background)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("Bedingung nicht erfüllt")
        time.sleep(0.05)


def mail_ids(db: Path) -> set[str]:
    return {r["message_id"] for r in tracker_rows(db, "mails")} if db.exists() else set()


def test_worker_records_accepted_mail_only(make_proxy: ProxyFactory, upstream: UpstreamController,
                                           tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    proxy = make_proxy(upstream.port, analyzer=FakeAnalyzer, db=db, workers=1)
    handler: CaptureHandler = upstream.handler
    handler.mode = "5xx"
    assert send(proxy.port, mail(message_id="<refused@firma.example>"))[0] == 554
    handler.mode = "4xx"
    assert send(proxy.port, mail(message_id="<deferred@firma.example>"))[0] == 450
    handler.mode = "ok"
    assert send(proxy.port, mail(message_id="<accepted@firma.example>"))[0] == 250
    header = handler.messages[0].data.split(b"\r\n", 1)[0]
    assert header == b"X-Versprochen: 1 Zusage; naechste Frist 2026-11-27"
    wait_for(lambda: "<accepted@firma.example>" in mail_ids(db))
    assert mail_ids(db) == {"<accepted@firma.example>"}
    assert [r["quote"] for r in tracker_rows(db)] == ["ZUSAGE bis 2026-11-27"]


@pytest.mark.parametrize("workers", [0, 1])
def test_the_reminder_cycle_runs_through_the_upstream(
        make_proxy: ProxyFactory, upstream: UpstreamController, tmp_path: Path, workers: int) -> None:
    db = tmp_path / "t.sqlite3"
    # The promise is due 2030-01-10; a cycle "at" 2030-01-09 12:00 with 24 h lead must remind once.
    cycle = functools.partial(reminder_cycle, host="127.0.0.1", port=upstream.port, timeout=10.0,
                              lead=24 * 3600.0, from_address="versprochen@firma.example", templates=None,
                              now=datetime(2030, 1, 9, 12, 0))
    proxy = make_proxy(upstream.port, analyzer=FakeAnalyzer, db=db, workers=workers, reminder=cycle,
                       remind_every=0.2)
    assert send(proxy.port, mail("Ich liefere ZUSAGE bis 2030-01-10.\r\n", "<remind@firma.example>"))[0] == 250
    handler: CaptureHandler = upstream.handler
    wait_for(lambda: len(handler.messages) >= 2)
    reminder = handler.messages[1]
    assert reminder.rcpt_tos == ["anna@firma.example"]
    assert reminder.mail_from == "versprochen@firma.example"
    assert not reminder.data.startswith(b"X-Versprochen:")  # straight upstream, not through the proxy
    assert b"X-Versprochen-Reminder: 1; lead; 2030-01-10" in reminder.data
    time.sleep(0.6)  # a few more cycles: the tracker never sends the same reminder twice
    assert len(handler.messages) == 2


def test_slow_analyses_are_relayed_pending_and_recorded_once_accepted(
        make_proxy: ProxyFactory, upstream: UpstreamController, tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    proxy = make_proxy(upstream.port, analyzer=SlowAnalyzer, db=db, workers=1, tag_wait=0.1)
    handler: CaptureHandler = upstream.handler
    originals = [mail("LANGSAM ZUSAGE bis 2026-11-27\r\n", f"<slow{n}@firma.example>") for n in range(2)]
    # The first analysis runs for a second: it is running when its mail's verdict comes. The second
    # waits behind it, so its verdict is known before it reaches the worker.
    assert [send(proxy.port, raw)[0] for raw in originals] == [250, 250]
    for received, raw in zip(handler.messages, originals, strict=True):
        assert split_header(received.data) == (b"X-Versprochen: pending\r\n", raw)
    assert proxy.call(proxy.server.pool.sync(30)) is True
    assert mail_ids(db) == {"<slow0@firma.example>", "<slow1@firma.example>"}
    assert proxy.server.handler.stats["pending"] == 2


def test_a_pending_analysis_of_refused_mail_records_nothing(
        make_proxy: ProxyFactory, upstream: UpstreamController, tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    proxy = make_proxy(upstream.port, analyzer=SlowAnalyzer, db=db, workers=1, tag_wait=0.1)
    handler: CaptureHandler = upstream.handler
    handler.mode = "4xx"
    assert send(proxy.port, mail("LANGSAM ZUSAGE\r\n", "<deferred@firma.example>"))[0] == 450
    assert send(proxy.port, mail("LANGSAM ZUSAGE\r\n", "<deferred2@firma.example>"))[0] == 450
    handler.mode = "ok"
    assert send(proxy.port, mail("ZUSAGE\r\n", "<accepted@firma.example>"))[0] == 250
    assert proxy.call(proxy.server.pool.sync(30)) is True
    assert mail_ids(db) == {"<accepted@firma.example>"}


async def test_a_full_queue_holds_the_next_mail_until_there_is_room() -> None:
    pool = ExtractionPool(SlowAnalyzer, workers=1, budget=5.0, tag_wait=0.05,
                          limits=QueueLimits(max_jobs=1))
    await pool.start()
    try:
        first = await pool.extract(mail("LANGSAM ZUSAGE\r\n"), "a@b", ["c@d"])
        assert first.header == "pending" and first.ticket is not None
        processes = pool._processes
        assert processes is not None and processes.full(0)
        waiting = asyncio.create_task(pool.extract(mail("ZUSAGE\r\n"), "a@b", ["c@d"]))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # backpressure: no room before the slow analysis is done
        second = await waiting
        assert second.header in ("1 Zusage", "pending")
        assert first.ticket not in processes.unfinished  # the first had finished before room was made
        pool.settle(first.ticket, True)
        if second.ticket is not None:
            pool.settle(second.ticket, False)
        assert await pool.sync(10) is True
    finally:
        await pool.close()


async def test_a_queued_job_whose_mail_was_refused_is_never_analysed() -> None:
    pool = ExtractionPool(SlowAnalyzer, workers=1, budget=5.0, tag_wait=0.05)
    await pool.start()
    try:
        running = await pool.extract(mail("LANGSAM ZUSAGE\r\n"), "a@b", ["c@d"])
        queued = await pool.extract(mail("ZUSAGE\r\n"), "a@b", ["c@d"])
        processes = pool._processes
        assert processes is not None and running.ticket is not None and queued.ticket is not None
        job = processes.unfinished[queued.ticket]
        assert job.sent_at is None  # still queued behind the slow one
        pool.settle(queued.ticket, False)
        assert job.future.result().header == "error=refused"
        assert queued.ticket not in processes.unfinished
        pool.settle(running.ticket, True)
        assert await pool.sync(10) is True
        assert not processes._owners  # every finished job was settled: nothing is kept
    finally:
        await pool.close()


async def test_worker_processes_run_at_a_lower_priority() -> None:
    pool = ExtractionPool(FakeAnalyzer, workers=1, budget=1.0, limits=QueueLimits(nice=7))
    await pool.start()
    try:
        processes = pool._processes
        assert processes is not None
        pid = processes.workers[0].process.pid
        assert pid is not None
        assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0) + 7
    finally:
        await pool.close()


class Burner(FakeAnalyzer):
    """Spends CPU (not wall time) on 'RECHNEN'."""

    def analyze(self, text: str, sent: datetime | None = None) -> Analysis:
        """Busy-loop for 0.2 s of CPU on 'RECHNEN', then behave like FakeAnalyzer."""
        if "RECHNEN" in text:
            start = time.thread_time()
            while time.thread_time() - start < 0.2:
                pass
        return super().analyze(text, sent)


class ListTracker:
    """Stands in for the worker's tracker thread: collects what would be recorded."""

    def __init__(self) -> None:
        self.jobs: queue.Queue[Any] = queue.Queue()
        self.recorded = self.failures = 0


@pytest.mark.parametrize(("body", "verdict", "header", "recorded"), [
    ("ZUSAGE", True, "1 Zusage", 1),          # accepted before the analysis: recorded at once
    ("ZUSAGE", False, "1 Zusage", 0),         # refused before the analysis: nothing
    ("ZUSAGE", None, "1 Zusage", 0),          # no verdict yet: kept until settled
    ("RECHNEN ZUSAGE", True, "error=timeout", 0),  # over the CPU budget: nothing, even if accepted
])
def test_the_worker_records_by_verdict_and_cpu_budget(body: str, verdict: bool | None, header: str,
                                                      recorded: int) -> None:
    tracker = ListTracker()
    state = WorkerState(Burner(), tracker, budget=0.1)  # type: ignore[arg-type]
    job_id, result, *_ = state.job(7, mail(body + "\r\n"), "a@b", ("c@d",), verdict)
    assert (job_id, result.header, tracker.jobs.qsize()) == (7, header, recorded)
    assert list(state.pending) == ([7] if verdict is None and recorded == 0 and header != "error=timeout"
                                   else [])


class FlakyStore:
    """A tracker store that is busy (locked) for the first `busy` attempts."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.attempts = 0

    def record_mail(self, mail: Any, analysis: Any) -> list[int]:
        """Raise TrackerUnavailable while busy, then record nothing new."""
        from server.tracker.models import TrackerUnavailable

        self.attempts += 1
        if self.attempts <= self.busy:
            raise TrackerUnavailable("database is locked")
        return []

    def close(self) -> None:
        """Nothing to close."""


@pytest.mark.parametrize(("busy", "recorded", "attempts"), [(0, True, 1), (2, True, 3), (9, False, 4)])
def test_a_busy_tracker_is_retried_before_a_recording_is_given_up(busy: int, recorded: bool,
                                                                  attempts: int) -> None:
    from smtp_proxy.extract import analyze_message
    from smtp_proxy.recorder import record_one

    result = analyze_message(mail(), FakeAnalyzer(), "a@b", ("c@d",))
    assert result.facts is not None and result.analysis is not None
    store = FlakyStore(busy)
    assert record_one(store, result.facts, result.analysis, pauses=(0.0, 0.0, 0.0)) is recorded
    assert store.attempts == attempts


async def _slow_then_queued(*, tag_wait: float, budget: float) -> tuple[Extraction, Extraction, float]:
    """A slow mail an idle worker takes, then a mail queued behind it: both extractions and how long the
    second took to come back."""
    pool = ExtractionPool(SlowAnalyzer, workers=1, budget=budget, tag_wait=tag_wait)
    await pool.start()
    try:
        first_task = asyncio.create_task(pool.extract(mail("LANGSAM ZUSAGE\r\n"), "a@b", ["c@d"]))
        await asyncio.sleep(0.3)  # the worker is busy with it now
        started = time.monotonic()
        second = await pool.extract(mail("ZUSAGE\r\n"), "a@b", ["c@d"])
        took = time.monotonic() - started
        first = await first_task
        for extraction in (first, second):
            if extraction.ticket is not None:
                pool.settle(extraction.ticket, False)
        assert await pool.sync(10) is True
        return first, second, took
    finally:
        await pool.close()


async def test_only_a_mail_a_worker_takes_at_once_waits_for_its_tag() -> None:
    # A long tag_wait: the first mail waits for its one-second analysis; the second queues behind it and
    # is relayed at once as pending, so load never slows the relay.
    first, second, took = await _slow_then_queued(tag_wait=3.0, budget=5.0)
    assert first.header == "1 Zusage"  # it waited for the result
    assert second.header == "pending"
    assert took < 0.5  # relayed at once, not after tag_wait


async def test_tag_wait_equal_to_the_budget_makes_every_mail_wait() -> None:
    # The operator's way to have every mail tagged: even a mail queued behind a busy worker waits.
    first, second, took = await _slow_then_queued(tag_wait=3.0, budget=3.0)
    assert (first.header, second.header) == ("1 Zusage", "1 Zusage")
    assert took > 0.4  # it waited behind the slow analysis

"""The child side of an analysis worker: it analyses messages and records the accepted ones.

The analysis never leaves the child: the proxy gets back the header line and the facts, and later
says per message whether the upstream accepted it ("settle"). Accepted analyses go to a tracker
thread inside the child, which owns the write connection. This keeps all engine and tracker CPU
(kept detection costs milliseconds per mail) off the proxy's core and spares pickling the findings.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from server.tracker.models import SentMail
from smtp_proxy.extract import Analyzer, analyze_message, failed
from smtp_proxy.recorder import Store, StoreFactory, record_one

if TYPE_CHECKING:
    from server.engine.types import Analysis

log = logging.getLogger(__name__)

READY = "ready"
# Analyses waiting for the upstream's verdict; the proxy settles each within seconds, this only
# bounds memory should a settlement never come (a cancelled session).
MAX_PENDING = 10_000
CLOSE_WAIT = 30.0

Settlements = Sequence[tuple[int, bool]]


class TrackerThread:
    """Records accepted mails and runs tracker jobs (reminder cycles) in order, on one thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.jobs: queue.Queue[Any] = queue.Queue()
        self.recorded = 0
        self.failures = 0
        self.thread = threading.Thread(target=self._loop, name="versprochen-tracker", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            item = self.jobs.get()
            try:
                if item is None:
                    return
                self._do(item)
            finally:
                self.jobs.task_done()  # `sync` waits on join()

    def _do(self, item: Any) -> None:
        if callable(item):
            try:
                item(self.store)
            except Exception:
                log.exception("Tracker-Auftrag fehlgeschlagen")
        elif record_one(self.store, *item):
            self.recorded += 1
        else:
            self.failures += 1

    def stop(self) -> None:
        """Finish the queue (bounded), then close the store."""
        self.jobs.put(None)
        self.thread.join(CLOSE_WAIT)
        if self.thread.is_alive():
            log.error("Tracker-Rückstand von etwa %d Einträgen nicht mehr erfasst", self.jobs.qsize())
            return
        self.store.close()


class WorkerState:
    """Everything a worker child holds between messages."""

    def __init__(self, analyzer: Analyzer, tracker: TrackerThread | None, budget: float = 2.0) -> None:
        self.analyzer = analyzer
        self.tracker = tracker
        self.budget = budget
        self.pending: OrderedDict[int, tuple[SentMail, Analysis]] = OrderedDict()

    def settle(self, settlements: Settlements) -> None:
        """Record the accepted, forget the refused."""
        for job_id, accepted in settlements:
            entry = self.pending.pop(job_id, None)
            if entry is not None and accepted and self.tracker is not None:
                self.tracker.jobs.put(entry)

    def job(self, job_id: int, raw: bytes, envelope_from: str, envelope_to: tuple[str, ...],
            verdict: bool | None = None) -> Any:
        """Analyse one message; the reply carries no findings, only header and facts.

        `verdict` is the upstream's, when it came before the analysis: accepted mail is recorded at once.
        """
        # CPU time, not wall time: a niced worker may wait for the CPU while the relay is busy.
        started = time.thread_time()
        result = analyze_message(raw, self.analyzer, envelope_from, envelope_to)
        if result.analysis is not None and time.thread_time() - started > self.budget:
            log.warning("Analyse über dem Zeitbudget (%.1f s): nichts erfasst", self.budget)
            result = failed("timeout")
        if result.analysis is not None and result.facts is not None and self.tracker is not None:
            if verdict is None:
                self.pending[job_id] = (result.facts, result.analysis)
            elif verdict:
                self.tracker.jobs.put((result.facts, result.analysis))
            if len(self.pending) > MAX_PENDING:
                dropped, _ = self.pending.popitem(last=False)
                log.warning("Analyse %d ohne Rückmeldung verworfen", dropped)
        counts = self.counts()
        return (job_id, replace(result, analysis=None), *counts)

    def counts(self) -> tuple[int, int]:
        """(recorded, failed) tracker writes so far."""
        return (self.tracker.recorded, self.tracker.failures) if self.tracker else (0, 0)

    def sync(self) -> tuple[str, int, int]:
        """Wait until the tracker thread wrote everything handed to it; the reply with the counts."""
        if self.tracker is not None:
            self.tracker.jobs.join()
        return ("synced", *self.counts())


def worker_main(conn: Connection, factory: Callable[[], Analyzer], store_factory: StoreFactory | None,
                log_level: int, budget: float = 2.0, nice: int = 0) -> None:
    """The worker process: build engine and store, report, then serve until told to close."""
    # The parent decides when to stop; Ctrl+C in a terminal must not kill workers mid-job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:
        # First, so the tracker thread inherits it (Linux nices threads one by one).
        with contextlib.suppress(OSError):
            os.nice(nice)
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s[worker]: %(message)s")
    try:
        analyzer = factory()
        tracker = TrackerThread(store_factory()) if store_factory is not None else None
    except Exception as exc:
        conn.send((READY, f"{type(exc).__name__}: {exc}"))
        return
    conn.send((READY, None))
    state = WorkerState(analyzer, tracker, budget)
    serve(conn, state)
    if tracker is not None:
        tracker.stop()
        with contextlib.suppress(OSError):
            conn.send(("bye", tracker.recorded, tracker.failures))


def serve(conn: Connection, state: WorkerState) -> None:
    """Answer the parent's messages until it closes the pipe or says close."""
    while True:
        try:
            kind, *args = conn.recv()
        except (EOFError, OSError):
            return
        if kind == "job":
            job_id, raw, envelope_from, envelope_to, settlements, verdict = args
            state.settle(settlements)
            conn.send(state.job(job_id, raw, envelope_from, envelope_to, verdict))
        elif kind == "settle":
            state.settle(args[0])
        elif kind == "sync":
            conn.send(state.sync())
        elif kind == "run" and state.tracker is not None:
            state.tracker.jobs.put(args[0])
        elif kind == "close":
            return

"""Analysis worker processes driven straight from the event loop (no helper threads in the proxy).

Each worker is a spawned process that builds its engine once and then answers one job at a time over
a pipe. The proxy keeps the queue itself and hands a worker its next job only when it is idle, so a
write never blocks on a full pipe, a hung job is known exactly, and a hung or dead worker is killed
and replaced while mail keeps flowing (tagged `error=timeout`/`unavailable` meanwhile).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from smtp_proxy.extract import Analyzer, Extraction, analyze_message, failed

log = logging.getLogger(__name__)

AnalyzerFactory = Callable[[], Analyzer]
READY = "ready"
# Pause before replacing a worker that died again soon after starting (no respawn storm).
RESPAWN_DELAYS = (0.0, 1.0, 5.0, 30.0)


def worker_main(conn: Connection, factory: AnalyzerFactory) -> None:
    """The worker process: build the engine, report, then answer jobs until the pipe closes."""
    # The parent decides when to stop; Ctrl+C in a terminal must not kill workers mid-job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        analyzer = factory()
    except Exception as exc:
        conn.send((READY, f"{type(exc).__name__}: {exc}"))
        return
    conn.send((READY, None))
    while True:
        try:
            job_id, raw, envelope_from, envelope_to = conn.recv()
        except (EOFError, OSError):
            return
        conn.send((job_id, analyze_message(raw, analyzer, envelope_from, envelope_to)))


@dataclass(eq=False)
class Job:
    """One message waiting for, or being analysed by, a worker."""

    id: int
    args: tuple[bytes, str, tuple[str, ...]]
    future: asyncio.Future[Extraction]
    sent_at: float | None = None


@dataclass(eq=False)
class Worker:
    """One worker process and the job it is working on."""

    process: BaseProcess
    conn: Connection
    ready: bool = False
    error: str | None = None
    job: Job | None = None
    started: float = field(default_factory=time.monotonic)


class WorkerPool:
    """A queue of jobs served by `size` worker processes; see the module docstring."""

    def __init__(self, factory: AnalyzerFactory, size: int, hang_limit: float) -> None:
        self.factory = factory
        self.size = size
        self.hang_limit = hang_limit
        self.queue: deque[Job] = deque()
        self.workers: list[Worker] = []
        self.restarts = 0
        self._ids = itertools.count()
        self._recent_deaths = 0
        self._closing = False
        self._running = False  # set once every worker came up; before that a failure is fatal
        self.start_error: str | None = None
        self._context = multiprocessing.get_context("spawn")  # clean interpreter, nothing inherited

    async def start(self, limit: float = 180.0) -> str | None:
        """Start all workers and wait until each built its engine; the first error text, else None."""
        for _ in range(self.size):
            self._spawn()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.start_error:
                return self.start_error
            if self.workers and all(w.ready for w in self.workers):
                self._running = True
                return None
            await asyncio.sleep(0.05)
        return "Analyseprozess startet nicht (Zeitlimit)"

    def _spawn(self) -> Worker:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(target=worker_main, args=(child, self.factory), daemon=True,
                                        name="versprochen-analyse")
        process.start()
        child.close()
        worker = Worker(process, parent)
        self.workers.append(worker)
        asyncio.get_running_loop().add_reader(parent.fileno(), self._readable, worker)
        return worker

    def submit(self, args: tuple[bytes, str, tuple[str, ...]]) -> Job:
        """Queue a job; its future gets the extraction."""
        job = Job(next(self._ids), args, asyncio.get_running_loop().create_future())
        self.queue.append(job)
        self._dispatch()
        return job

    def _dispatch(self) -> None:
        for worker in self.workers:
            while worker.ready and worker.job is None and self.queue:
                job = self.queue.popleft()
                if job.future.done():
                    continue  # its caller gave up while it waited
                try:
                    worker.conn.send((job.id, *job.args))
                except (OSError, ValueError):
                    self.queue.appendleft(job)
                    self._lost(worker)
                    return
                worker.job, job.sent_at = job, time.monotonic()

    def _readable(self, worker: Worker) -> None:
        try:
            tag, payload = worker.conn.recv()
        except (EOFError, OSError):
            self._lost(worker)
            return
        if tag == READY:
            worker.ready, worker.error = payload is None, payload
            if payload:
                log.error("Analyseprozess startet nicht: %s", payload)
                self.start_error = self.start_error or payload
        else:
            job, worker.job = worker.job, None
            if job is not None and job.id == tag and not job.future.done():
                job.future.set_result(payload)
            if time.monotonic() - worker.started > 60:
                self._recent_deaths = 0
        self._dispatch()

    def check_hung(self) -> None:
        """Replace workers whose current job runs longer than the hang limit."""
        now = time.monotonic()
        for worker in list(self.workers):
            job = worker.job
            if job is not None and job.sent_at is not None and now - job.sent_at > self.hang_limit:
                log.error("Analyse hängt seit über %.0f s, Analyseprozess wird ersetzt", self.hang_limit)
                self._lost(worker)

    def _lost(self, worker: Worker) -> None:
        """Kill a dead or hung worker, fail its job as `unavailable`, and start a replacement."""
        if worker not in self.workers:
            return
        self.workers.remove(worker)
        asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        worker.conn.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(1)
        if worker.job is not None and not worker.job.future.done():
            worker.job.future.set_result(failed("unavailable"))
        if not self._running:
            code = worker.process.exitcode
            self.start_error = self.start_error or f"Analyseprozess beim Start beendet (Exit-Code {code})"
            return
        if self._closing:
            return
        self.restarts += 1
        delay = RESPAWN_DELAYS[min(self._recent_deaths, len(RESPAWN_DELAYS) - 1)]
        self._recent_deaths += 1
        log.warning("Analyseprozess ersetzt (%d. Mal, in %.0f s)", self.restarts, delay)
        asyncio.get_running_loop().call_later(delay, self._respawn)

    def _respawn(self) -> None:
        if not self._closing and len(self.workers) < self.size:
            self._spawn()

    async def close(self) -> None:
        """Stop every worker: close its pipe (it exits), kill it if it does not."""
        self._closing = True
        loop = asyncio.get_running_loop()
        for worker in self.workers:
            loop.remove_reader(worker.conn.fileno())
            worker.conn.close()
        for worker in self.workers:
            await asyncio.to_thread(worker.process.join, 5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1)
        self.workers.clear()
        for job in self.queue:
            if not job.future.done():
                job.future.set_result(failed("unavailable"))
        self.queue.clear()


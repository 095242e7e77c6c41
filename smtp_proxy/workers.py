"""Analysis worker processes driven straight from the event loop (no helper threads in the proxy).

Each worker is a spawned process (see `worker_process`) that builds its engine once and answers one
job at a time over a pipe. The proxy keeps the queue itself and writes to a worker only while it is
idle, so a write never blocks on a full pipe, a hung job is known exactly, and a hung or dead worker
is killed and replaced while mail keeps flowing (tagged `error=unavailable` meanwhile).

Mail no longer waits for its analysis (see `pool`): a job may still be queued or running when the
upstream's verdict for its mail arrives. The verdict then travels with the job, or follows its
result, and the worker records the promises of accepted mail whenever its analysis is done. The
queue is bounded by jobs and bytes; a full queue makes `submit` wait (backpressure on the mail).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from smtp_proxy.extract import Analyzer, Extraction, failed
from smtp_proxy.recorder import Store, StoreFactory
from smtp_proxy.worker_process import READY, worker_main

log = logging.getLogger(__name__)

AnalyzerFactory = Callable[[], Analyzer]
# Pause before replacing a worker that died again soon after starting (no respawn storm).
RESPAWN_DELAYS = (0.0, 1.0, 5.0, 30.0)
# How often running jobs are checked against the hang limit.
WATCH_INTERVAL = 0.5
# First guess of a job's wall time (seconds), replaced by a moving average of measured ones.
INITIAL_SERVICE = 0.03


@dataclass(eq=False)
class Job:
    """One message waiting for, or being analysed by, a worker."""

    id: int
    args: tuple[bytes, str, tuple[str, ...]]
    future: asyncio.Future[Extraction]
    size: int = 0
    sent_at: float | None = None
    # The upstream's verdict on the mail, once known; sent with the job when it is known before dispatch.
    verdict: bool | None = None
    verdict_sent: bool = False


@dataclass(eq=False)
class Worker:
    """One worker process, its current job and what it still has to be told."""

    process: BaseProcess
    conn: Connection
    ready: bool = False
    job: Job | None = None
    settlements: list[tuple[int, bool]] = field(default_factory=list)
    # Control messages ("run", job) and ("sync",), sent in order while the worker is idle.
    control: list[tuple[Any, ...]] = field(default_factory=list)
    sync_waiters: list[asyncio.Future[None]] = field(default_factory=list)
    counts: tuple[int, int] = (0, 0)
    started: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class QueueLimits:
    """Bounds of the analysis queue and how worker processes run."""

    max_jobs: int = 5000
    max_bytes: int = 64 * 1024 * 1024
    # CPU seconds one analysis may use in its worker; past it nothing is recorded for the mail.
    budget: float = 2.0
    # Added to the workers' nice value: the relay keeps its core when analysis and relay compete.
    nice: int = 10


class WorkerPool:
    """A queue of jobs served by `size` worker processes; see the module docstring."""

    def __init__(self, factory: AnalyzerFactory, size: int, hang_limit: float,
                 store_factory: StoreFactory | None = None, *, limits: QueueLimits | None = None) -> None:
        self.factory = factory
        self.store_factory = store_factory
        self.size = size
        self.hang_limit = hang_limit
        self.limits = limits or QueueLimits()
        self.queue: deque[Job] = deque()
        # Jobs queued or running, and the bytes they hold: what the queue limits count.
        self.unfinished: dict[int, Job] = {}
        self.unfinished_bytes = 0
        self.service = INITIAL_SERVICE
        self._space = asyncio.Event()
        self._space.set()
        self._watch: asyncio.Task[None] | None = None
        self.workers: list[Worker] = []
        self.restarts = 0
        self.start_error: str | None = None
        self._owners: dict[int, Worker] = {}
        self._ids = itertools.count()
        self._recent_deaths = 0
        self._running = False  # set once every worker came up; before that a failure is fatal
        self._closing = False
        self._context = multiprocessing.get_context("spawn")  # clean interpreter, nothing inherited
        self._lost_counts = (0, 0)

    @property
    def recorded(self) -> tuple[int, int]:
        """(recorded, failed) tracker writes reported by the workers so far."""
        live = [w.counts for w in self.workers]
        return (self._lost_counts[0] + sum(c[0] for c in live), self._lost_counts[1] + sum(c[1] for c in live))

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
                self._watch = asyncio.create_task(self._watch_hung())
                return None
            await asyncio.sleep(0.05)
        return "Analyseprozess startet nicht (Zeitlimit)"

    def _spawn(self) -> None:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=worker_main, args=(child, self.factory, self.store_factory, logging.getLogger().level,
                                      self.limits.budget, self.limits.nice),
            daemon=True, name="versprochen-analyse")
        process.start()
        child.close()
        worker = Worker(process, parent)
        self.workers.append(worker)
        asyncio.get_running_loop().add_reader(parent.fileno(), self._readable, worker)

    def full(self, size: int) -> bool:
        """Whether a job of `size` bytes must wait (one job larger than the byte limit fits an empty queue)."""
        if len(self.unfinished) >= self.limits.max_jobs:
            return True
        return bool(self.unfinished) and self.unfinished_bytes + size > self.limits.max_bytes

    async def submit(self, args: tuple[bytes, str, tuple[str, ...]], wait_limit: float) -> Job | None:
        """Queue a job, waiting up to `wait_limit` s for room (backpressure); None when none came."""
        size = len(args[0])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_limit
        while self.full(size):
            self._space.clear()
            try:
                await asyncio.wait_for(self._space.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return None
        job = Job(next(self._ids), args, loop.create_future(), size)
        self.unfinished[job.id] = job
        self.unfinished_bytes += size
        self.queue.append(job)
        self._dispatch()
        return job

    def expected_wait(self, job: Job) -> float:
        """A guess of the seconds until `job` is done, from the queue ahead of it and recent job times."""
        if job.future.done():
            return 0.0
        if job.sent_at is not None:
            return self.service
        return self.service * (1 + len(self.queue) / max(1, len(self.workers)))

    def _finish(self, job: Job) -> None:
        """The job left the queue limits (done, failed or dropped); wake a submitter waiting for room."""
        if self.unfinished.pop(job.id, None) is not None:
            self.unfinished_bytes -= job.size
            if not self.full(0):
                self._space.set()

    def settle(self, ticket: int, accepted: bool) -> None:
        """Tell the worker that analysed (or will analyse) a message whether the upstream accepted it."""
        job = self.unfinished.get(ticket)
        if job is not None:
            if job.sent_at is None and not accepted:
                # Still queued and refused: analysing it would record nothing, so it is skipped.
                if not job.future.done():
                    job.future.set_result(failed("refused"))
                self._finish(job)
            else:
                job.verdict = accepted  # goes with the job, or after its result
            return
        worker = self._owners.pop(ticket, None)
        if worker is not None and worker in self.workers:
            worker.settlements.append((ticket, accepted))
            self._flush(worker)

    def run_in_tracker(self, job: Callable[[Store], Any]) -> bool:
        """Queue a picklable `job(store)` on the first worker's tracker thread; False without one."""
        if not self.workers or self.store_factory is None:
            return False
        self.workers[0].control.append(("run", job))
        self._flush(self.workers[0])
        return True

    async def sync(self, limit: float) -> bool:
        """Wait until every queued analysis is done and each worker's tracker wrote what it was given.

        False when `limit` seconds were not enough.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while self.unfinished and loop.time() < deadline:
            await asyncio.sleep(0.02)
        waiters = []
        for worker in list(self.workers):
            waiter = loop.create_future()
            worker.sync_waiters.append(waiter)
            worker.control.append(("sync",))
            self._flush(worker)
            waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.gather(*waiters), max(0.0, deadline - loop.time()))
        except TimeoutError:
            return False
        return not self.unfinished

    def _send(self, worker: Worker, message: tuple[Any, ...]) -> bool:
        try:
            worker.conn.send(message)
        except (OSError, ValueError):
            self._lost(worker)
            return False
        return True

    def _flush(self, worker: Worker) -> None:
        """Control messages go out only while the worker is idle (it is reading, nothing can block)."""
        if not worker.ready or worker.job is not None:
            return
        if worker.settlements:
            settlements, worker.settlements = tuple(worker.settlements), []
            if not self._send(worker, ("settle", settlements)):
                return
        while worker.control:
            if not self._send(worker, worker.control.pop(0)):
                return

    def _dispatch(self) -> None:
        for worker in list(self.workers):
            while worker.ready and worker.job is None and self.queue:
                job = self.queue.popleft()
                if job.future.done():
                    continue  # its caller gave up while it waited
                settlements, worker.settlements = tuple(worker.settlements), []
                if not self._send(worker, ("job", job.id, *job.args, settlements, job.verdict)):
                    self.queue.appendleft(job)
                    return
                worker.job, job.sent_at = job, time.monotonic()
                job.verdict_sent = job.verdict is not None
                self._owners[job.id] = worker
            self._flush(worker)

    def _readable(self, worker: Worker) -> None:
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            self._lost(worker)
            return
        if message[0] == "bye":
            worker.counts = (message[1], message[2])
        elif message[0] == "synced":
            worker.counts = (message[1], message[2])
            if worker.sync_waiters:
                waiter = worker.sync_waiters.pop(0)
                if not waiter.done():
                    waiter.set_result(None)
        elif message[0] == READY:
            worker.ready = message[1] is None
            if message[1]:
                log.error("Analyseprozess startet nicht: %s", message[1])
                self.start_error = self.start_error or message[1]
        else:
            self._result(worker, message)
            if self._closing:  # a worker busy when close() began is told now
                self._flush(worker)
                self._send(worker, ("close",))
                return
        self._dispatch()

    def _result(self, worker: Worker, message: tuple[Any, ...]) -> None:
        """A job's result: hand it to whoever waits, and pass on a verdict that came meanwhile."""
        job_id, result, *counts = message
        worker.counts = (counts[0], counts[1])
        job, worker.job = worker.job, None
        if job is None or job.id != job_id:
            self._owners.pop(job_id, None)
            worker.settlements.append((job_id, False))  # unknown to us: the worker may forget it
            return
        self._finish(job)
        if job.sent_at is not None:
            self.service = 0.8 * self.service + 0.2 * (time.monotonic() - job.sent_at)
        if not job.future.done():
            job.future.set_result(replace(result, ticket=job_id))
        if job.verdict is not None:
            self._owners.pop(job_id, None)
            if not job.verdict_sent:
                worker.settlements.append((job_id, job.verdict))
        if time.monotonic() - worker.started > 60:
            self._recent_deaths = 0

    async def _watch_hung(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            self.check_hung()

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
        self._lost_counts = (self._lost_counts[0] + worker.counts[0], self._lost_counts[1] + worker.counts[1])
        worker.counts = (0, 0)
        asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        worker.conn.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(1)
        if worker.job is not None:
            self._finish(worker.job)
            if not worker.job.future.done():
                worker.job.future.set_result(failed("unavailable"))
        for waiter in worker.sync_waiters:
            if not waiter.done():
                waiter.set_result(None)
        if not self._running:
            self.start_error = self.start_error or \
                f"Analyseprozess beim Start beendet (Exit-Code {worker.process.exitcode})"
            return
        if self._closing:
            return
        self.restarts += 1
        delay = RESPAWN_DELAYS[min(self._recent_deaths, len(RESPAWN_DELAYS) - 1)]
        self._recent_deaths += 1
        log.warning("Analyseprozess ersetzt (%d. Mal, in %.0f s); seine offenen Tracker-Einträge fehlen",
                    self.restarts, delay)
        asyncio.get_running_loop().call_later(delay, self._respawn)

    def _respawn(self) -> None:
        if not self._closing and len(self.workers) < self.size:
            self._spawn()

    async def close(self, limit: float = 40.0) -> None:
        """Tell every worker to close (it finishes its tracker queue first), kill it if it does not."""
        self._closing = True
        if self._watch is not None:
            self._watch.cancel()
        dropped = [job for job in self.queue if not job.future.done()]
        if dropped:
            log.error("%d Analysen beim Beenden verworfen: ihre Zusagen fehlen im Tracker", len(dropped))
        for job in self.queue:
            self._finish(job)
            if not job.future.done():
                job.future.set_result(failed("unavailable"))
        self.queue.clear()
        for worker in list(self.workers):
            if worker.job is None:
                self._flush(worker)
                self._send(worker, ("close",))
        for worker in list(self.workers):
            # The worker writes its tracker backlog, says "bye" with its final counts, and exits.
            await asyncio.to_thread(worker.process.join, limit)
            while worker in self.workers and worker.conn.poll():
                self._readable(worker)
            if worker in self.workers:
                self._lost(worker)

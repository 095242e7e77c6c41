"""Analysis worker processes driven straight from the event loop (no helper threads in the proxy).

Each worker is a spawned process (see `worker_process`) that builds its engine once and answers one
job at a time over a pipe. The proxy keeps the queue itself and writes to a worker only while it is
idle, so a write never blocks on a full pipe, a hung job is known exactly, and a hung or dead worker
is killed and replaced while mail keeps flowing (tagged `error=timeout`/`unavailable` meanwhile).
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


@dataclass(eq=False)
class Job:
    """One message waiting for, or being analysed by, a worker."""

    id: int
    args: tuple[bytes, str, tuple[str, ...]]
    future: asyncio.Future[Extraction]
    sent_at: float | None = None


@dataclass(eq=False)
class Worker:
    """One worker process, its current job and what it still has to be told."""

    process: BaseProcess
    conn: Connection
    ready: bool = False
    job: Job | None = None
    settlements: list[tuple[int, bool]] = field(default_factory=list)
    runs: list[Callable[[Store], Any]] = field(default_factory=list)
    counts: tuple[int, int] = (0, 0)
    started: float = field(default_factory=time.monotonic)


class WorkerPool:
    """A queue of jobs served by `size` worker processes; see the module docstring."""

    def __init__(self, factory: AnalyzerFactory, size: int, hang_limit: float,
                 store_factory: StoreFactory | None = None) -> None:
        self.factory = factory
        self.store_factory = store_factory
        self.size = size
        self.hang_limit = hang_limit
        self.queue: deque[Job] = deque()
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
                return None
            await asyncio.sleep(0.05)
        return "Analyseprozess startet nicht (Zeitlimit)"

    def _spawn(self) -> None:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=worker_main, args=(child, self.factory, self.store_factory, logging.getLogger().level),
            daemon=True, name="versprochen-analyse")
        process.start()
        child.close()
        worker = Worker(process, parent)
        self.workers.append(worker)
        asyncio.get_running_loop().add_reader(parent.fileno(), self._readable, worker)

    def submit(self, args: tuple[bytes, str, tuple[str, ...]]) -> Job:
        """Queue a job; its future gets the extraction (with `ticket` set to the job id)."""
        job = Job(next(self._ids), args, asyncio.get_running_loop().create_future())
        self.queue.append(job)
        self._dispatch()
        return job

    def settle(self, ticket: int, accepted: bool) -> None:
        """Tell the worker that analysed a message whether the upstream accepted it."""
        worker = self._owners.pop(ticket, None)
        if worker is not None and worker in self.workers:
            worker.settlements.append((ticket, accepted))
            self._flush(worker)

    def run_in_tracker(self, job: Callable[[Store], Any]) -> bool:
        """Queue a picklable `job(store)` on the first worker's tracker thread; False without one."""
        if not self.workers or self.store_factory is None:
            return False
        self.workers[0].runs.append(job)
        self._flush(self.workers[0])
        return True

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
        while worker.runs:
            if not self._send(worker, ("run", worker.runs.pop(0))):
                return

    def _dispatch(self) -> None:
        for worker in list(self.workers):
            while worker.ready and worker.job is None and self.queue:
                job = self.queue.popleft()
                if job.future.done():
                    continue  # its caller gave up while it waited
                settlements, worker.settlements = tuple(worker.settlements), []
                if not self._send(worker, ("job", job.id, *job.args, settlements)):
                    self.queue.appendleft(job)
                    return
                worker.job, job.sent_at = job, time.monotonic()
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
        elif message[0] == READY:
            worker.ready = message[1] is None
            if message[1]:
                log.error("Analyseprozess startet nicht: %s", message[1])
                self.start_error = self.start_error or message[1]
        else:
            job_id, result, *counts = message
            worker.counts = (counts[0], counts[1])
            job, worker.job = worker.job, None
            if job is not None and job.id == job_id and not job.future.done():
                job.future.set_result(replace(result, ticket=job_id))
            else:
                # Its caller timed out: nobody will settle it, so the worker may forget it now.
                self._owners.pop(job_id, None)
                worker.settlements.append((job_id, False))
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
        self._lost_counts = (self._lost_counts[0] + worker.counts[0], self._lost_counts[1] + worker.counts[1])
        worker.counts = (0, 0)
        asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        worker.conn.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(1)
        if worker.job is not None and not worker.job.future.done():
            worker.job.future.set_result(failed("unavailable"))
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
        for job in self.queue:
            if not job.future.done():
                job.future.set_result(failed("unavailable"))
        self.queue.clear()

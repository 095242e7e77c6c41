"""Where extraction runs: worker processes (default) or one thread, always within a time budget.

Processes keep the engine's CPU work off the relay's core and can be killed when a job hangs; the
thread mode exists for tests and small machines. The engine keeps a cache that is not safe for
concurrent calls, so each worker owns its engine and runs one job at a time.

With processes, a mail waits for its analysis only briefly (`tag_wait`, and only when a worker took
it at once, so there is CPU to spare); otherwise it is relayed at once with
`X-Versprochen: pending` and the worker records its promises once the analysis is done and the
upstream accepted the mail. Analysis is then off the mail's critical path: relay throughput is
bounded by the relay, not by the engine, until the bounded queue fills (then mail waits for room).
The thread mode keeps the old inline behaviour: every mail waits up to `budget`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from smtp_proxy.extract import (
    MAX_ANALYSED_BYTES,
    Analyzer,
    Extraction,
    analyze_message,
    failed,
    pending,
    trim_for_analysis,
)
from smtp_proxy.recorder import Store, StoreFactory
from smtp_proxy.workers import AnalyzerFactory, QueueLimits, WorkerPool

log = logging.getLogger(__name__)

__all__ = ["AnalyzerFactory", "ExtractionPool", "ExtractionStartError", "QueueLimits"]


class ExtractionStartError(RuntimeError):
    """The engine could not be built at start-up (bad lexicon, missing module, ...)."""


class ExtractionPool:
    """Runs `analyze_message` off the event loop within `budget` seconds; never raises from `extract`."""

    def __init__(self, factory: AnalyzerFactory, *, workers: int, budget: float,
                 hang_limit: float | None = None, store_factory: StoreFactory | None = None,
                 tag_wait: float = 0.2, limits: QueueLimits | None = None) -> None:
        self.factory = factory
        # Only for worker processes: each records the mails it analysed (thread mode uses TrackerRecorder).
        self.store_factory = store_factory
        self.workers = workers
        self.budget = budget
        self.tag_wait = min(tag_wait, budget)
        self.limits = limits if limits is not None else QueueLimits(budget=budget)
        # A job running this long is hung, not slow: its worker process is replaced.
        self.hang_limit = hang_limit if hang_limit is not None else max(30.0, 10 * budget)
        self._processes: WorkerPool | None = None
        self._thread: cf.ThreadPoolExecutor | None = None
        self._analyzer: Analyzer | None = None
        self._final_counts = (0, 0)

    @property
    def restarts(self) -> int:
        """How often a worker process was replaced."""
        return self._processes.restarts if self._processes is not None else 0

    async def start(self) -> None:
        """Build the engine(s) before the proxy accepts connections; raises ExtractionStartError."""
        if self.workers <= 0:
            self._thread = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="versprochen-extract")
            try:
                self._analyzer = await asyncio.get_running_loop().run_in_executor(self._thread, self.factory)
            except Exception as exc:
                raise ExtractionStartError(f"{type(exc).__name__}: {exc}") from exc
            return
        self._processes = WorkerPool(self.factory, self.workers, self.hang_limit, self.store_factory,
                                     limits=self.limits)
        error = await self._processes.start()
        if error:
            raise ExtractionStartError(error)

    async def extract(self, raw: bytes, envelope_from: str, envelope_to: Sequence[str]) -> Extraction:
        """The extraction for one message, or an `error=...` result when it failed or ran out of time."""
        # Only the text before the first attachment is analysed: trimmed here, it is all the queue holds
        # and all that is pickled to a worker (8 KB of a 40 KB mail with a PDF).
        raw = trim_for_analysis(raw[:MAX_ANALYSED_BYTES])
        try:
            if self._processes is not None:
                return await self._in_process(raw, envelope_from, tuple(envelope_to))
            return await self._in_thread(raw, envelope_from, tuple(envelope_to))
        except Exception:
            log.exception("Analyse-Auftrag fehlgeschlagen")
            return failed("parse")

    def settle(self, ticket: int, accepted: bool) -> None:
        """Pass the upstream's verdict to the worker holding the analysis (it records accepted mail)."""
        if self._processes is not None:
            self._processes.settle(ticket, accepted)

    def run_in_tracker(self, job: Callable[[Store], Any]) -> bool:
        """Run a picklable `job(store)` on a worker's tracker thread; False without worker tracking."""
        return self._processes is not None and self._processes.run_in_tracker(job)

    async def sync(self, limit: float) -> bool:
        """Wait (up to `limit` s) until queued analyses are done and recorded; False if time ran out."""
        return await self._processes.sync(limit) if self._processes is not None else True

    @property
    def backlog(self) -> int:
        """Analyses queued or running right now."""
        return len(self._processes.unfinished) if self._processes is not None else 0

    @property
    def recorded(self) -> tuple[int, int]:
        """(recorded, failed) tracker writes of the worker processes."""
        return self._processes.recorded if self._processes is not None else self._final_counts

    async def _in_process(self, raw: bytes, envelope_from: str, envelope_to: tuple[str, ...]) -> Extraction:
        assert self._processes is not None
        # A full queue holds the mail (backpressure), but never longer than a hung worker may take.
        job = await self._processes.submit((raw, envelope_from, envelope_to), wait_limit=self.hang_limit)
        if job is None:
            log.error("Analyse-Warteschlange bleibt voll: Mail ohne Auswertung weitergeleitet")
            return failed("busy")
        # Waiting only pays when a worker took the job at once (there is CPU to spare) and the result can
        # come within tag_wait. A mail queued behind others goes now: under load, waiting sessions would
        # hold the relay to the analysis rate (measured: 4 KB mails at 0.56x the plain relay with waiting).
        # tag_wait equal to the budget asks for every mail to wait (the operator wants every mail tagged).
        always = self.tag_wait >= self.budget
        if self.tag_wait > 0 and (always or (job.sent_at is not None
                                             and self._processes.expected_wait(job) <= self.tag_wait)):
            with contextlib.suppress(TimeoutError):
                # shield: a timeout must not cancel the future the worker's answer is delivered to.
                return await asyncio.wait_for(asyncio.shield(job.future), timeout=self.tag_wait)
        elif job.future.done():
            return job.future.result()
        return pending(job.id)

    async def _in_thread(self, raw: bytes, envelope_from: str, envelope_to: tuple[str, ...]) -> Extraction:
        assert self._thread is not None and self._analyzer is not None, "start() was not awaited"
        job = functools.partial(analyze_message, raw, self._analyzer, envelope_from, envelope_to)
        future = self._thread.submit(job)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=self.budget)
        except TimeoutError:
            return failed("timeout")

    async def close(self) -> None:
        """Stop the workers (a thread still running a job is left to finish on its own)."""
        if self._processes is not None:
            await self._processes.close()
            self._final_counts = self._processes.recorded
            self._processes = None
        if self._thread is not None:
            self._thread.shutdown(wait=False, cancel_futures=True)
            self._thread = None

"""Where extraction runs: worker processes (default) or one thread, always within a time budget.

A process keeps the engine's CPU work off the relay's core and can be killed when a job hangs;
the thread mode exists for tests and small machines. The engine keeps a shared cache that is not
safe for concurrent calls, so each worker (process or thread) owns its engine and runs one job at a time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import functools
import logging
import multiprocessing
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool

from smtp_proxy.extract import Analyzer, Extraction, analyze_message, failed

log = logging.getLogger(__name__)

AnalyzerFactory = Callable[[], Analyzer]

# The analyzer of a worker process; a process-wide global is the only place a
# ProcessPoolExecutor initializer can leave state for later jobs.
_WORKER_ANALYZER: Analyzer | None = None
_WORKER_ERROR: str | None = None


class ExtractionStartError(RuntimeError):
    """The engine could not be built at start-up (bad lexicon, missing module, ...)."""


def _init_worker(factory: AnalyzerFactory) -> None:
    """Build the engine once per worker process; remember the error instead of dying."""
    global _WORKER_ANALYZER, _WORKER_ERROR
    # The parent decides when to stop; Ctrl+C in a terminal must not kill workers mid-job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _WORKER_ANALYZER = factory()
    except Exception as exc:
        _WORKER_ERROR = f"{type(exc).__name__}: {exc}"


def _worker_ready() -> str | None:
    """None when the worker's engine is built, else the error text."""
    return _WORKER_ERROR if _WORKER_ANALYZER is None else None


def _worker_job(raw: bytes, envelope_from: str, envelope_to: tuple[str, ...]) -> Extraction:
    if _WORKER_ANALYZER is None:
        return failed("unavailable")
    return analyze_message(raw, _WORKER_ANALYZER, envelope_from, envelope_to)


class ExtractionPool:
    """Runs `analyze_message` off the event loop within `budget` seconds; never raises from `extract`."""

    def __init__(self, factory: AnalyzerFactory, *, workers: int, budget: float,
                 hang_limit: float | None = None) -> None:
        self.factory = factory
        self.workers = workers
        self.budget = budget
        # A job running this long is hung, not slow: the worker is replaced.
        self.hang_limit = hang_limit if hang_limit is not None else max(30.0, 10 * budget)
        self._executor: cf.Executor | None = None
        self._analyzer: Analyzer | None = None
        self._started: dict[cf.Future[Extraction], float] = {}
        self.restarts = 0

    async def start(self) -> None:
        """Build the engine(s) before the proxy accepts connections; raises ExtractionStartError."""
        loop = asyncio.get_running_loop()
        if self.workers <= 0:
            self._executor = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="versprochen-extract")
            try:
                self._analyzer = await loop.run_in_executor(self._executor, self.factory)
            except Exception as exc:
                raise ExtractionStartError(f"{type(exc).__name__}: {exc}") from exc
            return
        self._executor = self._new_process_pool()
        checks = [loop.run_in_executor(self._executor, _worker_ready) for _ in range(self.workers)]
        try:
            errors = await asyncio.gather(*checks)
        except BrokenProcessPool as exc:
            raise ExtractionStartError("Analyseprozess ist beim Start abgestürzt") from exc
        problems = [e for e in errors if e]
        if problems:
            raise ExtractionStartError(problems[0])

    def _new_process_pool(self) -> cf.ProcessPoolExecutor:
        # spawn: a clean interpreter, no inherited sockets, threads or event loop.
        context = multiprocessing.get_context("spawn")
        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                      initializer=_init_worker, initargs=(self.factory,))

    def _submit(self, raw: bytes, envelope_from: str, envelope_to: tuple[str, ...]) -> cf.Future[Extraction]:
        assert self._executor is not None, "start() was not awaited"
        if self._analyzer is not None:
            job = functools.partial(analyze_message, raw, self._analyzer, envelope_from, envelope_to)
            return self._executor.submit(job)
        return self._executor.submit(_worker_job, raw, envelope_from, envelope_to)

    async def extract(self, raw: bytes, envelope_from: str, envelope_to: Sequence[str]) -> Extraction:
        """The extraction for one message, or an `error=...` result when it failed or ran out of time."""
        try:
            future = self._submit(raw, envelope_from, tuple(envelope_to))
        except (BrokenProcessPool, RuntimeError):
            log.error("Analyse-Worker nicht verfügbar, wird neu gestartet")
            self._restart()
            return failed("unavailable")
        self._started[future] = time.monotonic()
        future.add_done_callback(lambda f: self._started.pop(f, None))
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=self.budget)
        except TimeoutError:
            self._check_hung()
            return failed("timeout")
        except BrokenProcessPool:
            log.error("Analyse-Worker abgestürzt, wird neu gestartet")
            self._restart()
            return failed("unavailable")
        except Exception:
            log.exception("Analyse-Auftrag fehlgeschlagen")
            return failed("parse")

    def _check_hung(self) -> None:
        now = time.monotonic()
        hung = [f for f, t in list(self._started.items()) if f.running() and now - t > self.hang_limit]
        if hung and self._analyzer is None:
            log.error("Analyse hängt seit über %.0f s, Worker wird ersetzt", self.hang_limit)
            self._restart()

    def _restart(self) -> None:
        """Replace a broken or hung process pool; jobs in flight end as `unavailable`."""
        if self._analyzer is not None or not isinstance(self._executor, cf.ProcessPoolExecutor):
            return
        old = self._executor
        self._executor = self._new_process_pool()
        self._started.clear()
        self.restarts += 1
        processes = list(getattr(old, "_processes", {}).values())  # no public API to kill a worker
        old.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()

    async def close(self) -> None:
        """Stop the workers: jobs in flight get a few seconds, then the processes are terminated."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list(getattr(executor, "_processes", {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            await asyncio.to_thread(process.join, 5)
            if process.is_alive():
                process.terminate()

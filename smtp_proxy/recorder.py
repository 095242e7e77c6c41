"""Records promises of accepted mails in the tracker, from one thread (one SQLite connection).

Recording happens after the upstream accepted the mail and never delays or fails the mail: the
reply to the client does not wait for it, and errors are only logged. Jobs run first-in first-out
so kept detection sees mails in the order they were sent. With worker processes the same happens in
each worker process (`worker_process.TrackerThread`), off the relay's core.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from server.tracker.models import SentMail

if TYPE_CHECKING:
    from server.engine.types import Analysis

log = logging.getLogger(__name__)
T = TypeVar("T")
# Pauses (seconds) before further attempts when the tracker database is busy.
RETRY_PAUSES = (0.5, 2.0, 5.0)


class Store(Protocol):
    """The part of `server.tracker.store.TrackerStore` the proxy uses."""

    def record_mail(self, mail: SentMail, analysis: Analysis) -> list[int]:
        """Record one accepted mail; returns the new promise ids."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


StoreFactory = Callable[[], Store]


def open_store(path: Path | None) -> Store:
    """Open the tracker database (the tracker's default path when `path` is None)."""
    from server.tracker.store import TrackerStore

    return TrackerStore(path if path is not None else TrackerStore.default_path())


def default_store_factory(path: Path | None) -> StoreFactory:
    """A picklable factory opening the tracker database (it may run in a child process)."""
    return functools.partial(open_store, path)


class TrackerOpenError(RuntimeError):
    """The tracker database cannot be opened at start-up; the message says why."""


def record_one(store: Store, facts: SentMail, analysis: Analysis,
               pauses: tuple[float, ...] = RETRY_PAUSES) -> bool:
    """Record one accepted mail, retrying while the database is busy; False (and a log line) if it refused."""
    from server.tracker.models import TrackerUnavailable

    for pause in (*pauses, None):
        try:
            ids = store.record_mail(facts, analysis)
        except TrackerUnavailable as exc:
            # Locked by another writer (a niced worker may hold the lock a while under load) or a full
            # disk: temporary by definition, and this thread is off every mail's path, so it waits.
            if pause is None:
                log.error("Zusagen von %s nicht im Tracker gespeichert: %s", facts.message_id, exc)
                return False
            time.sleep(pause)
            continue
        except Exception:
            log.exception("Zusagen von %s nicht im Tracker gespeichert", facts.message_id)
            return False
        log.debug("%s: %d neue Zusagen im Tracker", facts.message_id, len(ids))
        return True
    return False


class TrackerRecorder:
    """Queues recordings onto one thread that owns the store."""

    def __init__(self, store_factory: StoreFactory) -> None:
        self._factory = store_factory
        self._store: Store | None = None
        self._executor = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="versprochen-tracker")
        self._pending: set[asyncio.Future[None]] = set()
        self.recorded = 0
        self.failures = 0

    def _get_store(self) -> Store:
        if self._store is None:
            self._store = self._factory()
        return self._store

    async def open(self) -> None:
        """Open the store now, so a bad database path stops the proxy at start-up, not per mail."""
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._get_store)
        except Exception as exc:
            raise TrackerOpenError(str(exc)) from exc

    def submit(self, facts: SentMail, analysis: Analysis) -> None:
        """Record in the background; the caller does not wait."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._record, facts, analysis)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _record(self, facts: SentMail, analysis: Analysis) -> None:
        if record_one(self._get_store(), facts, analysis):
            self.recorded += 1
        else:
            self.failures += 1

    async def run(self, job: Callable[[Store], T]) -> T:
        """Run `job(store)` on the tracker thread (reminder cycles share the store this way)."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, lambda: job(self._get_store()))

    async def drain(self) -> None:
        """Wait until every submitted recording has finished."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self) -> None:
        """Finish pending recordings, then close the store and its thread."""
        await self.drain()

        def shut() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        await asyncio.get_running_loop().run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)

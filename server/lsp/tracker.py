"""Read-only view on the promise tracker: open promises for a draft's recipients (degrades silently)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from server.lsp.convert import OpenPromise

log = logging.getLogger(__name__)
# Typing keeps asking for the same recipients; the tracker changes on the scale of sent mails.
CACHE_SECONDS = 20.0


def parse_due(value: str | None) -> date | datetime | None:
    """An ISO date or date-time from the tracker (None when missing or unreadable)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    except ValueError:
        return None


def is_overdue(due: date | datetime | None, now: datetime) -> bool:
    """True when the due date or time lies before `now` (a date is due until its end)."""
    if due is None:
        return False
    if isinstance(due, datetime):
        return due.replace(tzinfo=None) < now
    return due < now.date()


def to_open_promise(tracked: Any, now: datetime) -> OpenPromise:
    """A TrackedPromise as the language server shows it."""
    due = parse_due(tracked.due)
    return OpenPromise(
        quote=tracked.quote, recipients=tuple(tracked.recipients), subject=tracked.subject,
        deadline_text=tracked.deadline_text, due=due, overdue=is_overdue(due, now),
        object=tracked.object, promise_id=tracked.id, risk=getattr(tracked, "risk", None),
    )


def resolve_path(setting: str, project: Path | None, base: Path | None = None) -> Path | None:
    """The database to read: the setting (relative to `base`), else the project's [tracker] path, else the
    default location if a database exists there."""
    if setting.strip():
        path = Path(setting).expanduser()
        return path if path.is_absolute() or base is None else base / path
    if project is not None:
        return project
    try:
        from server.tracker.store import TrackerStore
    except ImportError:
        return None
    default = TrackerStore.default_path()
    return default if default.is_file() else None


class TrackerView:
    """Opens the tracker read-only on first use; any failure means "no tracker" (logged once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._store: Any = None
        self._failed: Path | None = None
        self._cache: dict[tuple[Path, tuple[str, ...]], tuple[float, list[Any]]] = {}

    def configure(self, path: Path | None) -> None:
        """Switch to another database (or none); the old one is closed."""
        with self._lock:
            if path == self._path:
                return
            self._close()
            self._path = path
            self._failed = None
            self._cache.clear()

    @property
    def path(self) -> Path | None:
        """The configured database path."""
        return self._path

    def _close(self) -> None:
        if self._store is not None:
            try:
                self._store.close()
            except Exception:
                log.debug("closing the tracker failed", exc_info=True)
        self._store = None

    def _open(self) -> Any:
        if self._store is not None or self._path is None or self._failed == self._path:
            return self._store
        try:
            from server.tracker.store import TrackerStore

            if not self._path.is_file():
                return None
            self._store = TrackerStore(self._path, read_only=True)
        except Exception as exc:  # a missing module, a locked or foreign file: no tracker, no noise
            log.info("tracker %s not usable: %s", self._path, exc)
            self._failed = self._path
            self._store = None
        return self._store

    def open_for(self, recipients: Sequence[str], now: datetime) -> list[OpenPromise]:
        """Open promises made to any of `recipients` (empty when there is no usable tracker)."""
        with self._lock:
            path = self._path
            if path is None:
                return []
            key = (path, tuple(sorted(r.casefold() for r in recipients)))
            hit = self._cache.get(key)
            if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
                return [to_open_promise(t, now) for t in hit[1]]
            store = self._open()
            if store is None:
                return []
            try:
                rows = list(store.open_for_recipients(recipients))
            except Exception as exc:
                log.info("tracker query failed: %s", exc)
                rows = []
            self._cache[key] = (time.monotonic(), rows)
        return [to_open_promise(t, now) for t in rows]

    def invalidate(self) -> None:
        """Forget cached answers (after the user asks for a fresh check)."""
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._close()

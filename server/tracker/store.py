"""The promise store: SQLite (WAL, versioned schema), one connection per thread, states with history."""

from __future__ import annotations

import builtins
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.tracker.dates import DueBound, due_day_text, due_in_range, iso_time, normalize_due, now_local
from server.tracker.kept import kept_by
from server.tracker.matching import bare_address, bare_addresses, normalize_message_id, split_references
from server.tracker.models import (
    ACTIVE_STATES,
    AUTO,
    REOPENABLE,
    STATE_LABELS,
    STATES,
    TRANSITIONS,
    InvalidTransition,
    PromiseNotFound,
    SchemaError,
    SentMail,
    StateChange,
    TrackedPromise,
    TrackerError,
    TrackerUnavailable,
    check_states,
    due_sort_key,
    promise_from_row,
    refusal,
    synthetic_message_id,
)
from server.tracker.schema import SCHEMA_VERSION, migrate, schema_version

if TYPE_CHECKING:
    from server.engine.types import Analysis

__all__ = [
    "ACTIVE_STATES", "AUTO", "REOPENABLE", "STATES", "STATE_LABELS", "TRANSITIONS", "InvalidTransition",
    "PromiseNotFound",
    "SchemaError", "SentMail", "StateChange", "TrackedPromise", "TrackerError", "TrackerStore",
    "TrackerUnavailable",
]

# SQLite primary result codes that mean "try again later" (busy, locked, full disk, I/O, read-only file).
TEMPORARY_CODES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})

_PROMISE_SELECT = """
    SELECT p.*, m.sender, m.recipients, m.subject, m.sender_addr
    FROM promises p JOIN mails m ON m.message_id = p.message_id
"""


class TrackerStore:
    """SQLite, WAL, versioned schema; one connection per thread, safe to share across threads."""

    def __init__(self, path: Path, *, read_only: bool = False, busy_timeout: float = 5.0,
                 clock: Callable[[], datetime] = now_local) -> None:
        """Open (and create or migrate, unless `read_only`) the tracker database at `path`.

        `clock` gives the time stamped on records and history (tests pin it).
        """
        self.path = Path(path)
        self.clock = clock
        self.read_only = read_only
        self.busy_timeout = busy_timeout
        self._lock = threading.Lock()
        # Keyed by thread id: a connection is only ever used by the thread that opened it.
        self._conns: dict[int, sqlite3.Connection] = {}
        self._closed = False
        if read_only and not self.path.is_file():
            raise TrackerError(f"Keine Tracker-Datenbank unter {self.path}")
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        with self._errors(f"Tracker-Datenbank {self.path} kann nicht geöffnet werden"):
            if not self.read_only:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise TrackerUnavailable(f"Ordner für {self.path} nicht anlegbar: {exc}") from exc
            conn = self._conn()
            version = schema_version(conn)
            if version > SCHEMA_VERSION:
                raise SchemaError(
                    f"{self.path} hat Schema-Version {version}, diese versprochen-Version kennt nur "
                    f"{SCHEMA_VERSION}: bitte versprochen aktualisieren")
            if self.read_only:
                if version == 0:
                    raise SchemaError(f"{self.path} ist keine Tracker-Datenbank")
                return
            # WAL lets the language server read while the proxy writes; the mode sticks to the file, so
            # an existing database is opened without taking the write lock.
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise TrackerUnavailable(f"{self.path}: WAL-Modus nicht verfügbar ({mode})")
            if version < SCHEMA_VERSION:
                migrate(conn)

    @staticmethod
    def default_path() -> Path:
        """platformdirs user_data_dir("versprochen")/tracker.sqlite3."""
        import platformdirs

        return Path(platformdirs.user_data_dir("versprochen", appauthor=False)) / "tracker.sqlite3"

    @contextmanager
    def _errors(self, action: str = "Tracker-Datenbank") -> Iterator[None]:
        """Turn sqlite3 errors into tracker errors with a German message (temporary ones → unavailable)."""
        try:
            yield
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            name = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
            message = f"{action}: {exc} ({name})"
            if isinstance(exc, sqlite3.OperationalError) and (code is None or code & 0xFF in TEMPORARY_CODES):
                raise TrackerUnavailable(message) from exc
            if code is not None and code & 0xFF in TEMPORARY_CODES:
                raise TrackerUnavailable(message) from exc
            if code is not None and code & 0xFF == 26:  # SQLITE_NOTADB
                raise SchemaError(f"{self.path} ist keine Tracker-Datenbank") from exc
            raise TrackerError(message) from exc

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            conn = self._connect_read_only()
        else:
            conn = self._raw_connect(str(self.path), uri=False)
            # Promises are recorded once per accepted mail; FULL keeps a committed one across power loss.
            conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _raw_connect(self, target: str, *, uri: bool) -> sqlite3.Connection:
        # check_same_thread=False only so close() may close every thread's connection; each connection is
        # still used by its own thread alone.
        conn = sqlite3.connect(target, uri=uri, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        return conn

    def _connect_read_only(self) -> sqlite3.Connection:
        """A `mode=ro` connection; `immutable=1` when no writer is active and the folder is read-only."""
        uri = self.path.resolve().as_uri() + "?mode=ro"
        conn = self._raw_connect(uri, uri=True)
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.OperationalError as exc:
            # A WAL reader must create the -shm file; in a read-only folder it cannot. Without a -wal file
            # no writer is active and everything is in the main file, so reading it as immutable is exact.
            wal = Path(f"{self.path}-wal")
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in (8, 14) or wal.exists():
                conn.close()
                raise
            conn.close()
            conn = self._raw_connect(uri + "&immutable=1", uri=True)
        return conn

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        ident = threading.get_ident()
        conn = self._conns.get(ident)
        if conn is not None:
            return conn
        with self._lock:
            if self._closed:
                raise TrackerError("Tracker-Datenbank ist bereits geschlossen")
            with self._errors(f"Tracker-Datenbank {self.path} kann nicht geöffnet werden"):
                conn = self._connect()
            # A thread id is only reused after its thread ended, so the old connection is free again.
            old = self._conns.pop(ident, None)
            if old is not None:
                old.close()
            self._conns[ident] = conn
            return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on this thread's connection (BEGIN IMMEDIATE: no lock upgrade deadlocks)."""
        if self.read_only:
            raise TrackerUnavailable(f"{self.path} ist nur lesend geöffnet")
        conn = self._conn()
        with self._errors("Schreiben in die Tracker-Datenbank fehlgeschlagen"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # After SQLITE_FULL or an I/O error SQLite may already have rolled back.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def read(self, sql: str, params: Sequence[Any] = ()) -> builtins.list[sqlite3.Row]:
        """Rows of one read query on this thread's connection, with tracker errors."""
        with self._errors("Lesen aus der Tracker-Datenbank fehlgeschlagen"):
            return self._conn().execute(sql, params).fetchall()

    def record_mail(self, mail: SentMail, analysis: Analysis) -> builtins.list[int]:
        """Store a sent mail's promises (idempotent per Message-ID: a stored mail returns []); the new ids.

        Also runs kept detection: a delivery of the same object to the same customer, or a reply in the
        thread saying "wie versprochen", marks matching open promises kept with this mail as evidence.
        """
        message_id = normalize_message_id(mail.message_id) or synthetic_message_id(mail, analysis)
        now = iso_time(self.clock())
        sent = iso_time(mail.sent)
        refs = split_references([mail.in_reply_to or "", *mail.references])
        new_ids: list[int] = []
        with self.transaction() as conn:
            cur = conn.execute(
                """INSERT INTO mails (message_id, sender, sender_addr, recipients, subject, sent,
                                      in_reply_to, refs, recorded)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING""",
                (message_id, mail.sender, bare_address(mail.sender),
                 json.dumps(list(mail.recipients), ensure_ascii=False), mail.subject, sent,
                 normalize_message_id(mail.in_reply_to) or None, json.dumps(refs), now))
            if not cur.rowcount:
                # Stored before (a retry after a 4xx, or one delivery per recipient): its promises and kept
                # detection were written in that same transaction, so there is nothing left to do.
                return new_ids
            conn.executemany(
                "INSERT OR IGNORE INTO mail_recipients (message_id, address) VALUES (?, ?)",
                [(message_id, a) for a in bare_addresses(mail.recipients)])
            for p in analysis.promises:
                deadline = p.deadline
                cur = conn.execute(
                    """INSERT INTO promises (message_id, start_offset, end_offset, quote, kind, risk,
                                             deadline_text, due, vague, object, state, created, updated)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)
                       ON CONFLICT (message_id, start_offset, end_offset) DO NOTHING""",
                    (message_id, p.start, p.end, p.text, p.kind, p.risk,
                     deadline.text if deadline else None, deadline.due_iso() if deadline else None,
                     int(bool(deadline and deadline.vague)), p.object, now, now))
                if cur.rowcount and cur.lastrowid is not None:
                    new_ids.append(cur.lastrowid)
                    self._log(conn, cur.lastrowid, None, "open", AUTO, now, message_id, None, None)
            for promise_id, note in kept_by(conn, mail, message_id, sent, refs, analysis).items():
                self._change(conn, promise_id, "kept", by=AUTO, now=now, evidence=message_id, note=note)
        return new_ids

    @staticmethod
    def _log(conn: sqlite3.Connection, promise_id: int, old: str | None, new: str, by: str, at: str,
             evidence: str | None, note: str | None, new_due: str | None) -> None:
        conn.execute(
            """INSERT INTO history (promise_id, old_state, new_state, changed_by, at, evidence, note, new_due)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (promise_id, old, new, by, at, evidence, note, new_due))

    def _change(self, conn: sqlite3.Connection, promise_id: int, new_state: str, *, by: str, now: str,
                evidence: str | None = None, note: str | None = None, new_due: str | None = None) -> None:
        row = conn.execute("SELECT state FROM promises WHERE id = ?", (promise_id,)).fetchone()
        if row is None:
            raise PromiseNotFound(f"Keine Zusage mit der Nummer {promise_id}")
        old = row["state"]
        if new_state not in TRANSITIONS[old]:
            raise InvalidTransition(refusal(promise_id, old, new_state))
        if new_due is not None:
            conn.execute("UPDATE promises SET state = ?, due = ?, vague = 0, updated = ? WHERE id = ?",
                         (new_state, new_due, now, promise_id))
        else:
            conn.execute("UPDATE promises SET state = ?, updated = ? WHERE id = ?",
                         (new_state, now, promise_id))
        self._log(conn, promise_id, old, new_state, by, now, evidence, note, new_due)

    def set_state(self, promise_id: int, new_state: str, *, by: str, evidence: str | None = None,
                  note: str | None = None, new_due: DueBound | None = None) -> TrackedPromise:
        """Change a promise's state (see TRANSITIONS) and record it in its history."""
        check_states(new_state)
        if not by.strip():
            raise InvalidTransition("Wer die Änderung macht, fehlt (by)")
        if new_state == "postponed" and new_due is None:
            raise InvalidTransition("Zum Verschieben ist ein neues Fälligkeitsdatum nötig")
        if new_state != "postponed" and new_due is not None:
            raise InvalidTransition("Ein neues Fälligkeitsdatum gibt es nur beim Verschieben")
        try:
            due = normalize_due(new_due) if new_due is not None else None
        except ValueError as exc:
            raise InvalidTransition(str(exc)) from None
        with self.transaction() as conn:
            self._change(conn, promise_id, new_state, by=by.strip(), now=iso_time(self.clock()),
                         evidence=evidence, note=note, new_due=due)
        found = self.get(promise_id)
        assert found is not None  # it was just updated in the same thread
        return found

    def reopen(self, promise_id: int, *, by: str, note: str | None = None) -> TrackedPromise:
        """Set a kept, broken or cancelled promise back to open; its history keeps the old state's evidence."""
        return self.set_state(promise_id, "open", by=by, note=note)

    def list(self, *, state: str | Iterable[str] | None = None, owner: str | None = None,
             recipient: str | None = None, due_from: DueBound | None = None,
             due_to: DueBound | None = None) -> builtins.list[TrackedPromise]:
        """Promises by due date (undated last); filters: state(s), owner (sender), recipient, due range.

        `recipient` starting with "@" matches a whole domain; a due bound given as a date compares by day.
        """
        states = check_states(state)
        where: list[str] = []
        params: list[Any] = []
        if states:
            where.append(f"p.state IN ({','.join('?' * len(states))})")
            params += states
        if owner:
            where.append("m.sender_addr = ?")
            params.append(bare_address(owner))
        if recipient:
            domain = recipient.strip().casefold()
            if domain.startswith("@"):
                clause, value = "r.address LIKE ? ESCAPE '!'", "%" + re.sub(r"([!%_])", r"!\1", domain)
            else:
                clause, value = "r.address = ?", bare_address(recipient)
            where.append(f"EXISTS (SELECT 1 FROM mail_recipients r WHERE r.message_id = p.message_id "
                         f"AND {clause})")
            params.append(value)
        # Narrow by day in SQL (ISO text sorts by date); the exact bound is checked below.
        if due_from is not None:
            where.append("p.due >= ?")
            params.append(due_day_text(due_from))
        if due_to is not None:
            where.append("p.due < ?")
            params.append(due_day_text(due_to, days=1))
        sql = _PROMISE_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        found = [promise_from_row(row) for row in self.read(sql, params)]
        if due_from is not None or due_to is not None:
            found = [p for p in found if due_in_range(p.due, due_from, due_to)]
        return sorted(found, key=due_sort_key)

    def get(self, promise_id: int) -> TrackedPromise | None:
        """The promise with this id, or None."""
        rows = self.read(_PROMISE_SELECT + " WHERE p.id = ?", (promise_id,))
        return promise_from_row(rows[0]) if rows else None

    def history(self, promise_id: int) -> builtins.list[StateChange]:
        """Every state change of a promise, oldest first (its creation included)."""
        rows = self.read("SELECT * FROM history WHERE promise_id = ? ORDER BY id", (promise_id,))
        return [StateChange(promise_id=r["promise_id"], old_state=r["old_state"], new_state=r["new_state"],
                            by=r["changed_by"], at=datetime.fromisoformat(r["at"]), evidence=r["evidence"],
                            note=r["note"], new_due=r["new_due"]) for r in rows]

    def open_for_recipients(self, recipients: Iterable[str]) -> builtins.list[TrackedPromise]:
        """Promises still to be kept (open or postponed) made to any of these recipients, by due date."""
        addresses = bare_addresses(recipients)
        if not addresses:
            return []
        marks = ",".join("?" * len(addresses))
        # Driven from the recipient index (CROSS JOIN fixes the order): a few rows per customer however
        # large the tracker grows; SQLite would otherwise start from the state index.
        rows = self.read(
            f"""SELECT DISTINCT p.*, m.sender, m.recipients, m.subject, m.sender_addr
                FROM mail_recipients r
                CROSS JOIN mails m ON m.message_id = r.message_id
                CROSS JOIN promises p ON p.message_id = r.message_id
                WHERE r.address IN ({marks}) AND p.state IN ('open', 'postponed')""", addresses)
        return sorted((promise_from_row(r) for r in rows), key=due_sort_key)

    def close(self) -> None:
        """Close every thread's connection; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            conns, self._conns = builtins.list(self._conns.values()), {}
        for conn in conns:
            conn.close()

    def __enter__(self) -> TrackerStore:
        """Use the store as a context manager that closes it."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

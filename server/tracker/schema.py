"""The tracker's SQLite schema as numbered migrations, applied in order under `PRAGMA user_version`."""

from __future__ import annotations

import sqlite3

# Each entry upgrades the database from version i to i + 1. Never edit a released entry: append a new one,
# because existing databases only ever replay the entries after their own version.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: mails, their recipients, promises and their history.
    (
        """CREATE TABLE mails (
            message_id  TEXT PRIMARY KEY,
            sender      TEXT NOT NULL,
            sender_addr TEXT NOT NULL,
            recipients  TEXT NOT NULL,          -- JSON list of the addresses as written
            subject     TEXT NOT NULL,
            sent        TEXT NOT NULL,          -- ISO, local wall time
            in_reply_to TEXT,
            refs        TEXT NOT NULL,          -- JSON list of Message-IDs
            recorded    TEXT NOT NULL
        )""",
        """CREATE TABLE mail_recipients (
            message_id TEXT NOT NULL REFERENCES mails(message_id) ON DELETE CASCADE,
            address    TEXT NOT NULL,           -- bare address, casefolded
            PRIMARY KEY (message_id, address)
        ) WITHOUT ROWID""",
        "CREATE INDEX mail_recipients_address ON mail_recipients(address)",
        "CREATE INDEX mails_sender ON mails(sender_addr)",
        """CREATE TABLE promises (
            id            INTEGER PRIMARY KEY,
            message_id    TEXT NOT NULL REFERENCES mails(message_id) ON DELETE CASCADE,
            start_offset  INTEGER NOT NULL,
            end_offset    INTEGER NOT NULL,
            quote         TEXT NOT NULL,
            kind          TEXT NOT NULL,
            risk          TEXT NOT NULL,
            deadline_text TEXT,
            due           TEXT,
            vague         INTEGER NOT NULL DEFAULT 0,
            object        TEXT,
            state         TEXT NOT NULL DEFAULT 'open'
                          CHECK (state IN ('open', 'kept', 'broken', 'postponed', 'cancelled')),
            created       TEXT NOT NULL,
            updated       TEXT NOT NULL,
            UNIQUE (message_id, start_offset, end_offset)
        )""",
        "CREATE INDEX promises_state ON promises(state)",
        """CREATE TABLE history (
            id         INTEGER PRIMARY KEY,
            promise_id INTEGER NOT NULL REFERENCES promises(id) ON DELETE CASCADE,
            old_state  TEXT,
            new_state  TEXT NOT NULL,
            changed_by TEXT NOT NULL,
            at         TEXT NOT NULL,
            evidence   TEXT,
            note       TEXT,
            new_due    TEXT
        )""",
        "CREATE INDEX history_promise ON history(promise_id)",
    ),
    # 2: reminder bookkeeping (pending -> sent rows, so a reminder is never sent twice), due-date index.
    (
        """CREATE TABLE reminders (
            id         INTEGER PRIMARY KEY,
            promise_id INTEGER NOT NULL REFERENCES promises(id) ON DELETE CASCADE,
            kind       TEXT NOT NULL CHECK (kind IN ('lead', 'due')),
            due        TEXT NOT NULL,           -- the due date this reminder was for
            status     TEXT NOT NULL
                       CHECK (status IN ('pending', 'sent', 'failed', 'uncertain', 'skipped')),
            recipient  TEXT NOT NULL,
            created    TEXT NOT NULL,
            updated    TEXT NOT NULL,
            attempts   INTEGER NOT NULL DEFAULT 0,
            error      TEXT,
            reminder_message_id TEXT,
            UNIQUE (promise_id, kind, due)
        )""",
        "CREATE INDEX reminders_status ON reminders(status)",
        "CREATE INDEX promises_due ON promises(due)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The `user_version` of the open database (0 for a new, empty file)."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to `target`, one migration per transaction; returns the old version.

    Each step re-reads the version inside its write transaction, so two processes opening a fresh file at
    the same time cannot apply a migration twice.
    """
    old = schema_version(conn)
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = schema_version(conn)
            if current >= target:
                conn.execute("COMMIT")
                return old
            for statement in MIGRATIONS[current]:
                conn.execute(statement)
            # PRAGMA cannot take a parameter; the value is our own integer.
            conn.execute(f"PRAGMA user_version = {current + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

"""Kept detection: a later delivery of the same object, or a "wie versprochen" reply in the thread."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from server.tracker.matching import bare_address, bare_addresses, delivery_matches, says_as_promised
from server.tracker.models import SentMail

if TYPE_CHECKING:
    from server.engine.types import Analysis

_CANDIDATES = """
    SELECT p.id, p.quote, p.object, p.deadline_text
    FROM promises p JOIN mails m ON m.message_id = p.message_id
"""


def kept_by(conn: sqlite3.Connection, mail: SentMail, message_id: str, sent: str,
            refs: list[str], analysis: Analysis) -> dict[int, str]:
    """Active promises this mail keeps, with a note saying how it was recognised."""
    kept: dict[int, str] = {}
    recipients = bare_addresses(mail.recipients)
    if analysis.deliveries and recipients:
        marks = ",".join("?" * len(recipients))
        rows = conn.execute(
            f"""SELECT DISTINCT p.id, p.quote, p.object, p.deadline_text
                FROM mail_recipients r
                CROSS JOIN mails m ON m.message_id = r.message_id
                CROSS JOIN promises p ON p.message_id = r.message_id
                WHERE r.address IN ({marks}) AND m.sender_addr = ? AND p.state IN ('open', 'postponed')
                AND p.message_id <> ? AND m.sent <= ?""",
            (*recipients, bare_address(mail.sender), message_id, sent)).fetchall()
        # A mail often names one object several times; each distinct one is compared once per promise.
        objects = list(dict.fromkeys(d.object for d in analysis.deliveries))
        for row in rows:
            for obj in objects:
                if delivery_matches(obj, row["quote"], row["object"], row["deadline_text"]):
                    kept[row["id"]] = f"Lieferung erkannt: {obj}"
                    break
    refs = [r for r in refs if r != message_id]
    if refs and says_as_promised(analysis):
        marks = ",".join("?" * len(refs))
        rows = conn.execute(
            _CANDIDATES + f"""WHERE p.state IN ('open', 'postponed') AND p.message_id IN ({marks})
                AND m.sent <= ?""", (*refs, sent)).fetchall()
        # A reply that names what it delivers keeps only those promises of the thread; else all of them.
        named = [row for row in rows if any(
            delivery_matches(d.object, row["quote"], row["object"], row["deadline_text"])
            for d in analysis.deliveries)]
        for row in named or rows:
            kept.setdefault(row["id"], "Antwort im Verlauf: „wie versprochen“")
    for promise_id in _reopened_after(conn, list(kept), sent):
        del kept[promise_id]
    return kept


def _reopened_after(conn: sqlite3.Connection, ids: list[int], sent: str) -> set[int]:
    """Promises someone reopened after this mail was sent: a person's later judgement outranks it.

    A stored mail never runs kept detection again, but a mail sent before the reopen can still be recorded
    after it (deferred in the Postfix queue while the proxy was down); it must not undo the reopen.
    """
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"""SELECT DISTINCT promise_id FROM history
            WHERE promise_id IN ({marks}) AND new_state = 'open' AND old_state IS NOT NULL AND at > ?""",
        (*ids, sent)).fetchall()
    return {row[0] for row in rows}

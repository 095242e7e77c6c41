"""Client-side helpers: send through the proxy with smtplib and look at the tracker."""

from __future__ import annotations

import re
import smtplib
import sqlite3
from pathlib import Path

HEADER_LINE = re.compile(rb"^X-Versprochen: [ -~]+\r\n")


def send(port: int, data: bytes, *, sender: str = "anna@firma.example",
         recipients: tuple[str, ...] = ("max@kunde.example",),
         mail_options: tuple[str, ...] = ()) -> tuple[int, str]:
    """One transaction through the proxy; the (code, text) reply to the final dot or first refusal."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("client.example")
        code, text = client.mail(sender, list(mail_options))
        if code != 250:
            return code, text.decode()
        for rcpt in recipients:
            code, text = client.rcpt(rcpt)
            if code not in (250, 251):
                return code, text.decode()
        code, text = client.data(data)
        return code, text.decode()


def split_header(relayed: bytes) -> tuple[bytes, bytes]:
    """(the X-Versprochen line, the rest); fails when the first line is not our header."""
    match = HEADER_LINE.match(relayed)
    assert match is not None, relayed[:200]
    return match.group(0), relayed[match.end():]


def mail(body: str = "Guten Tag,\r\nich schicke Ihnen ZUSAGE bis 2026-11-27 das Angebot.\r\n",
         message_id: str = "<m1@firma.example>", extra: str = "") -> bytes:
    """A small plain-text mail with CRLF line ends."""
    head = ("From: Anna Schmidt <anna@firma.example>\r\nTo: Max <max@kunde.example>\r\n"
            f"Subject: Angebot\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\nMessage-ID: {message_id}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n{extra}\r\n")
    return (head + body).encode()


def tracker_rows(path: Path, table: str = "promises") -> list[sqlite3.Row]:
    """All rows of a tracker table, read through a separate read-only connection."""
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(f"SELECT * FROM {table}").fetchall()
    finally:
        conn.close()

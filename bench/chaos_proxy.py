"""Chaos run: 3,000 messages from 20 concurrent clients through `versprochen proxy` while the upstream
is killed (SIGKILL) and restarted twice. Loss must be 0 and bounces (5xx) must be 0.

Clients behave like Postfix: a 4xx means "try again later" (bounded retries with a pause).
A message is lost when it got a 250 but its Message-ID never reached the upstream's log, which the
upstream writes before it answers 250. Loopback only; stops by itself (bounded loops, a deadline).

Run: .venv/bin/python bench/chaos_proxy.py [--messages 3000] [--clients 20]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.loopback import free_port, wait_port

ROOT = Path(__file__).resolve().parents[1]
MAX_ATTEMPTS = 30
RETRY_PAUSE = 0.3
DEADLINE = 900.0
MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.MULTILINE | re.IGNORECASE)


# ---- the upstream child: logs each Message-ID durably *before* answering 250 ---------------------

class LoggingUpstream:
    """aiosmtpd handler appending each accepted Message-ID to a file (one write per ID)."""

    def __init__(self, log_path: Path) -> None:
        self.fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Log, then accept."""
        match = MESSAGE_ID.search(envelope.original_content)
        os.write(self.fd, (match.group(1) if match else b"<ohne-id>") + b"\n")
        return "250 2.0.0 Ok"


async def serve_upstream(port: int, log_path: Path) -> None:
    """Run the logging upstream until killed."""
    from aiosmtpd.smtp import SMTP

    class Session(SMTP):
        line_length_limit = 20_000_000

    handler = LoggingUpstream(log_path)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Session(handler, hostname="upstream", enable_SMTPUTF8=True, data_size_limit=None),
        "127.0.0.1", port)
    await server.serve_forever()


# ---- the clients and the chaos ------------------------------------------------------------------

@dataclass
class Tally:
    """What the clients saw."""

    accepted: collections.Counter[str] = field(default_factory=collections.Counter)
    codes: collections.Counter[int] = field(default_factory=collections.Counter)
    gave_up: list[str] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)


def message(n: int) -> tuple[str, bytes]:
    """A small German mail with a promise; its Message-ID is unique per message number."""
    mid = f"<chaos-{n}@firma.example>"
    body = (f"Sehr geehrter Herr Mustermann,\r\n\r\nich schicke Ihnen das Angebot Nr. {n} bis Freitag.\r\n"
            f"Die Unterlagen liefern wir garantiert bis Ende der Woche.\r\n\r\nViele Grüße\r\nAnna\r\n")
    head = (f"From: Anna <anna@firma.example>\r\nTo: Max <max@kunde.example>\r\nSubject: Angebot {n}\r\n"
            f"Date: Mon, 23 Nov 2026 10:00:00 +0100\r\nMessage-ID: {mid}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
    return mid, (head + body).encode()


async def send_one(client: Any, data: bytes) -> int:
    """One transaction on an open connection; the reply code to the final dot (or a refusal)."""
    for command in (b"MAIL FROM:<anna@firma.example> BODY=8BITMIME", b"RCPT TO:<max@kunde.example>"):
        reply = await client.execute_command(*command.split(b" ", 1))
        if reply.code >= 300:
            await client.execute_command(b"RSET")
            return int(reply.code)
    import aiosmtplib

    try:
        await client.data(data)
    except aiosmtplib.SMTPDataError as exc:
        return int(exc.code)
    return 250


async def client_loop(port: int, queue: asyncio.Queue[tuple[int, int]], tally: Tally, stop_at: float) -> None:
    """Take messages from the queue until it is empty; 4xx and broken connections are retried later."""
    import aiosmtplib

    client: aiosmtplib.SMTP | None = None
    while time.monotonic() < stop_at:
        try:
            n, attempt = queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        mid, data = message(n)
        code = 0
        try:
            if client is None or not client.is_connected:
                client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60, start_tls=False,
                                         local_hostname="client")
                await client.connect()
                await client.ehlo()
            code = await send_one(client, data)
        except (aiosmtplib.SMTPException, OSError) as exc:
            tally.errors[type(exc).__name__] += 1
            client = None
        tally.codes[code] += 1
        if code == 250:
            tally.accepted[mid] += 1
        elif 500 <= code < 600:
            pass  # a bounce: counted in codes, never retried
        elif attempt + 1 < MAX_ATTEMPTS:
            await asyncio.sleep(RETRY_PAUSE)
            queue.put_nowait((n, attempt + 1))
        else:
            tally.gave_up.append(mid)
    if client is not None and client.is_connected:
        client.close()


def start_upstream(port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """The logging upstream as a child process."""
    child = subprocess.Popen([sys.executable, __file__, "--upstream-child", str(port), str(log_path)],
                             cwd=ROOT)
    wait_port(port, child)
    return child


async def chaos(tally: Tally, total: int, upstream: list[subprocess.Popen[bytes]], port: int,
                log_path: Path, events: list[str]) -> None:
    """Kill the upstream at a third and at two thirds of the accepted messages, restart after a pause."""
    for fraction in (1 / 3, 2 / 3):
        while sum(tally.accepted.values()) < total * fraction:
            await asyncio.sleep(0.02)
        upstream[0].send_signal(signal.SIGKILL)
        upstream[0].wait()
        events.append(f"Upstream getötet bei {sum(tally.accepted.values())} angenommenen Mails")
        await asyncio.sleep(1.5)
        upstream[0] = await asyncio.to_thread(start_upstream, port, log_path)
        events.append(f"Upstream neu gestartet bei {sum(tally.accepted.values())} angenommenen Mails")


async def run_clients(total: int, clients: int, proxy_port: int, upstream: list[subprocess.Popen[bytes]],
                      upstream_port: int, log_path: Path) -> tuple[Tally, list[str], float]:
    """All clients plus the chaos task; returns the tally, the chaos events and the elapsed time."""
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for n in range(total):
        queue.put_nowait((n, 0))
    tally, events = Tally(), list[str]()
    start = time.monotonic()
    stop_at = start + DEADLINE
    chaos_task = asyncio.create_task(chaos(tally, total, upstream, upstream_port, log_path, events))
    # Clients leave when the queue is momentarily empty; re-run them until every retry is done.
    while not queue.empty() and time.monotonic() < stop_at:
        await asyncio.gather(*(client_loop(proxy_port, queue, tally, stop_at) for _ in range(clients)))
    chaos_task.cancel()
    return tally, events, time.monotonic() - start


def tracker_mails(db: Path) -> int:
    """How many mails the tracker recorded."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM mails").fetchone()[0])
    finally:
        conn.close()


def main() -> int:
    """Run the chaos test and print the counts; exit 1 when a message was lost or bounced."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--upstream-child", nargs=2, metavar=("PORT", "LOG"))
    args = parser.parse_args()
    if args.upstream_child:
        asyncio.run(serve_upstream(int(args.upstream_child[0]), Path(args.upstream_child[1])))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="chaos-proxy-"))
    log_path, db = folder / "upstream.log", folder / "tracker.sqlite3"
    upstream_port, proxy_port = free_port(), free_port()
    upstream = [start_upstream(upstream_port, log_path)]
    with (folder / "proxy.log").open("wb") as proxy_log:
        proxy = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "proxy", "--listen", f"127.0.0.1:{proxy_port}",
             "--upstream", f"127.0.0.1:{upstream_port}", "--db", str(db), "--timeout", "5",
             "--log-level", "warning"], cwd=ROOT, stderr=proxy_log)
    try:
        wait_port(proxy_port, proxy)
        tally, events, elapsed = asyncio.run(
            run_clients(args.messages, args.clients, proxy_port, upstream, upstream_port, log_path))
    finally:
        # The proxy finishes its analysis backlog before it exits: that is when the tracker is complete.
        stopping = time.monotonic()
        proxy.send_signal(signal.SIGTERM)
        proxy_code = proxy.wait(120)
        events.append(f"Proxy beendet {time.monotonic() - stopping:.1f} s nach SIGTERM (Analysen nachgetragen)")
        upstream[0].send_signal(signal.SIGKILL)
        upstream[0].wait()
    return report(args.messages, tally, events, elapsed, log_path, db, proxy_code, folder)


def report(total: int, tally: Tally, events: list[str], elapsed: float, log_path: Path, db: Path,
           proxy_code: int, folder: Path) -> int:
    """Print the counts; 1 when anything was lost or bounced."""
    arrived = collections.Counter(line for line in log_path.read_text().splitlines() if line)
    lost = [mid for mid in tally.accepted if mid not in arrived]
    duplicates = sum(1 for count in arrived.values() if count > 1)
    bounced = sum(count for code, count in tally.codes.items() if 500 <= code < 600)
    four = sum(count for code, count in tally.codes.items() if 400 <= code < 500)
    for event in events:
        print(event)
    print(f"gesendet (Nachrichten): {total}, Versuche: {sum(tally.codes.values())}, Dauer {elapsed:.1f} s")
    print(f"250: {sum(tally.accepted.values())} (verschiedene Message-IDs: {len(tally.accepted)})")
    print(f"4xx: {four}  Verbindungsfehler: {tally.codes.get(0, 0)} {dict(tally.errors)}")
    print(f"5xx (Bounces): {bounced}")
    print(f"verloren (250, aber nie beim Upstream): {len(lost)}")
    print(f"Duplikate beim Upstream: {duplicates}")
    print(f"aufgegeben nach {MAX_ATTEMPTS} Versuchen: {len(tally.gave_up)}")
    print(f"Tracker: {tracker_mails(db)} Mails erfasst; Proxy-Exit-Code {proxy_code}; Logs in {folder}")
    return 1 if lost or bounced or tally.gave_up else 0


if __name__ == "__main__":
    sys.exit(main())

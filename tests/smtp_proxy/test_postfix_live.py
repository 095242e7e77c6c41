"""The proxy behind a live, private Postfix on loopback, configured exactly as docs/deployment.md says.

client -> Postfix smtpd (content_filter or smtpd_proxy_filter) -> `versprochen proxy` (subprocess, real
engine and tracker) -> Postfix re-injection smtpd -> queue -> smtp -> relayhost = a capturing sink.
"""

from __future__ import annotations

import re
import shutil
import smtplib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.smtp_proxy.helpers import tracker_rows
from tests.smtp_proxy.postfix_live import (
    Ports,
    PostfixInstance,
    ProxyProcess,
    documented_config,
    skip_reason,
    wait_for,
)
from tests.smtp_proxy.support import CaptureHandler, Received, UpstreamController, free_port

pytestmark = [pytest.mark.slow, pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))]

SENDER, RECIPIENT = "anna@firma.example", "max@kunde.example"
BODY = ("Guten Tag Herr Berger,\r\n\r\nvielen Dank für Ihre Anfrage. Ich schicke Ihnen das Angebot bis "
        "Freitag.\r\n\r\nMit freundlichen Grüßen\r\nAnna Schmidt\r\n").encode()
HEADER = re.compile(rb"^X-Versprochen: (\d+) Zusagen?(?:; naechste Frist (\S+))?\r\n", re.MULTILINE)
# Postfix refuses a message at hopcount_limit (50) Received lines; the intake adds one, the
# re-injection another: 48 pass the intake and make the re-injection answer 554 to the proxy.
LOOPING_HOPS = 48


@dataclass
class Live:
    """The running topology."""

    postfix: PostfixInstance
    proxy: ProxyProcess
    sink: CaptureHandler


def head(message_id: str, hops: int = 0) -> bytes:
    """Header block of a test mail (with `hops` Received lines, as a mail loop would carry)."""
    received = "".join(f"Received: from hop{i}.example by hop{i + 1}.example; "
                       "Mon, 23 Nov 2026 09:00:00 +0100\r\n" for i in range(hops))
    return (f"{received}From: Anna Schmidt <{SENDER}>\r\nTo: Max Berger <{RECIPIENT}>\r\n"
            f"Subject: Angebot\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\nMessage-ID: {message_id}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n").encode()


def submit(port: int, data: bytes) -> tuple[int, str]:
    """One SMTP transaction to a Postfix smtpd; the reply to the end of DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo("client.example")
        client.mail(SENDER)
        client.rcpt(RECIPIENT)
        code, text = client.data(data)
        return code, text.decode()


def delivered(sink: CaptureHandler, message_id: str) -> Received | None:
    """The message with this Message-ID as the relayhost received it, if it arrived."""
    marker = f"Message-ID: {message_id}\r\n".encode()
    return next((m for m in sink.messages if marker in m.data and m.mail_from == SENDER), None)


def bounces(sink: CaptureHandler, message_id: str) -> list[Received]:
    """Bounces (null sender; aiosmtpd keeps it as '<>') that quote this Message-ID."""
    return [m for m in sink.messages if m.mail_from in ("", "<>") and message_id.encode() in m.data]


def rows_for(db: Path, message_id: str) -> list[dict[str, str]]:
    """The tracker's promise rows of one message."""
    if not db.exists():
        return []
    return [dict(r) for r in tracker_rows(db) if r["message_id"] == message_id]


def assert_relayed_unchanged(live: Live, message_id: str, original: bytes) -> bytes:
    """The sink got the message once, with exactly one X-Versprochen line; the original bytes unchanged."""
    got = wait_for(lambda: delivered(live.sink, message_id), 30, f"{message_id} at the sink")
    assert sum(1 for m in live.sink.messages if message_id.encode() in m.data) == 1
    assert got.mail_from == SENDER and got.rcpt_tos == [RECIPIENT]
    headers, _, body = got.data.partition(b"\r\n\r\n")
    assert body == BODY
    assert len(HEADER.findall(got.data)) == 1 == got.data.count(b"X-Versprochen:")
    # Postfix adds only its Received lines; our header sits above the intake's Received line.
    assert headers.endswith(original.partition(b"\r\n\r\n")[0])
    match = HEADER.search(headers)
    assert match is not None
    return match.group(0)


def queue_empty(live: Live) -> bool:
    """True when Postfix holds no message any more."""
    return not live.postfix.queue()


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    """Sink, private Postfix and proxy subprocess on free ports; everything stopped and removed after."""
    root = Path(tempfile.mkdtemp(prefix="versprochen-postfix-"))
    ports = Ports(intake=free_port(), before=free_port(), proxy=free_port(), reinject=free_port(),
                  sink=free_port())
    sink = UpstreamController(CaptureHandler(), hostname="127.0.0.1", port=ports.sink,
                              enable_SMTPUTF8=True, data_size_limit=None, server_hostname="sink")
    postfix = PostfixInstance(root, ports, documented_config())
    proxy = ProxyProcess(ports.proxy, ports.reinject, root / "tracker.sqlite3", root / "proxy.log")
    sink.start()
    try:
        postfix.start()
        proxy.start()
        yield Live(postfix, proxy, sink.handler)
    finally:
        try:
            proxy.stop()
        finally:
            postfix.stop()
            sink.stop()
            # Shown by pytest only when a test failed: what Postfix and the proxy logged.
            print(postfix.log()[-8000:], proxy.log.read_text()[-4000:] if proxy.log.exists() else "")
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _independent(live: Live) -> Iterator[None]:
    """A failed test leaves neither a stopped proxy nor queued mail behind for the next one."""
    if live.proxy.process is None or live.proxy.process.poll() is not None:
        live.proxy.stop()
        live.proxy.start()
    yield
    live.postfix.purge()


def test_content_filter_relays_with_one_header_and_records_the_promise(live: Live) -> None:
    message_id = "<cf-1@firma.example>"
    original = head(message_id) + b"\r\n" + BODY
    code, text = submit(live.postfix.ports.intake, original)
    assert code == 250, text
    header = assert_relayed_unchanged(live, message_id, original)
    rows = wait_for(lambda: rows_for(live.proxy.db, message_id), 20, "the promise in the tracker")
    match = HEADER.match(header)
    assert match is not None and int(match.group(1)) == len(rows) >= 1
    assert "2026-11-27" in {r["due"][:10] for r in rows if r["due"]}
    assert all(r["state"] == "open" for r in rows)
    wait_for(lambda: queue_empty(live), 10, "an empty queue")
    assert f"relay=127.0.0.1[127.0.0.1]:{live.postfix.ports.proxy}" in live.postfix.log()


def test_locally_submitted_mail_is_filtered_too(live: Live) -> None:
    message_id = "<pickup-1@firma.example>"
    original = head(message_id) + b"\r\n" + BODY
    live.postfix.sendmail(original, SENDER, RECIPIENT)
    assert_relayed_unchanged(live, message_id, original)
    assert wait_for(lambda: rows_for(live.proxy.db, message_id), 20, "the promise in the tracker")


def test_proxy_down_defers_without_bounce_then_flush_delivers(live: Live) -> None:
    message_id = "<cf-down@firma.example>"
    original = head(message_id) + b"\r\n" + BODY
    assert live.proxy.stop() == 0
    code, text = submit(live.postfix.ports.intake, original)
    assert code == 250, text

    def deferred() -> list[dict[str, Any]]:
        return [q for q in live.postfix.queue() if q["queue_name"] == "deferred"]

    entries = wait_for(deferred, 20, "Postfix to defer the mail")
    assert len(entries) == 1 and "Connection refused" in str(entries[0]["recipients"])
    # The before-queue variant tells its client directly: a temporary failure, nothing queued.
    code, text = submit(live.postfix.ports.before, head("<pf-down@firma.example>") + b"\r\n" + BODY)
    assert 400 <= code < 500, text
    live.proxy.start()
    # Still queued after the restart (the next queue run is minutes away): the flush delivers it.
    assert delivered(live.sink, message_id) is None and bounces(live.sink, message_id) == []
    live.postfix.flush()
    assert_relayed_unchanged(live, message_id, original)
    assert bounces(live.sink, message_id) == []
    wait_for(lambda: queue_empty(live), 10, "an empty queue")
    assert wait_for(lambda: rows_for(live.proxy.db, message_id), 20, "the promise in the tracker")
    # Refused before the queue: never delivered later, never recorded.
    assert delivered(live.sink, "<pf-down@firma.example>") is None
    assert rows_for(live.proxy.db, "<pf-down@firma.example>") == []


def test_upstream_5xx_bounces_and_records_nothing(live: Live) -> None:
    message_id = "<cf-loop@firma.example>"
    code, text = submit(live.postfix.ports.intake, head(message_id, LOOPING_HOPS) + b"\r\n" + BODY)
    assert code == 250, text
    bounce = wait_for(lambda: bounces(live.sink, message_id), 30, "a bounce at the sink")
    assert len(bounce) == 1 and bounce[0].rcpt_tos == [SENDER]
    assert b"too many hops" in bounce[0].data
    assert delivered(live.sink, message_id) is None
    wait_for(lambda: queue_empty(live), 10, "an empty queue (bounced, not deferred)")
    assert re.search(rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{live.postfix.ports.proxy}.*status=bounced",
                     live.postfix.log())
    assert rows_for(live.proxy.db, message_id) == []


def test_before_queue_proxy_filter_relays_and_answers_5xx_directly(live: Live) -> None:
    message_id = "<pf-1@firma.example>"
    original = head(message_id) + b"\r\n" + BODY
    code, text = submit(live.postfix.ports.before, original)
    assert code == 250, text
    assert_relayed_unchanged(live, message_id, original)
    assert wait_for(lambda: rows_for(live.proxy.db, message_id), 20, "the promise in the tracker")
    looping = "<pf-loop@firma.example>"
    code, text = submit(live.postfix.ports.before, head(looping, LOOPING_HOPS) + b"\r\n" + BODY)
    assert code == 554 and "too many hops" in text, (code, text)
    # The client saw the refusal: Postfix neither queues nor bounces it.
    assert queue_empty(live)
    assert bounces(live.sink, looping) == [] and rows_for(live.proxy.db, looping) == []

"""Proxy test support: a capturing upstream with injectable faults, a fake engine, threaded proxies."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from server.engine.types import Analysis, Deadline, MailStructure, Promise, Severity
from smtp_proxy.server import ProxyServer


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (Controller cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One message as the upstream saw it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    mail_options: list[str]


@dataclass
class CaptureHandler:
    """Upstream that stores messages; `mode` injects a fault at the end of DATA."""

    messages: list[Received] = field(default_factory=list)
    mode: str = "ok"  # ok | 4xx | 5xx | 421 | stall | drop
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    refuse_mail: str | None = None
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        if self.refuse_mail:
            return self.refuse_mail
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.mode == "4xx":
            return "450 4.2.0 Mailbox voruebergehend gesperrt"
        if self.mode == "5xx":
            return "554 5.7.1 Inhalt abgelehnt"
        if self.mode == "421":
            return "421 4.3.2 Service wird beendet"
        if self.mode == "stall":
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 20)
            return "250 OK spaet"
        if self.mode == "drop":
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
            return "250 OK nie gesendet"
        assert isinstance(envelope.original_content, bytes)
        self.messages.append(Received(envelope.mail_from or "", list(envelope.rcpt_tos),
                                      envelope.original_content, list(envelope.mail_options)))
        return "250 2.0.0 Ok: queued"


class UpstreamSMTP(SMTP):
    """An upstream session that accepts long lines (like Postfix does)."""

    line_length_limit = 20_000_000


class UpstreamController(Controller):
    """aiosmtpd Controller whose sessions accept long lines."""

    def factory(self) -> SMTP:
        """The session object with Postfix-like limits."""
        return UpstreamSMTP(self.handler, **self.SMTP_kwargs)


PROMISE_MARK = re.compile(r"ZUSAGE(?: bis (\d{4}-\d\d-\d\d(?:T\d\d:\d\d)?))?")


class FakeAnalyzer:
    """Deterministic stand-in for the engine: 'ZUSAGE [bis DATE]' is a promise; can stall or fail."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.calls = 0

    def analyze(self, text: str, sent: datetime | None = None) -> Analysis:
        """Promises at every ZUSAGE mark; 'LANGSAM' waits for the gate, 'ABSTURZ' raises."""
        self.calls += 1
        if "LANGSAM" in text:
            self.gate.wait(20)
        if "ABSTURZ" in text:
            raise RuntimeError("kaputt")
        promises = []
        for m in PROMISE_MARK.finditer(text):
            text = m.group(1) or ""
            due: date | datetime | None = datetime.fromisoformat(text) if "T" in text \
                else date.fromisoformat(text) if text else None
            deadline = Deadline(m.start(), m.end(), m.group(0), due) if due else None
            promises.append(Promise(m.start(), m.end(), m.group(0), "explicit", "medium", "Zusage",
                                    "Zusage", "Test", Severity.WARNING, deadline=deadline, object="Test"))
        return Analysis(text=text, sent=sent or datetime.now(), mail=MailStructure(),
                        promises=tuple(promises))


class SlowAnalyzer(FakeAnalyzer):
    """A fake engine for worker processes: 'LANGSAM' takes a second (no gate across processes)."""

    def analyze(self, text: str, sent: datetime | None = None) -> Analysis:
        """Sleep a second for 'LANGSAM', then behave like FakeAnalyzer."""
        if "LANGSAM" in text:
            time.sleep(1.0)
        return super().analyze(text.replace("LANGSAM", ""), sent)


class RunningProxy:
    """A ProxyServer on its own event loop in a background thread (tests talk to it with smtplib)."""

    def __init__(self, server: ProxyServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(server.start())

    def call(self, coro: Any, timeout: float = 60) -> Any:
        """Run a coroutine on the proxy's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def port(self) -> int:
        """The proxy's listening port."""
        return self.server.port

    def drain(self) -> None:
        """Wait until the tracker has recorded everything accepted so far."""
        if self.server.recorder is not None:
            self.call(self.server.recorder.drain())

    def stop(self) -> None:
        """Stop the proxy and its loop."""
        try:
            self.call(self.server.stop(grace=5))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


ProxyFactory = Callable[..., RunningProxy]

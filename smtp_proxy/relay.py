"""The relay to the upstream MTA: one SMTP transaction per message over reused connections.

Only an upstream 250 to the final dot counts as accepted. Every failure on the way (no connection,
timeout, dropped connection, 421, a protocol surprise) becomes a 4xx for our client; an upstream 5xx
is passed through. Recipients are all-or-nothing: if the upstream refuses any of them the message is
not sent at all (a 5xx only when it refused every recipient permanently, otherwise 451), so a message
is never delivered to part of its envelope while the client believes something else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib
from aiosmtplib import SMTPResponse

log = logging.getLogger(__name__)

# A pooled connection idle longer than this is closed instead of reused (Postfix's smtpd drops idle
# clients after 300 s; staying well below avoids racing its timeout).
MAX_IDLE_SECONDS = 60.0
MAX_REPLY_TEXT = 400


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer for our client: a status code and one line of text."""

    code: int
    text: str

    @property
    def accepted(self) -> bool:
        """True only for the upstream's 250 to the end of DATA."""
        return self.code == 250

    def status(self) -> str:
        """The reply line as aiosmtpd pushes it."""
        return f"{self.code} {self.text}"


# Our own failures; reply texts stay US-ASCII (RFC 5321), hence the transliterated German.
UNREACHABLE = Verdict(451, "4.4.1 Upstream-Server nicht erreichbar, bitte spaeter erneut versuchen")
TIMEOUT = Verdict(451, "4.4.2 Zeitueberschreitung beim Upstream-Server, bitte spaeter erneut versuchen")
DROPPED = Verdict(451, "4.4.2 Verbindung zum Upstream-Server abgebrochen, bitte spaeter erneut versuchen")
PROTOCOL = Verdict(451, "4.5.0 Unerwartete Antwort des Upstream-Servers, bitte spaeter erneut versuchen")


class _Retry(Exception):
    """A reused connection turned out stale before any data was sent: safe to try a fresh one."""


def clean_text(text: str) -> str:
    """An upstream reply text made safe for one reply line (no CR/LF or controls, bounded length)."""
    flat = " ".join(text.split())
    flat = "".join(ch for ch in flat if ch.isprintable())
    return flat[:MAX_REPLY_TEXT] or "(ohne Text)"


def from_upstream(response: SMTPResponse, stage: str) -> Verdict:
    """Our client's answer for an upstream refusal: 5xx passes through, 421 and oddities become 451."""
    text = clean_text(response.message)
    if 500 <= response.code < 600:
        return Verdict(response.code, text)
    if 400 <= response.code < 500 and response.code != 421:
        return Verdict(response.code, text)
    if response.code == 421:
        return Verdict(451, f"4.4.2 Upstream bei {stage}: {text}")
    return Verdict(451, f"4.5.0 Unerwartete Upstream-Antwort bei {stage}: {response.code} {text}")


def recipients_verdict(refused: Sequence[tuple[str, SMTPResponse]], total: int) -> Verdict:
    """All-or-nothing: 5xx only when every recipient was refused permanently, else 451."""
    if len(refused) == total and all(500 <= r.code < 600 for _, r in refused):
        return from_upstream(refused[0][1], "RCPT")
    named = "; ".join(f"{addr}: {r.code} {clean_text(r.message)}" for addr, r in refused[:3])
    return Verdict(451, clean_text(f"4.5.3 Upstream lehnt Empfaenger ab ({named}); keine Teilzustellung"))


class UpstreamRelay:
    """Sends messages to the upstream MTA, keeping idle connections for reuse."""

    def __init__(self, host: str, port: int, *, timeout: float, pool_size: int,
                 local_hostname: str) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.pool_size = pool_size
        self.local_hostname = local_hostname
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self.connections_opened = 0

    async def send(self, mail_from: str, recipients: Sequence[str], data: bytes, *,
                   smtputf8: bool = False, eight_bit: bool = False) -> Verdict:
        """Relay one message; never raises for upstream trouble, returns the client's verdict."""
        for _attempt in range(2):
            acquired = await self._acquire()
            if isinstance(acquired, Verdict):
                return acquired
            client, reused = acquired
            clean = False
            try:
                verdict = await self._transaction(client, mail_from, recipients, data,
                                                  smtputf8=smtputf8, eight_bit=eight_bit, reused=reused)
                clean = True
                return verdict
            except _Retry:
                continue
            except aiosmtplib.SMTPTimeoutError:
                return TIMEOUT
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError, OSError):
                return DROPPED
            finally:
                self._release(client, keep=clean)
        return DROPPED

    async def _acquire(self) -> tuple[aiosmtplib.SMTP, bool] | Verdict:
        """A connected client and whether it was reused, or the verdict when connecting failed."""
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and now - since < MAX_IDLE_SECONDS:
                return client, True
            client.close()
        client = aiosmtplib.SMTP(hostname=self.host, port=self.port, timeout=self.timeout,
                                 local_hostname=self.local_hostname, start_tls=False)
        try:
            await client.connect()
            await client.ehlo()
        except aiosmtplib.SMTPTimeoutError:
            client.close()
            return TIMEOUT
        except aiosmtplib.SMTPResponseException as exc:
            # A refusal before any message was offered is never the message's fault: defer it.
            client.close()
            text = f"4.4.1 Upstream beim Verbindungsaufbau: {exc.code} {exc.message}"
            return Verdict(451, clean_text(text))
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("Upstream %s:%s nicht erreichbar: %s", self.host, self.port, exc)
            client.close()
            return UNREACHABLE
        self.connections_opened += 1
        return client, False

    def _release(self, client: aiosmtplib.SMTP, *, keep: bool) -> None:
        # A connection is reused only after a transaction that ended in a known state.
        if keep and client.is_connected and len(self._idle) < self.pool_size:
            self._idle.append((client, time.monotonic()))
        else:
            client.close()

    async def _transaction(self, client: aiosmtplib.SMTP, mail_from: str, recipients: Sequence[str],
                           data: bytes, *, smtputf8: bool, eight_bit: bool, reused: bool) -> Verdict:
        options = []
        if smtputf8:
            if not client.supports_extension("smtputf8"):
                # Postfix defers such mail the same way; the admin must enable SMTPUTF8 upstream.
                return Verdict(451, "4.6.7 Upstream bietet kein SMTPUTF8 an")
            options.append(b"SMTPUTF8")
        if eight_bit and client.supports_extension("8bitmime"):
            options.append(b"BODY=8BITMIME")
        if client.supports_extension("size"):
            options.append(b"SIZE=%d" % len(data))
        try:
            reply = await client.execute_command(b"MAIL", b"FROM:<" + _wire(mail_from) + b">", *options)
        except aiosmtplib.SMTPServerDisconnected:
            if reused:
                raise _Retry from None
            raise
        if reply.code == 421 and reused:
            raise _Retry
        if reply.code != 250:
            await _reset(client)
            return from_upstream(reply, "MAIL")
        refused = []
        for rcpt in recipients:
            reply = await client.execute_command(b"RCPT", b"TO:<" + _wire(rcpt) + b">")
            if reply.code not in (250, 251):
                refused.append((rcpt, reply))
        if refused:
            await _reset(client)
            return recipients_verdict(refused, len(recipients))
        return await _data(client, data)


def _wire(address: str) -> bytes:
    # aiosmtpd decodes envelope addresses with surrogateescape: this restores the client's bytes.
    return address.encode("utf-8", "surrogateescape")


async def _reset(client: aiosmtplib.SMTP) -> None:
    """RSET after a refused MAIL/RCPT so the connection can carry the next message."""
    reply = await client.execute_command(b"RSET")
    if reply.code != 250:
        client.close()


async def _data(client: aiosmtplib.SMTP, data: bytes) -> Verdict:
    """DATA, the content, the final dot; the verdict is the upstream's reply to the dot."""
    try:
        response = await client.data(data)
    except aiosmtplib.SMTPDataError as exc:
        if exc.code == 421:
            client.close()
        return from_upstream(SMTPResponse(exc.code, exc.message), "DATA")
    return Verdict(250, clean_text(f"2.0.0 Ok, upstream: {response.message}"))


async def close_idle(relay: UpstreamRelay) -> None:
    """Politely end the idle upstream connections (QUIT, bounded by a short timeout)."""
    idle, relay._idle = relay._idle, []
    for client, _since in idle:
        try:
            await asyncio.wait_for(client.quit(), timeout=2)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()

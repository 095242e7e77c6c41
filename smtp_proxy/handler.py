"""The aiosmtpd side: one handler per proxy and an SMTP session class with Postfix-like limits.

The reply to the end of DATA is the upstream's verdict for that very message; whatever goes wrong
on our side becomes a 451, never aiosmtpd's default 500 (which would bounce the mail).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any, Protocol

from aiosmtpd.smtp import SMTP, Envelope, Session

from smtp_proxy.extract import PENDING, Extraction
from smtp_proxy.recorder import TrackerRecorder
from smtp_proxy.relay import UpstreamRelay, Verdict
from smtp_proxy.settings import LINE_LENGTH_LIMIT, Network, peer_allowed

log = logging.getLogger(__name__)

INTERNAL_ERROR = Verdict(451, "4.3.0 Interner Fehler im Proxy, bitte spaeter erneut versuchen")
ACCESS_DENIED = "421 4.7.1 Zugriff verweigert: Client nicht in --allow"


class Extractor(Protocol):
    """Anything that turns raw message bytes into an `Extraction` without raising."""

    async def extract(self, raw: bytes, envelope_from: str, envelope_to: list[str]) -> Extraction:
        """The extraction for one message."""
        ...

    def settle(self, ticket: int, accepted: bool) -> None:
        """The upstream's verdict for a message a worker analysed (it records accepted mail)."""
        ...


class ProxyHandler:
    """Extract, prepend one header, relay, answer with the upstream's verdict, then record."""

    def __init__(self, relay: UpstreamRelay, extractor: Extractor, recorder: TrackerRecorder | None) -> None:
        self.relay = relay
        self.extractor = extractor
        self.recorder = recorder
        self.stats: Counter[str] = Counter()
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Relay the message; the returned status line is the upstream's verdict (or our 451)."""
        self.in_flight += 1
        self.idle.clear()
        try:
            return (await self._relay(envelope)).status()
        except Exception:
            log.exception("Fehler beim Weiterleiten von %s", session.peer)
            self.stats["internal_error"] += 1
            return INTERNAL_ERROR.status()
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.set()

    async def _relay(self, envelope: Envelope) -> Verdict:
        raw = envelope.original_content
        if not isinstance(raw, bytes):
            return INTERNAL_ERROR
        mail_from = envelope.mail_from or ""
        extraction = await self.extractor.extract(raw, mail_from, list(envelope.rcpt_tos))
        accepted = False
        try:
            # Only a header line is prepended; the client's bytes follow untouched (DKIM stays valid).
            verdict = await self.relay.send(
                mail_from, envelope.rcpt_tos, extraction.header_bytes() + raw, smtputf8=envelope.smtp_utf8,
                eight_bit="BODY=8BITMIME" in envelope.mail_options)
            accepted = verdict.accepted
        finally:
            # Also on errors and cancellation: the worker must learn the fate of its analysis.
            if extraction.ticket is not None:
                self.extractor.settle(extraction.ticket, accepted)
        self._count(extraction, verdict)
        if accepted and self.recorder is not None and extraction.analysis is not None and extraction.facts:
            self.recorder.submit(extraction.facts, extraction.analysis)
        message_id = extraction.facts.message_id if extraction.facts else "?"
        log.info("%s von <%s> an %d Empfänger: %s [%s]", message_id, mail_from,
                 len(envelope.rcpt_tos), verdict.status(), extraction.header)
        return verdict

    def _count(self, extraction: Extraction, verdict: Verdict) -> None:
        self.stats["messages"] += 1
        self.stats[f"{verdict.code // 100}xx"] += 1
        if extraction.error:
            self.stats[f"extract_{extraction.error}"] += 1
        elif extraction.header == PENDING:
            self.stats["pending"] += 1
        else:
            self.stats["tagged"] += 1

    async def handle_exception(self, error: Exception) -> str:
        """Any exception in a session becomes a 451 (aiosmtpd would answer 500 and bounce the mail)."""
        log.error("Fehler in der SMTP-Sitzung: %r", error, exc_info=error)
        self.stats["internal_error"] += 1
        return INTERNAL_ERROR.status()


class ProxySMTP(SMTP):
    """An SMTP session with Postfix's limits and a client allow-list checked before the greeting."""

    # No practical line limit: Postfix accepts long lines (it splits them), so refusing one here
    # would bounce a mail that Postfix accepted. The size limit bounds memory instead.
    line_length_limit = LINE_LENGTH_LIMIT

    def __init__(self, handler: ProxyHandler, *, allow: tuple[Network, ...], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.allow = allow

    async def _handle_client(self) -> None:
        # aiosmtpd has no public hook before the greeting; refuse with 421 so a misconfigured
        # Postfix keeps its mail queued instead of bouncing it.
        if self.session is not None and not peer_allowed(self.session.peer, self.allow):
            log.warning("Verbindung von %s abgewiesen (nicht in --allow)", self.session.peer)
            await self.push(ACCESS_DENIED)
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()

    async def handle_exception(self, error: Exception) -> str:
        """Reset the half-finished transaction so the client's next MAIL is not a 503."""
        self._set_rset_state()  # type: ignore[no-untyped-call]
        return await super().handle_exception(error)

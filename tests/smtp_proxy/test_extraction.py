"""Extraction is best effort: header text, facts for the tracker, failures and the time budget."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from server.engine.types import Analysis, Deadline, MailStructure, Promise, Severity
from smtp_proxy.extract import analyze_message, header_value, mail_facts, trim_for_analysis
from smtp_proxy.pool import ExtractionPool, ExtractionStartError
from tests.smtp_proxy.helpers import mail, send, split_header, tracker_rows
from tests.smtp_proxy.support import CaptureHandler, FakeAnalyzer, ProxyFactory, UpstreamController


def promise(due: date | datetime | None, *, vague: bool = False) -> Promise:
    deadline = Deadline(0, 5, "bald" if vague else "bis dann", due, vague=vague) if due or vague else None
    return Promise(0, 5, "Zusage", "explicit", "medium", "Zusage", "m", "r", Severity.WARNING,
                   deadline=deadline)


def analysis(*promises: Promise) -> Analysis:
    return Analysis(text="", sent=datetime(2026, 11, 23, 10), mail=MailStructure(), promises=promises)


def test_header_value_counts_and_names_the_earliest_due() -> None:
    assert header_value(analysis()) == "0 Zusagen"
    assert header_value(analysis(promise(None))) == "1 Zusage"
    assert header_value(analysis(promise(None, vague=True), promise(date(2026, 12, 4)))) == \
        "2 Zusagen; naechste Frist 2026-12-04"
    assert header_value(analysis(promise(date(2026, 11, 27)), promise(datetime(2026, 11, 26, 14)))) == \
        "2 Zusagen; naechste Frist 2026-11-26T14:00"


def parsed(**headers: Any) -> SimpleNamespace:
    fields = {"from_": None, "to": None, "cc": None, "subject": None, "date": None, "message_id": None,
              "in_reply_to": None, "references": None}
    fields.update(headers)
    return SimpleNamespace(headers=SimpleNamespace(**fields), body="Text", warnings=[])


def test_mail_facts_from_headers() -> None:
    sent = datetime(2026, 11, 23, 10, tzinfo=timezone(timedelta(hours=1)))
    facts = mail_facts(parsed(from_="Anna <anna@firma.example>",
                              to="Max <max@kunde.example>, b@kunde.example",
                              cc=["Einkauf <einkauf@kunde.example>"], subject="Angebot", date=sent,
                              message_id="<m@firma.example>", in_reply_to="<a@kunde.example>",
                              references="<x@kunde.example> <a@kunde.example>"),
                       b"raw", "env@firma.example", ["env@kunde.example"], datetime(2026, 1, 1))
    assert facts.recipients == ("Max <max@kunde.example>", "b@kunde.example",
                                "Einkauf <einkauf@kunde.example>")
    assert (facts.sender, facts.subject, facts.message_id) == ("Anna <anna@firma.example>", "Angebot",
                                                               "<m@firma.example>")
    assert facts.sent == sent.astimezone().replace(tzinfo=None) and facts.sent.tzinfo is None
    assert facts.in_reply_to == "<a@kunde.example>"
    assert facts.references == ("<x@kunde.example>", "<a@kunde.example>")


def test_mail_facts_fall_back_on_the_envelope_and_a_stable_message_id() -> None:
    now = datetime(2026, 11, 23, 10)
    first = mail_facts(parsed(), b"raw bytes", "env@firma.example", ["x@kunde.example"], now)
    again = mail_facts(parsed(), b"raw bytes", "env@firma.example", ["x@kunde.example"], now)
    other = mail_facts(parsed(), b"other bytes", "env@firma.example", ["x@kunde.example"], now)
    assert (first.sender, first.recipients, first.sent) == ("env@firma.example", ("x@kunde.example",), now)
    assert first.message_id == again.message_id != other.message_id
    assert first.message_id.endswith("@versprochen.invalid>")


def test_parse_failure_is_error_parse() -> None:
    def broken(raw: bytes) -> Any:
        raise ValueError("kaputt")

    result = analyze_message(b"x", FakeAnalyzer(), "a@b", ["c@d"], parse=broken)
    assert (result.header, result.analysis, result.error) == ("error=parse", None, "parse")


def test_engine_failure_is_error_parse() -> None:
    result = analyze_message(b"x", FakeAnalyzer(), "a@b", ["c@d"],
                             parse=lambda raw: SimpleNamespace(headers=parsed().headers, body="ABSTURZ"))
    assert (result.header, result.analysis) == ("error=parse", None)


def test_extraction_timeout_relays_with_error_header_and_records_nothing(
        make_proxy: ProxyFactory, upstream: UpstreamController, tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    slow = FakeAnalyzer()
    slow.gate.clear()
    proxy = make_proxy(upstream.port, analyzer=slow, db=db, extract_budget=0.3)
    original = mail("Bitte LANGSAM lesen: ZUSAGE bis 2026-11-27.\r\n", "<slow@firma.example>")
    try:
        code, text = send(proxy.port, original)
    finally:
        slow.gate.set()
    assert code == 250, text
    handler: CaptureHandler = upstream.handler
    header, rest = split_header(handler.messages[0].data)
    assert (header, rest) == (b"X-Versprochen: error=timeout\r\n", original)
    proxy.drain()
    assert tracker_rows(db, "mails") == []


class Hanging:
    """An analyzer that never returns for 'HAENGT' and kills its process for 'STIRB'."""

    def analyze(self, text: str, sent: datetime | None = None) -> Analysis:
        """Hang, die, or find nothing."""
        if "HAENGT" in text:
            time.sleep(3600)
        if "STIRB" in text:
            os._exit(3)
        return analysis()


def fails_to_build() -> Any:
    raise RuntimeError("Lexikon kaputt")


async def until_ok(pool: ExtractionPool, raw: bytes, limit: float = 60) -> str:
    """Extract until the worker answers normally again (a replaced worker needs a moment to start)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        result = await pool.extract(raw, "a@b", ["c@d"])
        if result.error is None and result.header != "pending":
            return result.header
        await asyncio.sleep(0.1)
    raise AssertionError("Worker kam nicht zurück")


@pytest.mark.slow
async def test_a_hung_worker_process_is_replaced() -> None:
    pool = ExtractionPool(Hanging, workers=1, budget=0.3, hang_limit=1.0)
    await pool.start()
    try:
        hung = await pool.extract(mail("HAENGT\r\n"), "a@b", ["c@d"])
        assert hung.header == "pending"  # the mail does not wait for it
        deadline = time.monotonic() + 20
        while pool.restarts == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # the watchdog replaces the worker past the hang limit
        assert pool.restarts == 1
        assert await until_ok(pool, mail("normal\r\n")) == "0 Zusagen"
    finally:
        await pool.close()


@pytest.mark.slow
async def test_a_crashed_worker_process_is_replaced() -> None:
    pool = ExtractionPool(Hanging, workers=1, budget=5.0)
    await pool.start()
    try:
        died = await pool.extract(mail("STIRB\r\n"), "a@b", ["c@d"])
        assert died.header == "error=unavailable"
        assert await until_ok(pool, mail("normal\r\n")) == "0 Zusagen"
        assert pool.restarts == 1
    finally:
        await pool.close()


@pytest.mark.parametrize("workers", [0, 1])
async def test_engine_build_failure_stops_the_start(workers: int) -> None:
    pool = ExtractionPool(fails_to_build, workers=workers, budget=1.0)
    try:
        with pytest.raises(ExtractionStartError, match="Lexikon kaputt"):
            await pool.start()
    finally:
        await pool.close()


def multipart_mail(*parts: bytes, boundary: bytes = b"XyZ") -> bytes:
    head = b'From: a@b\r\nContent-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\nVorspann\r\n'
    return head + b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + boundary + b"--\r\n"


TEXT_PART = b"Content-Type: text/plain; charset=utf-8\r\n\r\nIch schicke es bis Freitag.\r\n-- \r\nAnna"
PDF_PART = b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK"


def test_trim_cuts_before_the_first_attachment() -> None:
    raw = multipart_mail(TEXT_PART, PDF_PART)
    trimmed = trim_for_analysis(raw)
    assert trimmed.endswith(b"Anna\r\n") and b"application/pdf" not in trimmed


def test_trim_cuts_text_attachments_too_but_keeps_alternatives() -> None:
    inner = (b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n--alt\r\n' + TEXT_PART
             + b"\r\n--alt\r\nContent-Type: text/html\r\n\r\n<p>Hallo</p>\r\n--alt--")
    attached = b"Content-Type: text/plain\r\nContent-Disposition: attachment; filename=log.txt\r\n\r\nLOG"
    trimmed = trim_for_analysis(multipart_mail(inner, attached))
    assert b"<p>Hallo</p>" in trimmed and b"LOG" not in trimmed


def test_trim_reads_upper_case_boundary_parameters() -> None:
    raw = multipart_mail(TEXT_PART, PDF_PART).replace(b"boundary=", b"BOUNDARY=")
    assert b"application/pdf" not in trim_for_analysis(raw)


def test_trim_leaves_plain_mails_and_undeclared_dashes_alone() -> None:
    plain = b"Content-Type: text/plain\r\n\r\nText\r\n--XyZ\r\nContent-Type: application/pdf\r\n\r\nx"
    assert trim_for_analysis(plain) == plain
    only_text = multipart_mail(TEXT_PART)
    assert trim_for_analysis(only_text) == only_text

"""Malformed and unusual input: relayed byte-identical apart from the header, or refused, never lost."""

from __future__ import annotations

import base64
import quopri
import re
from pathlib import Path

import pytest

from tests.smtp_proxy.helpers import send, split_header, tracker_rows
from tests.smtp_proxy.support import CaptureHandler, ProxyFactory, RunningProxy, UpstreamController

SAMPLE = Path("/work/shared/samples/angebot-mit-anhang.eml")
PROMISE = "ZUSAGE bis 2026-11-27"
ONE_PROMISE = b"X-Versprochen: 1 Zusage; naechste Frist 2026-11-27\r\n"
VALID_HEADER = re.compile(rb"X-Versprochen: (\d+) Zusagen?(; naechste Frist [0-9T:-]+)?\r\n|"
                          rb"X-Versprochen: error=parse\r\n")


def head(message_id: str, content_type: str | None, extra: str = "") -> bytes:
    lines = ["From: Anna <anna@firma.example>", "To: Max <max@kunde.example>", "Subject: Test",
             "Date: Mon, 23 Nov 2026 10:00:00 +0100", f"Message-ID: <{message_id}@firma.example>",
             "MIME-Version: 1.0"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart(boundary: str, parts: list[bytes], *, close: bool = True) -> bytes:
    out = b"Vorspann\r\n"
    for part in parts:
        out += f"--{boundary}\r\n".encode() + part + b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return out


BODY_TEXT = f"Guten Tag,\r\nich sende Ihnen {PROMISE} die Unterlagen.\r\nGruss Anna\r\n"
PDF_PART = (b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=a.pdf\r\n\r\n"
            + base64.encodebytes(b"%PDF-1.4 ZUSAGE bis 2030-01-01 " * 50).replace(b"\n", b"\r\n"))

# name -> (message bytes, True when the body text must be decoded well enough to find the promise)
CASES: dict[str, tuple[bytes, bool]] = {
    "latin1-8bit": (head("latin1", "text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: 8bit")
                    + f"Grüße aus Köln, {PROMISE}.\r\n".encode("latin-1"), True),
    "unknown-charset": (head("klingon", "text/plain; charset=x-klingon")
                        + f"Grüße, {PROMISE}.\r\n".encode(), True),
    "wrong-charset-label": (head("label", "text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit")
                            + f"Grüße, {PROMISE}.\r\n".encode("latin-1"), True),
    "no-content-type": (head("noct", None) + f"Hallo, {PROMISE}.\r\n".encode(), True),
    "missing-boundary": (head("nobound", "multipart/mixed")
                         + multipart("xyz", [b"Content-Type: text/plain\r\n\r\n" + BODY_TEXT.encode()]),
                         False),
    "truncated-part": (head("trunc", 'multipart/mixed; boundary="b1"')
                       + multipart("b1", [b"Content-Type: text/plain\r\n\r\n" + BODY_TEXT.encode(),
                                          PDF_PART[:300]], close=False), False),
    "bad-base64": (head("bad64", "text/plain; charset=utf-8", "Content-Transfer-Encoding: base64")
                   + b"SGFsbG8g!!!nicht*base64===\r\nWlVTQUdF\r\n", False),
    "broken-nested-rfc822": (head("nested", 'multipart/mixed; boundary="b2"')
                             + multipart("b2", [b"Content-Type: text/plain\r\n\r\n" + BODY_TEXT.encode(),
                                                b"Content-Type: message/rfc822\r\n\r\nKein: Header\r\n"
                                                b"\xff\xfe kaputt ohne Ende"], close=False), False),
    "garbage-headers": (b"Das ist keine Kopfzeile\r\n\xff\xfe\x00\r\nFrom anna\r\n\r\n"
                        + BODY_TEXT.encode(), False),
    "nul-bytes": (head("nul", "text/plain; charset=utf-8")
                  + f"Hallo\x00 Welt, {PROMISE}.\r\n".encode(), True),
    "html-only": (head("html", "text/html; charset=utf-8")
                  + f"<html><body><p>Guten Tag,</p><p>{PROMISE}.</p></body></html>\r\n".encode(), True),
    "base64-body": (head("b64", "text/plain; charset=utf-8", "Content-Transfer-Encoding: base64")
                    + base64.encodebytes(BODY_TEXT.encode()).replace(b"\n", b"\r\n"), True),
    "quoted-printable": (head("qp", "text/plain; charset=utf-8",
                              "Content-Transfer-Encoding: quoted-printable")
                         + quopri.encodestring(f"Grüße, {PROMISE}.\r\n".encode()), True),
    "attachment-promise-ignored": (head("att", 'multipart/mixed; boundary="b3"')
                                   + multipart("b3", [b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                                                      + BODY_TEXT.encode(), PDF_PART]), True),
    "sample-44kb": (SAMPLE.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), False),
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tracker database of the module's proxy."""
    return tmp_path_factory.mktemp("malformed") / "tracker.sqlite3"


@pytest.fixture(scope="module")
def proxy(upstream: UpstreamController, make_proxy: ProxyFactory, db: Path) -> RunningProxy:
    """One proxy (fake engine, real MIME parser, real tracker) in front of the capturing upstream."""
    return make_proxy(upstream.port, db=db)


def message_id_of(data: bytes) -> str | None:
    match = re.search(rb"Message-ID: (<[^>]+>)", data)
    return match.group(1).decode() if match else None


@pytest.mark.parametrize("name", sorted(CASES))
def test_relayed_byte_identical_with_a_valid_header(name: str, proxy: RunningProxy,
                                                    upstream: UpstreamController, db: Path) -> None:
    original, decodable = CASES[name]
    code, text = send(proxy.port, original)
    assert code == 250, text
    handler: CaptureHandler = upstream.handler
    [got] = handler.messages
    header, rest = split_header(got.data)
    assert rest == original
    assert VALID_HEADER.fullmatch(header), header
    if decodable:
        assert header == ONE_PROMISE
    proxy.drain()
    counted = re.match(rb"X-Versprochen: (\d+)", header)
    message_id = message_id_of(original)
    if counted and message_id:
        rows = [r for r in tracker_rows(db) if r["message_id"] == message_id]
        assert len(rows) == int(counted.group(1))


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_by_upstream_leaves_the_tracker_unchanged(name: str, proxy: RunningProxy,
                                                          upstream: UpstreamController, db: Path) -> None:
    handler: CaptureHandler = upstream.handler
    handler.mode = "5xx"
    original = CASES[name][0].replace(b"@firma.example>", b".refused@firma.example>", 1)
    proxy.drain()
    before = len(tracker_rows(db, "mails"))
    assert send(proxy.port, original)[0] == 554
    proxy.drain()
    assert len(tracker_rows(db, "mails")) == before


def test_bare_lf_lines_are_relayed_as_crlf(proxy: RunningProxy, upstream: UpstreamController) -> None:
    # SMTP cannot carry a bare LF; relaying it verbatim would invite SMTP smuggling upstream, and
    # Postfix (smtpd_forbid_bare_newline) refuses it. So it goes out as CRLF, the only byte change.
    original = head("barelf", "text/plain; charset=utf-8") + f"Zeile eins\nZeile zwei, {PROMISE}\n".encode() \
        + b"Zeile drei\r\n"
    assert send(proxy.port, original)[0] == 250
    handler: CaptureHandler = upstream.handler
    header, rest = split_header(handler.messages[0].data)
    assert rest == original.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert header == ONE_PROMISE

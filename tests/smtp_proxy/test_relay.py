"""Mail safety: 250 only after the upstream's 250, failures are 4xx, 5xx passes through, bytes untouched."""

from __future__ import annotations

import smtplib
import threading
from pathlib import Path

import pytest

from tests.smtp_proxy.helpers import mail, send, split_header, tracker_rows
from tests.smtp_proxy.support import (
    CaptureHandler,
    ProxyFactory,
    RunningProxy,
    UpstreamController,
    free_port,
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tracker database of the module's proxy."""
    return tmp_path_factory.mktemp("relay") / "tracker.sqlite3"


@pytest.fixture(scope="module")
def proxy(upstream: UpstreamController, make_proxy: ProxyFactory, db: Path) -> RunningProxy:
    """One proxy in front of the capturing upstream (a generous timeout: 10 MB must pass under load)."""
    return make_proxy(upstream.port, db=db, timeout=30.0)


def captured(upstream: UpstreamController) -> CaptureHandler:
    handler: CaptureHandler = upstream.handler
    return handler


def test_happy_path_relays_header_plus_original_bytes_and_records(
        proxy: RunningProxy, upstream: UpstreamController, db: Path) -> None:
    original = mail(message_id="<happy@firma.example>")
    code, text = send(proxy.port, original, recipients=("max@kunde.example", "einkauf@kunde.example"))
    assert code == 250, text
    [got] = captured(upstream).messages
    assert got.data == b"X-Versprochen: 1 Zusage; naechste Frist 2026-11-27\r\n" + original
    assert got.mail_from == "anna@firma.example"
    assert got.rcpt_tos == ["max@kunde.example", "einkauf@kunde.example"]
    proxy.drain()
    rows = [r for r in tracker_rows(db) if r["message_id"] == "<happy@firma.example>"]
    assert [(r["quote"], r["due"], r["state"]) for r in rows] == [
        ("ZUSAGE bis 2026-11-27", "2026-11-27", "open")]


def test_header_counts_promises_and_picks_earliest_deadline(
        proxy: RunningProxy, upstream: UpstreamController) -> None:
    body = "ZUSAGE bis 2026-12-04, dann ZUSAGE bis 2026-11-30 und ZUSAGE ohne Datum.\r\n"
    assert send(proxy.port, mail(body, "<three@firma.example>"))[0] == 250
    header, _ = split_header(captured(upstream).messages[0].data)
    assert header == b"X-Versprochen: 3 Zusagen; naechste Frist 2026-11-30\r\n"


def test_upstream_down_is_451_and_tracker_unchanged(make_proxy: ProxyFactory, tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    down = make_proxy(free_port(), db=db)
    code, text = send(down.port, mail(message_id="<down@firma.example>"))
    assert code == 451 and "nicht erreichbar" in text
    down.drain()
    assert tracker_rows(db, "mails") == []


@pytest.mark.parametrize(("mode", "code", "fragment"), [
    ("421", 451, "Service wird beendet"),
    ("4xx", 450, "voruebergehend gesperrt"),
    ("5xx", 554, "Inhalt abgelehnt"),
    ("drop", 451, "abgebrochen"),
])
def test_upstream_refusals_map_to_client_codes_and_record_nothing(
        proxy: RunningProxy, upstream: UpstreamController, db: Path,
        mode: str, code: int, fragment: str) -> None:
    captured(upstream).mode = mode
    message_id = f"<refused-{mode}@firma.example>"
    got_code, text = send(proxy.port, mail(message_id=message_id))
    assert (got_code, fragment in text) == (code, True), text
    proxy.drain()
    assert all(r["message_id"] != message_id for r in tracker_rows(db, "mails"))


def test_upstream_stall_past_timeout_is_451(make_proxy: ProxyFactory, upstream: UpstreamController,
                                             tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    impatient = make_proxy(upstream.port, db=db, timeout=1.0)
    captured(upstream).mode = "stall"
    code, text = send(impatient.port, mail(message_id="<stall@firma.example>"))
    assert code == 451 and "Zeitueberschreitung" in text
    impatient.drain()
    assert tracker_rows(db, "mails") == []


def test_recovers_after_failures_on_reused_connections(proxy: RunningProxy,
                                                       upstream: UpstreamController) -> None:
    captured(upstream).mode = "drop"
    assert send(proxy.port, mail(message_id="<x1@firma.example>"))[0] == 451
    captured(upstream).mode = "ok"
    for i in range(3):
        assert send(proxy.port, mail(message_id=f"<after{i}@firma.example>"))[0] == 250
    assert len(captured(upstream).messages) == 3


def test_upstream_connections_are_reused(make_proxy: ProxyFactory, upstream: UpstreamController) -> None:
    pooled = make_proxy(upstream.port, tracker=False)
    for i in range(4):
        assert send(pooled.port, mail(message_id=f"<reuse{i}@firma.example>"))[0] == 250
    assert pooled.server.relay.connections_opened == 1
    fresh = make_proxy(upstream.port, tracker=False, pool_size=0)
    for i in range(2):
        assert send(fresh.port, mail(message_id=f"<fresh{i}@firma.example>"))[0] == 250
    assert fresh.server.relay.connections_opened == 2


def test_stale_pooled_connection_is_replaced_without_loss(make_proxy: ProxyFactory) -> None:
    port = free_port()
    handler = CaptureHandler()
    first = UpstreamController(handler, hostname="127.0.0.1", port=port)
    first.start()
    proxy = make_proxy(port, tracker=False)
    assert send(proxy.port, mail(message_id="<before@firma.example>"))[0] == 250
    first.stop()  # the pooled connection dies with the upstream
    second = UpstreamController(handler, hostname="127.0.0.1", port=port)
    second.start()
    try:
        assert send(proxy.port, mail(message_id="<after-restart@firma.example>"))[0] == 250
    finally:
        second.stop()
    assert [m.data.count(b"Message-ID: <after-restart") for m in handler.messages] == [0, 1]


def test_partly_refused_recipients_refuse_the_whole_message_with_451(
        proxy: RunningProxy, upstream: UpstreamController) -> None:
    captured(upstream).refuse_rcpt["weg@kunde.example"] = "550 5.1.1 Unbekannter Empfaenger"
    code, text = send(proxy.port, mail(), recipients=("max@kunde.example", "weg@kunde.example"))
    assert code == 451 and "weg@kunde.example" in text and "keine Teilzustellung" in text
    assert captured(upstream).messages == []


def test_all_recipients_refused_permanently_passes_the_5xx(
        proxy: RunningProxy, upstream: UpstreamController) -> None:
    captured(upstream).refuse_rcpt["weg@kunde.example"] = "550 5.1.1 Unbekannter Empfaenger"
    code, text = send(proxy.port, mail(), recipients=("weg@kunde.example",))
    assert (code, text) == (550, "5.1.1 Unbekannter Empfaenger")


def test_temporarily_refused_recipient_is_451(proxy: RunningProxy, upstream: UpstreamController) -> None:
    captured(upstream).refuse_rcpt["voll@kunde.example"] = "452 4.2.2 Postfach voll"
    code, _ = send(proxy.port, mail(), recipients=("voll@kunde.example",))
    assert code == 451


def test_refused_sender_5xx_passes_through(proxy: RunningProxy, upstream: UpstreamController) -> None:
    captured(upstream).refuse_mail = "553 5.7.1 Absender nicht erlaubt"
    assert send(proxy.port, mail()) == (553, "5.7.1 Absender nicht erlaubt")


def test_refused_sender_421_becomes_451(proxy: RunningProxy, upstream: UpstreamController) -> None:
    captured(upstream).refuse_mail = "421 4.3.2 Bitte spaeter"
    code, _ = send(proxy.port, mail())
    assert code == 451


def test_internal_error_is_451_and_the_session_stays_usable(
        proxy: RunningProxy, upstream: UpstreamController, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("Fehler im Relay")

    with smtplib.SMTP("127.0.0.1", proxy.port, timeout=30) as client:
        monkeypatch.setattr(proxy.server.relay, "send", broken)
        client.ehlo("client.example")
        client.mail("anna@firma.example")
        client.rcpt("max@kunde.example")
        assert client.data(mail())[0] == 451
        monkeypatch.undo()
        client.mail("anna@firma.example")
        client.rcpt("max@kunde.example")
        assert client.data(mail(message_id="<second@firma.example>"))[0] == 250
    assert len(captured(upstream).messages) == 1


def test_client_outside_allow_list_gets_421_before_greeting(
        make_proxy: ProxyFactory, upstream: UpstreamController) -> None:
    from smtp_proxy.settings import parse_network

    guarded = make_proxy(upstream.port, tracker=False, allow=(parse_network("10.0.0.0/8"),))
    with pytest.raises(smtplib.SMTPConnectError) as info:
        smtplib.SMTP("127.0.0.1", guarded.port, timeout=10)
    assert info.value.smtp_code == 421


def test_smtputf8_and_8bitmime_are_relayed(proxy: RunningProxy, upstream: UpstreamController) -> None:
    original = mail("Grüße aus Köln, ZUSAGE bis 2026-11-27.\r\n", "<utf8@firma.example>")
    code, text = send(proxy.port, original, sender="jörg@firma.example", recipients=("zoë@kunde.example",),
                      mail_options=("SMTPUTF8", "BODY=8BITMIME"))
    assert code == 250, text
    [got] = captured(upstream).messages
    assert (got.mail_from, got.rcpt_tos) == ("jörg@firma.example", ["zoë@kunde.example"])
    assert {"SMTPUTF8", "BODY=8BITMIME"} <= set(got.mail_options)
    assert split_header(got.data)[1] == original


def test_long_lines_are_relayed_not_refused(proxy: RunningProxy, upstream: UpstreamController) -> None:
    original = mail("A" * 5000 + "\r\n" + "ZUSAGE " * 2000 + "\r\n", "<long@firma.example>")
    assert send(proxy.port, original)[0] == 250
    assert split_header(captured(upstream).messages[0].data)[1] == original


def test_ten_megabyte_message_is_relayed_intact(proxy: RunningProxy, upstream: UpstreamController) -> None:
    line = b"Zeile mit Inhalt fuer den Grossversand, ZUSAGE bis 2026-11-27, Ende der Zeile.\r\n"
    original = mail(message_id="<big@firma.example>") + line * (10_200_000 // len(line))
    assert 10_100_000 < len(original) < 10_240_000
    assert send(proxy.port, original)[0] == 250
    assert split_header(captured(upstream).messages[0].data)[1] == original


def test_message_over_the_postfix_size_limit_is_refused_552(
        proxy: RunningProxy, upstream: UpstreamController) -> None:
    original = mail() + b"x" * 998 + b"\r\n" + (b"y" * 998 + b"\r\n") * 10_300
    code, _ = send(proxy.port, original)
    assert code == 552
    assert captured(upstream).messages == []


def test_dot_lines_are_unstuffed_and_restuffed(proxy: RunningProxy, upstream: UpstreamController) -> None:
    original = mail(".\r\n..zwei Punkte\r\n.ein Punkt\r\n", "<dots@firma.example>")
    assert send(proxy.port, original)[0] == 250
    assert split_header(captured(upstream).messages[0].data)[1] == original


def test_concurrent_clients_each_get_their_own_verdict(proxy: RunningProxy,
                                                       upstream: UpstreamController) -> None:
    results: dict[int, int] = {}

    def client(i: int) -> None:
        results[i] = send(proxy.port, mail(message_id=f"<conc{i}@firma.example>"))[0]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == dict.fromkeys(range(8), 250)
    ids = sorted(m.data.split(b"Message-ID: ")[1].split(b"\r\n")[0] for m in captured(upstream).messages)
    assert ids == sorted(f"<conc{i}@firma.example>".encode() for i in range(8))



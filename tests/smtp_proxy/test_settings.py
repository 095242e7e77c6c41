"""Command-line spellings: host:port, durations, sizes, networks, and the allow-list check."""

from __future__ import annotations

import argparse
import ipaddress

import pytest

from smtp_proxy.command import register, settings_from_args
from smtp_proxy.settings import (
    LOOPBACK,
    POSTFIX_MESSAGE_SIZE_LIMIT,
    SettingsError,
    parse_duration,
    parse_hostport,
    parse_network,
    parse_size,
    peer_allowed,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:10025", ("127.0.0.1", 10025)),
    ("[::1]:25", ("::1", 25)),
    (":2525", ("127.0.0.1", 2525)),
    ("mail.example:587", ("mail.example", 587)),
])
def test_parse_hostport(text: str, expected: tuple[str, int]) -> None:
    assert parse_hostport(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1", "host:0", "host:70000", "::1:25", "a:b"])
def test_parse_hostport_rejects_with_a_german_message(text: str) -> None:
    with pytest.raises(SettingsError, match="Ungültige"):
        parse_hostport(text)


@pytest.mark.parametrize(("text", "seconds"), [
    ("2s", 2.0), ("500ms", 0.5), ("5m", 300.0), ("1h", 3600.0), ("60", 60.0), ("1,5s", 1.5)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "zwei Sekunden", "0s", "-1s", "5 Tage"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(SettingsError, match="Dauer"):
        parse_duration(text)


def test_parse_size() -> None:
    assert parse_size("10240000") == POSTFIX_MESSAGE_SIZE_LIMIT
    assert parse_size("10M") == 10 * 1024 * 1024
    assert parse_size("64k") == 65536
    with pytest.raises(SettingsError):
        parse_size("viel")
    with pytest.raises(SettingsError):
        parse_size("10")


def test_parse_network() -> None:
    assert parse_network("10.1.2.3/8") == ipaddress.ip_network("10.0.0.0/8")
    assert parse_network("192.0.2.7") == ipaddress.ip_network("192.0.2.7/32")
    with pytest.raises(SettingsError, match="Netz"):
        parse_network("300.1.1.1/8")


@pytest.mark.parametrize(("peer", "allowed"), [
    (("127.0.0.1", 4000), True),
    (("127.8.9.10", 4000), True),
    (("::1", 4000, 0, 0), True),
    (("::ffff:127.0.0.1", 4000, 0, 0), True),
    (("10.0.0.5", 4000), False),
    (("fe80::1%eth0", 4000, 0, 2), False),
    (None, False),
    (("kein-ip", 1), False),
])
def test_peer_allowed_defaults_to_loopback(peer: object, allowed: bool) -> None:
    assert peer_allowed(peer, LOOPBACK) is allowed


def test_peer_allowed_with_a_custom_network() -> None:
    allow = (parse_network("10.0.0.0/8"),)
    assert peer_allowed(("10.200.0.1", 1), allow)
    assert not peer_allowed(("127.0.0.1", 1), allow)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["proxy", *argv])


def test_settings_defaults_follow_postfix_and_loopback() -> None:
    settings = settings_from_args(parse([]))
    assert (settings.listen_host, settings.listen_port) == ("127.0.0.1", 10025)
    assert (settings.upstream_host, settings.upstream_port) == ("127.0.0.1", 10026)
    assert settings.max_size == POSTFIX_MESSAGE_SIZE_LIMIT
    assert settings.allow == LOOPBACK
    assert (settings.timeout, settings.extract_budget, settings.remind_every) == (60.0, 2.0, None)
    assert (settings.tag_wait, settings.queue_max, settings.queue_bytes, settings.worker_nice) == \
        (0.2, 5000, 64 * 1024 * 1024, 10)


def test_settings_for_the_analysis_queue() -> None:
    settings = settings_from_args(parse(["--tag-wait", "0", "--queue", "200", "--queue-bytes", "8M",
                                         "--worker-nice", "0"]))
    assert (settings.tag_wait, settings.queue_max, settings.queue_bytes, settings.worker_nice) == \
        (0.0, 200, 8 * 1024 * 1024, 0)


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--queue", "0"], "--queue"), (["--worker-nice", "20"], "--worker-nice"),
    (["--tag-wait", "kurz"], "Ungültige Dauer"), (["--queue-bytes", "viel"], "Ungültige Größe"),
])
def test_settings_refuse_bad_queue_options(argv: list[str], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        settings_from_args(parse(argv))


def test_settings_from_all_options() -> None:
    settings = settings_from_args(parse([
        "--listen", "0.0.0.0:2525", "--upstream", "[::1]:10026", "--timeout", "30s",
        "--extract-budget", "500ms", "--allow", "10.0.0.0/8", "--allow", "127.0.0.1/32",
        "--remind-every", "5m", "--max-size", "20M", "--workers", "2", "--db", "/tmp/x.sqlite3"]))
    assert settings.listen_host == "0.0.0.0" and settings.upstream_host == "::1"
    assert settings.allow == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"))
    assert (settings.timeout, settings.extract_budget, settings.remind_every) == (30.0, 0.5, 300.0)
    assert (settings.max_size, settings.workers) == (20 * 1024 * 1024, 2)
    assert str(settings.db_path) == "/tmp/x.sqlite3"


def test_settings_refuse_relaying_to_itself() -> None:
    with pytest.raises(SettingsError, match="an sich selbst"):
        settings_from_args(parse(["--listen", "127.0.0.1:2525", "--upstream", "127.0.0.1:2525"]))

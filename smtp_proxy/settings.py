"""Proxy settings and the parsers for their command-line spellings (host:port, durations, networks)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

# Postfix's defaults, so the proxy never refuses what the Postfix in front of it accepted:
# message_size_limit = 10240000. Postfix has no line length limit (it splits long lines into
# records), so ours only guards memory; a long line must never become a bounce.
POSTFIX_MESSAGE_SIZE_LIMIT = 10_240_000
LINE_LENGTH_LIMIT = POSTFIX_MESSAGE_SIZE_LIMIT + 1024

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))

_DURATION = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(ms|s|m|min|h)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


class SettingsError(ValueError):
    """A command-line value is malformed; the message is German and names the value."""


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """Everything the proxy needs to run; defaults follow Postfix and DESIGN.md's mail contract."""

    listen_host: str = "127.0.0.1"
    listen_port: int = 10025
    upstream_host: str = "127.0.0.1"
    upstream_port: int = 10026
    db_path: Path | None = None
    # Seconds for each upstream step (connect, each command, the reply to the final dot).
    timeout: float = 60.0
    # CPU seconds one analysis (MIME parse + engine) may use; past it nothing is recorded for the mail.
    # In thread mode (workers=0) the mail waits this long at most, queueing included.
    extract_budget: float = 2.0
    # Seconds a mail waits for its analysis before it is relayed with `X-Versprochen: pending`.
    tag_wait: float = 0.2
    # Analyses queued or running, at most (count and bytes); a full queue holds new mail (backpressure).
    queue_max: int = 5000
    queue_bytes: int = 64 * 1024 * 1024
    # Nice value added to the analysis processes, so the relay keeps its core under load.
    worker_nice: int = 10
    allow: tuple[Network, ...] = LOOPBACK
    remind_every: float | None = None
    max_size: int = POSTFIX_MESSAGE_SIZE_LIMIT
    # Extraction worker processes; 0 runs the engine in a thread of the proxy process.
    workers: int = 1
    # Idle upstream connections kept for reuse (0 = a new connection per message).
    pool_size: int = 20
    hostname: str = "versprochen-proxy"
    # Idle client sessions are closed after this many seconds (Postfix: smtpd_timeout = 300s).
    client_timeout: float = 300.0
    tracker: bool = True


def parse_hostport(value: str, *, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """'host:port', '[v6]:port' or ':port' → (host, port); raises SettingsError."""
    text = value.strip()
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)", text) or re.fullmatch(r"([^:\[\]]*):(\d+)", text)
    if match is None:
        raise SettingsError(f"Ungültige Adresse {value!r}: erwartet HOST:PORT, z. B. 127.0.0.1:10025")
    host, port = match.group(1) or default_host, int(match.group(2))
    if not 0 < port < 65536:
        raise SettingsError(f"Ungültiger Port in {value!r}: erlaubt sind 1 bis 65535")
    return host, port


def parse_duration(value: str, *, zero: bool = False) -> float:
    """'2s', '500ms', '5m', '1h' or plain seconds → seconds (0 only with `zero`); raises SettingsError."""
    match = _DURATION.match(value)
    if match is None:
        raise SettingsError(f"Ungültige Dauer {value!r}: erwartet z. B. 2s, 500ms, 5m oder 1h")
    number = float(match.group(1).replace(",", "."))
    seconds = number * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    if seconds < 0 or (seconds == 0 and not zero):
        raise SettingsError(f"Ungültige Dauer {value!r}: muss größer als null sein")
    return seconds


def parse_size(value: str) -> int:
    """Bytes, optionally with k/M suffix (1024-based) → int; raises SettingsError."""
    match = re.fullmatch(r"\s*(\d+)\s*([kKmM]?)[bB]?\s*", value)
    if match is None:
        raise SettingsError(f"Ungültige Größe {value!r}: erwartet Bytes, z. B. 10240000 oder 10M")
    factor = {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2).lower()]
    size = int(match.group(1)) * factor
    if size < 1024:
        raise SettingsError(f"Ungültige Größe {value!r}: mindestens 1024 Bytes")
    return size


def parse_network(value: str) -> Network:
    """'127.0.0.1/32', '10.0.0.0/8' or a bare address → a network; raises SettingsError."""
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise SettingsError(
            f"Ungültiges Netz {value!r}: erwartet z. B. 127.0.0.1/32 oder 10.0.0.0/8") from None


def peer_allowed(peer: object, allow: tuple[Network, ...]) -> bool:
    """True when the peer (a socket address tuple) lies in one of the allowed networks."""
    if not isinstance(peer, tuple) or not peer:
        return False
    try:
        address = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in allow)

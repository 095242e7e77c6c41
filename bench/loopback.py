"""Loopback helpers shared by the proxy benchmarks: a free port, and waiting for a child to listen."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], limit: float = 120) -> None:
    """Wait until the child listens on the port (the proxy listens once its engine is built)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"Prozess {process.args!r} ist beendet (Code {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"Port {port} wurde nicht geöffnet")

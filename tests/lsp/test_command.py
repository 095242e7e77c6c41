"""`versprochen lsp`: the console script with --stdio (as VS Code starts it), stdin from a file, TCP, bad args."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from server.lsp.command import parse_address

CLI = [str(Path(sys.executable).with_name("versprochen")), "lsp"]


def frame(message: dict[str, Any]) -> bytes:
    """One JSON-RPC message with its Content-Length header."""
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def session_bytes() -> bytes:
    """initialize, initialized, shutdown, exit."""
    return b"".join(frame(m) for m in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ))


def responses(raw: bytes) -> list[dict[str, Any]]:
    """The JSON-RPC messages in a byte stream."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        fields = dict(line.split(b":", 1) for line in head.split(b"\r\n"))
        length = int(fields[b"Content-Length"])
        out.append(json.loads(rest[:length]))
        raw = rest[length:]
    return out


def check_initialize(messages: list[dict[str, Any]]) -> None:
    """The server answered initialize with its name and incremental sync, then shutdown."""
    answer = next(m for m in messages if m.get("id") == 1)
    assert answer["result"]["serverInfo"]["name"] == "versprochen"
    assert answer["result"]["capabilities"]["textDocumentSync"]["change"] == 2
    assert "versprochen.checkAll" in answer["result"]["capabilities"]["executeCommandProvider"]["commands"]
    assert any(m.get("id") == 2 for m in messages)


@pytest.mark.skipif(not Path(CLI[0]).exists(), reason="the console script is not installed in this venv")
def test_console_script_with_stdio_flag(tmp_path: Path) -> None:
    """`versprochen lsp --stdio` speaks LSP on stdin/stdout and exits 0 after shutdown and exit."""
    done = subprocess.run([*CLI, "--stdio"], input=session_bytes(), capture_output=True, timeout=120,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr.decode()
    check_initialize(responses(done.stdout))


def test_stdin_from_a_file(tmp_path: Path) -> None:
    """A regular file as stdin (no pipe for the event loop) still works."""
    messages = tmp_path / "in.bin"
    messages.write_bytes(session_bytes())
    with messages.open("rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "server.lsp"], stdin=stdin, capture_output=True,
                              timeout=120, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr.decode()
    check_initialize(responses(done.stdout))


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tcp(tmp_path: Path) -> None:
    """`--tcp 127.0.0.1:PORT` serves one client over TCP."""
    port = free_port()
    log = tmp_path / "server.log"
    proc = subprocess.Popen([sys.executable, "-m", "server.lsp", "--tcp", f"127.0.0.1:{port}",
                             "--log-file", str(log)], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=60)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
                time.sleep(0.05)  # the server is still importing; poll until it listens
        with conn:
            conn.sendall(session_bytes()[: -len(frame({"jsonrpc": "2.0", "method": "exit"}))])
            raw = b""
            while b'"id": 2' not in raw and b'"id":2' not in raw:
                chunk = conn.recv(65536)
                assert chunk, raw
                raw += chunk
        check_initialize(responses(raw))
    finally:
        proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("value", ["nonsense", "host:", ":80", "127.0.0.1:99999", "127.0.0.1:x"])
def test_bad_tcp_address(value: str) -> None:
    """A bad address is a usage error with a German message."""
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address(value)
    done = subprocess.run([sys.executable, "-m", "server.lsp", "--tcp", value], capture_output=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and "Ungültige Adresse" in done.stderr.decode()
    assert done.stdout == b""


def test_parse_address() -> None:
    """HOST:PORT, also with an IPv6 host in brackets."""
    assert parse_address("127.0.0.1:2087") == ("127.0.0.1", 2087)
    assert parse_address("[::1]:2087") == ("::1", 2087)

"""`versprochen proxy` end to end: real engine in a worker process, real tracker, SIGTERM shutdown."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.cli import main
from tests.smtp_proxy.helpers import send, split_header, tracker_rows
from tests.smtp_proxy.support import CaptureHandler, UpstreamController, free_port

SAMPLE = Path("/work/shared/samples/angebot-mit-anhang.eml")
ROOT = Path(__file__).resolve().parents[2]


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, limit: float = 90) -> None:
    """Wait until the proxy accepts connections (it listens only once the engine is built)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"Proxy beendet: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("Proxy lauscht nicht")


@pytest.fixture(scope="module")
def running(upstream: UpstreamController, tmp_path_factory: pytest.TempPathFactory,
            ) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """The proxy as a subprocess of the real CLI, with one analysis worker process."""
    folder = tmp_path_factory.mktemp("cli")
    db, log = folder / "tracker.sqlite3", folder / "proxy.log"
    port = free_port()
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "proxy", "--listen", f"127.0.0.1:{port}",
             "--upstream", f"127.0.0.1:{upstream.port}", "--db", str(db), "--log-level", "warning"],
            cwd=ROOT, stderr=err)
    try:
        wait_listening(port, process, log)
        yield process, port, db
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)


@pytest.mark.slow
def test_sample_mail_end_to_end_then_clean_shutdown(
        running: tuple[subprocess.Popen[bytes], int, Path], upstream: UpstreamController) -> None:
    process, port, db = running
    original = SAMPLE.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    code, text = send(port, original, recipients=("max@kunde.example", "einkauf@kunde.example"))
    assert code == 250, text
    handler: CaptureHandler = upstream.handler
    header, rest = split_header(handler.messages[0].data)
    assert rest == original
    pattern = rb"X-Versprochen: (\d+) Zusagen?(?:; naechste Frist (\d{4}-\d\d-\d\d)\S*)?\r\n"
    match = re.fullmatch(pattern, header)
    assert match is not None, header
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    rows = [r for r in tracker_rows(db) if r["message_id"] == "<20261122100000.4711@firma.example>"]
    # The header and the tracker agree: same count, and the header names the earliest due date.
    assert len(rows) == int(match.group(1)) >= 1
    assert match.group(2) == min(r["due"] for r in rows if r["due"])[:10].encode()
    # The text part promises the offer "bis spätestens Freitag, den 27.11.2026".
    assert "2026-11-27" in {r["due"] for r in rows}
    assert all(r["state"] == "open" for r in rows)
    assert not any("PDF" in r["quote"] or "Am 20.11.2026" in r["quote"] for r in rows)


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--listen", "nirgendwo"], "Ungültige Adresse"),
    (["--allow", "300.1.1.1/8"], "Ungültiges Netz"),
    (["--extract-budget", "schnell"], "Ungültige Dauer"),
    (["--max-size", "riesig"], "Ungültige Größe"),
])
def test_bad_options_exit_2_with_a_german_message(argv: list[str], fragment: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", *argv]) == 2
    assert fragment in capsys.readouterr().err


def test_port_in_use_exits_1_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import smtp_proxy.command

    monkeypatch.setattr(smtp_proxy.command, "build_engine", lambda start: object())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["proxy", "--listen", f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{free_port()}",
                     "--workers", "0", "--db", str(tmp_path / "t.sqlite3")])
    assert code == 1
    assert f"127.0.0.1:{port}" in capsys.readouterr().err

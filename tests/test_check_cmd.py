"""`versprochen check`: output contract, exit codes, and every kind of bad input (never a traceback)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from server import check_cmd
from server.cli import main
from server.engine import Engine

RISKY = "Wir liefern garantiert bis Freitag.\n"


@pytest.fixture(autouse=True)
def shared_engine(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    """Reuse the session's engine instead of building one per call."""
    monkeypatch.setattr(check_cmd, "_load_engine", lambda: engine)


def run(argv: list[str], capsys: pytest.CaptureFixture[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """Run the CLI in-process with the given stdin; returns (exit code, stdout, stderr)."""
    fake = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    old = sys.stdin
    sys.stdin = fake
    try:
        code = main(argv)
    finally:
        sys.stdin = old
    out, err = capsys.readouterr()
    return code, out, err


def test_human_output_and_exit_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    draft = tmp_path / "d.txt"
    draft.write_text("Hallo,\n\n" + RISKY, encoding="utf-8")
    code, out, _ = run(["check", "--sent", "2026-11-23T10:00", str(draft)], capsys)
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith(f"{draft}:3:1: warning versprochen.Commitments ")


def test_fail_level_none_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    draft = tmp_path / "d.txt"
    draft.write_text(RISKY, encoding="utf-8")
    code, out, _ = run(["check", "--fail-level", "none", str(draft)], capsys)
    assert code == 0 and "versprochen.Commitments" in out


def test_json_format_has_resolved_due(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    draft = tmp_path / "d.txt"
    draft.write_text(RISKY, encoding="utf-8")
    code, out, _ = run(["check", "--format", "json", "--sent", "2026-11-23T10:00", str(draft)], capsys)
    data = json.loads(out)
    assert code == 1
    assert data["promises"][0]["due"] == "2026-11-27" and data["promises"][0]["risk"] == "high"


def test_jsonl_batch_keeps_order_and_reports_bad_lines(capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        json.dumps({"id": "a", "text": RISKY, "sent": "2026-11-23T10:00"}),
        "{not json",
        json.dumps({"id": "c", "text": 5}),
        json.dumps({"id": "d", "text": "Danke!", "sent": "gestern"}),
        json.dumps({"id": "e", "text": "Danke!"}),
    ]
    code, out, err = run(["check", "--jsonl"], capsys, ("\n".join(lines) + "\n").encode())
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["a", None, "c", "d", "e"]
    assert rows[0]["promises"] and "error" in rows[1] and "error" in rows[2] and "error" in rows[3]
    assert rows[4] == {"id": "e", "promises": [], "jargon": [], "deliveries": []}
    assert code == 2 and "Zeile 2" in err


@pytest.mark.parametrize(
    ("content", "warning"),
    [
        (b"", None),
        (b"   \n\t\n  ", None),
        ("Wir liefern garantiert bis Freitag.".encode("cp1252") + b" Gr\xfc\xdfe", "UTF-8"),
        (b"Wir liefern\x00 garantiert bis Freitag.", "NUL"),
        (b"Hallo,\r\n\r\nWir liefern garantiert bis Freitag.\r\n", None),
        (b"Hallo,\r\rWir liefern garantiert bis Freitag.\r", None),
        (("x" * 10_000 + " Wir liefern garantiert bis Freitag. ").encode(), None),
        ("Wir liefern garantiert bis Freitag 🚚🎉 𝔘𝔫𝔦𝔠𝔬𝔡𝔢.".encode(), None),
    ],
)
def test_odd_input_never_crashes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 content: bytes, warning: str | None) -> None:
    draft = tmp_path / "odd.txt"
    draft.write_bytes(content)
    code, out, err = run(["check", str(draft)], capsys)
    assert code in (0, 1), err
    assert "Traceback" not in err
    if warning:
        assert warning in err
    for line in out.splitlines():
        path, line_no, col, rest = line.split(":", 3)
        assert path == str(draft) and int(line_no) >= 1 and int(col) >= 1 and rest.strip()


def test_lone_cr_counts_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    draft = tmp_path / "mac.txt"
    draft.write_bytes(b"Hallo,\r\rWir liefern garantiert bis Freitag.\r")
    _, out, _ = run(["check", str(draft)], capsys)
    assert out.splitlines()[0].startswith(f"{draft}:3:1:")


def test_huge_file_is_checked_up_to_the_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import server.engine.engine as engine_module

    monkeypatch.setattr(engine_module, "MAX_ANALYSED_CHARS", 100_000)
    draft = tmp_path / "big.txt"
    draft.write_text((RISKY + "\n") * 140_000, encoding="utf-8")  # about 5 MB
    assert draft.stat().st_size > 5_000_000
    code, out, err = run(["check", str(draft)], capsys)
    assert code == 1 and "nur die ersten 100000 Zeichen" in err
    assert 0 < len(out.splitlines()) < 10_000


def test_broken_mime_eml_gives_findings_and_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eml = tmp_path / "kaputt.eml"
    eml.write_bytes(b"From: a@b.de\r\nTo: c@d.de\r\nSubject: Test\r\nContent-Type: multipart/mixed\r\n\r\n"
                    b"Wir liefern garantiert bis Freitag.\r\n")
    code, out, err = run(["check", str(eml)], capsys)
    assert code == 1 and "versprochen.Commitments" in out and "Traceback" not in err


@pytest.mark.parametrize("kind", ["missing", "directory", "unreadable"])
def test_unreadable_input_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    path = tmp_path / "x.txt"
    if kind == "directory":
        path.mkdir()
    elif kind == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root reads every file regardless of its mode")
        path.write_text("x", encoding="utf-8")
        path.chmod(0)
    code, out, err = run(["check", str(path)], capsys)
    assert code == 2 and out == "" and "nicht lesbar" in err


def test_usage_errors_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["check", "--sent", "morgen", "-"], capsys)[0] == 2
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("x", encoding="utf-8")
    b.write_text("y", encoding="utf-8")
    assert run(["check", "--format", "json", str(a), str(b)], capsys)[0] == 2


def test_stdin_is_read_when_no_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check"], capsys, RISKY.encode())
    assert code == 1 and out.startswith("<stdin>:1:1: warning")


def test_console_script_on_bundled_example() -> None:
    exe = Path(sys.executable).with_name("versprochen")
    example = Path(__file__).resolve().parent.parent / "examples" / "entwurf-angebot.txt"
    proc = subprocess.run([str(exe), "check", "--fail-level", "none", str(example)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "versprochen.Commitments" in proc.stdout and "Traceback" not in proc.stderr

"""`versprochen dashboard` on the command line: refusing unsafe binds, serving for real over uvicorn."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server.cli import main


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_refuses_to_bind_outside_loopback_without_token(host: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERSPROCHEN_DASHBOARD_TOKEN", raising=False)
    assert main(["dashboard", "--host", host, "--db", str(tmp_path / "t.sqlite3")]) == 2
    err = capsys.readouterr().err
    assert "ist von außen erreichbar: dann ist --token Pflicht" in err
    assert not (tmp_path / "t.sqlite3").exists()  # refused before anything was created


def test_refuses_short_token_and_bad_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--token", "kurz", "--db", str(tmp_path / "t.sqlite3")]) == 2
    assert "Token zu kurz" in capsys.readouterr().err
    assert main(["dashboard", "--port", "70000", "--db", str(tmp_path / "t.sqlite3")]) == 2
    assert "Ungültiger Port" in capsys.readouterr().err


@pytest.mark.slow
def test_served_dashboard_requires_login_and_sends_headers(served: tuple[str, list[str]]) -> None:
    base, _cmd = served
    with httpx.Client(base_url=base, follow_redirects=False) as http:
        first = http.get("/")
        assert first.status_code == 303 and first.headers["location"].startswith("/login")
        assert "default-src 'none'" in first.headers["content-security-policy"]
        assert "server" not in first.headers  # uvicorn's banner is off
        feed = http.get("/calendar.ics", headers={"Authorization": "Bearer geheim-browser-1"})
        assert feed.status_code == 200 and feed.text.count("BEGIN:VEVENT") == 5

"""`versprochen promises reopen`: text and JSON output, history, refusals and exit codes."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from server.cli import main
from server.tracker.store import TrackerStore
from tests.tracker.tracker_factories import make_analysis, make_mail, make_promise

TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)
LATER = TODAY + timedelta(days=10)


@pytest.fixture
def ids(db_path: Path) -> dict[str, int]:
    """Promises due yesterday (kept) and in ten days (broken), and one still open."""
    found: dict[str, int] = {}
    with TrackerStore(db_path) as store:
        for name, due in (("late", YESTERDAY), ("later", LATER), ("open", LATER)):
            promise = make_promise(f"Zusage {name}: Ich schicke Ihnen die Unterlagen.", due=due)
            [found[name]] = store.record_mail(make_mail(f"<{name}@firma.de>"), make_analysis("x", (promise,)))
        store.set_state(found["late"], "kept", by="auto", evidence="<lieferung@firma.de>")
        store.set_state(found["later"], "broken", by="max")
    return found


def test_reopen_prints_german_text_and_records_by_and_note(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                           ids: dict[str, int]) -> None:
    pid = ids["late"]
    assert main(["promises", "reopen", str(pid), "--db", str(db_path), "--by", "eva",
                 "--note", "Lieferung war das falsche Dokument"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"Zusage {pid} ist wieder offen und überfällig (Frist {YESTERDAY:%d.%m.%Y}).")
    assert main(["promises", "reopen", str(ids["later"]), "--db", str(db_path), "--by", "eva"]) == 0
    assert capsys.readouterr().out.strip() == f"Zusage {ids['later']} ist wieder offen (Frist {LATER:%d.%m.%Y})."
    with TrackerStore(db_path, read_only=True) as store:
        history = store.history(pid)
    assert [(c.old_state, c.new_state, c.by, c.evidence, c.note) for c in history] == [
        (None, "open", "auto", "<late@firma.de>", None),
        ("open", "kept", "auto", "<lieferung@firma.de>", None),
        ("kept", "open", "eva", None, "Lieferung war das falsche Dokument")]
    assert main(["promises", "show", str(pid), "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert f"Zusage {pid}: überfällig" in out
    assert "offen → gehalten  (auto)  Beleg <lieferung@firma.de>" in out
    assert "gehalten → offen  (eva)  Lieferung war das falsche Dokument" in out


def test_reopen_json_and_overdue_listing(capsys: pytest.CaptureFixture[str], db_path: Path, ids: dict[str, int],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "maxi")
    pid = ids["late"]
    assert main(["promises", "reopen", str(pid), "--db", str(db_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["id"], data["state"], data["overdue"], data["due"]) == (pid, "open", True, YESTERDAY.isoformat())
    assert main(["promises", "overdue", "--db", str(db_path), "--json"]) == 0
    assert [p["id"] for p in json.loads(capsys.readouterr().out)] == [pid]
    assert main(["promises", "show", str(pid), "--db", str(db_path), "--json"]) == 0
    last = json.loads(capsys.readouterr().out)["history"][-1]
    assert (last["old_state"], last["new_state"], last["by"]) == ("kept", "open", "maxi")


@pytest.mark.parametrize(("name", "message"), [
    ("open", "ist bereits offen; nur eine gehaltene, gebrochene oder abgesagte Zusage lässt sich wieder öffnen"),
    ("missing", "Keine Zusage mit der Nummer 999"),
])
def test_refused_reopen_exits_1_and_changes_nothing(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                    ids: dict[str, int], name: str, message: str) -> None:
    pid = ids.get(name, 999)
    with TrackerStore(db_path, read_only=True) as store:
        before = store.history(pid)
    assert main(["promises", "reopen", str(pid), "--db", str(db_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err and "Traceback" not in captured.err
    with TrackerStore(db_path, read_only=True) as store:
        assert store.history(pid) == before


def test_reopen_without_a_database_exits_1_and_creates_nothing(capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    missing = tmp_path / "nichts.sqlite3"
    assert main(["promises", "reopen", "1", "--db", str(missing)]) == 1
    assert "Keine Zusage mit der Nummer 1" in capsys.readouterr().err
    assert not missing.exists()


@pytest.mark.parametrize("argv", [["reopen"], ["reopen", "abc"], ["reopen", "1", "--evidence", "<x@y>"]])
def test_reopen_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], db_path: Path, ids: dict[str, int],
                                    argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["promises", *argv, "--db", str(db_path)])
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_help_lists_reopen_in_german(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["promises", "--help"])
    assert "reopen    eine gehaltene, gebrochene oder abgesagte Zusage wieder öffnen" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["promises", "reopen", "--help"])
    out = capsys.readouterr().out
    assert "--note TEXT" in out and "--by NAME" in out and "--json" in out and "--evidence" not in out
    assert "wieder auf offen" in out

"""`versprochen promises`: listing, filters, JSON round trips, state changes and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from server.cli import main
from server.tracker.store import TrackerStore
from tests.tracker.tracker_factories import make_analysis, make_mail, make_promise

TODAY = date.today()


@pytest.fixture
def filled(db_path: Path) -> dict[str, int]:
    """A database with promises due yesterday, today, tomorrow, in ten days and undated."""
    plan = {
        "yesterday": ("Anna Kunde <anna@kunde.de>", "max@firma.de", TODAY - timedelta(days=1)),
        "today": ("anna@kunde.de", "max@firma.de", TODAY),
        "tomorrow": ("Bob Bau <bob@bau.de>", "eva@firma.de", TODAY + timedelta(days=1)),
        "later": ("bob@bau.de", "max@firma.de", TODAY + timedelta(days=10)),
        "undated": ("anna@kunde.de", "max@firma.de", None),
    }
    ids: dict[str, int] = {}
    with TrackerStore(db_path) as store:
        for name, (recipient, sender, due) in plan.items():
            promise = make_promise(f"Zusage {name}: Ich schicke Ihnen die Unterlagen.", due=due,
                                   deadline_text=None if due is None else "bis dann")
            [ids[name]] = store.record_mail(make_mail(f"<{name}@firma.de>", sender=sender,
                                                      recipients=(recipient,)),
                                            make_analysis("x", (promise,)))
    return ids


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_list_json_round_trip(capsys: pytest.CaptureFixture[str], db_path: Path,
                              filled: dict[str, int]) -> None:
    code, data = run_json(capsys, "promises", "list", "--db", str(db_path))
    assert code == 0 and isinstance(data, list)
    order = ("yesterday", "today", "tomorrow", "later", "undated")
    assert [p["id"] for p in data] == [filled[n] for n in order]
    first = data[0]
    assert first["state"] == "open" and first["overdue"] is True
    assert first["recipients"] == ["Anna Kunde <anna@kunde.de>"]
    assert first["due"] == (TODAY - timedelta(days=1)).isoformat()
    assert first["quote"].startswith("Zusage yesterday")


@pytest.mark.parametrize(("args", "expected"), [
    (["--owner", "EVA@firma.de"], ["tomorrow"]),
    (["--customer", "Anna <anna@kunde.de>"], ["yesterday", "today", "undated"]),
    (["--recipient", "@bau.de"], ["tomorrow", "later"]),
    (["--from", TODAY.strftime("%d.%m.%Y"), "--to", (TODAY + timedelta(days=1)).isoformat()],
     ["today", "tomorrow"]),
    (["--state", "kept"], []),
])
def test_list_filters(capsys: pytest.CaptureFixture[str], db_path: Path, filled: dict[str, int],
                      args: list[str], expected: list[str]) -> None:
    code, data = run_json(capsys, "promises", "list", "--db", str(db_path), *args)
    assert code == 0 and [p["id"] for p in data] == [filled[n] for n in expected]  # type: ignore[union-attr]


def test_due_and_overdue(capsys: pytest.CaptureFixture[str], db_path: Path, filled: dict[str, int]) -> None:
    _, due = run_json(capsys, "promises", "due", "--db", str(db_path))
    _, overdue = run_json(capsys, "promises", "overdue", "--db", str(db_path))
    _, soon = run_json(capsys, "promises", "due", "--within", "12d", "--db", str(db_path))
    assert [p["id"] for p in due] == [filled["today"], filled["tomorrow"]]  # type: ignore[union-attr]
    assert [p["id"] for p in overdue] == [filled["yesterday"]]  # type: ignore[union-attr]
    assert [p["id"] for p in soon] == [filled[n] for n in ("today", "tomorrow", "later")]  # type: ignore[union-attr]
    _, none_open = run_json(capsys, "promises", "overdue", "--state", "postponed", "--db", str(db_path))
    assert none_open == []


def test_human_table_is_german_and_compact(capsys: pytest.CaptureFixture[str], db_path: Path,
                                           filled: dict[str, int]) -> None:
    assert main(["promises", "list", "--db", str(db_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "Fälligkeit", "Status", "Kunde", "Zusage"]
    row = next(line for line in lines if "Zusage yesterday" in line)
    assert "überfällig" in row and "Anna Kunde" in row
    assert (TODAY - timedelta(days=1)).strftime("%d.%m.%Y") in row
    undated = next(line for line in lines if "Zusage undated" in line)
    assert "–" in undated and "offen" in undated


def test_show_with_history(capsys: pytest.CaptureFixture[str], db_path: Path, filled: dict[str, int]) -> None:
    pid = filled["tomorrow"]
    db = str(db_path)
    assert main(["promises", "kept", str(pid), "--db", db, "--by", "eva", "--note", "per Post"]) == 0
    assert capsys.readouterr().out.strip() == f"Zusage {pid} ist jetzt gehalten."
    code, data = run_json(capsys, "promises", "show", str(pid), "--db", str(db_path))
    assert code == 0 and isinstance(data, dict)
    assert data["promise"]["state"] == "kept"
    assert [(h["old_state"], h["new_state"], h["by"], h["note"]) for h in data["history"]] == [
        (None, "open", "auto", None), ("open", "kept", "eva", "per Post")]
    assert main(["promises", "show", str(pid), "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert f"Zusage {pid}: gehalten" in out and "offen → gehalten  (eva)" in out and "per Post" in out


def test_state_changes_and_exit_codes(capsys: pytest.CaptureFixture[str], db_path: Path,
                                      filled: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "maxi")
    pid = filled["today"]
    code, data = run_json(capsys, "promises", "postpone", str(pid), "4.12.2030 14:00", "--db", str(db_path))
    assert code == 0 and data["state"] == "postponed" and data["due"] == "2030-12-04T14:00"  # type: ignore[index]
    assert main(["promises", "broken", str(pid), "--db", str(db_path)]) == 0
    capsys.readouterr()
    assert main(["promises", "cancel", str(pid), "--db", str(db_path)]) == 1
    assert "ist gebrochen und kann nicht „abgesagt“ werden" in capsys.readouterr().err
    with TrackerStore(db_path, read_only=True) as store:
        assert [c.by for c in store.history(pid)] == ["auto", "maxi", "maxi"]
    assert main(["promises", "kept", "999", "--db", str(db_path)]) == 1
    assert "Keine Zusage mit der Nummer 999" in capsys.readouterr().err
    assert main(["promises", "show", "999", "--db", str(db_path)]) == 1


@pytest.mark.parametrize("argv", [
    ["promises"], ["promises", "postpone", "1", "irgendwann"], ["promises", "due", "--within", "bald"],
    ["promises", "list", "--from", "32.13.2026"],
])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], db_path: Path, filled: dict[str, int],
                             argv: list[str]) -> None:
    assert main([*argv, "--db", str(db_path)] if len(argv) > 1 else argv) == 2
    assert capsys.readouterr().err


def test_argparse_errors_exit_2(db_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["promises", "show", "abc", "--db", str(db_path)])
    assert exc.value.code == 2


def test_missing_database_lists_nothing_and_creates_nothing(capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    missing = tmp_path / "nichts.sqlite3"
    code, data = run_json(capsys, "promises", "overdue", "--db", str(missing))
    assert (code, data) == (0, [])
    assert main(["promises", "kept", "1", "--db", str(missing)]) == 1
    assert not missing.exists()


def test_database_path_from_project_config(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "versprochen.toml").write_text('[tracker]\npath = "team.sqlite3"\n', encoding="utf-8")
    with TrackerStore(tmp_path / "team.sqlite3") as store:
        store.record_mail(make_mail(), make_analysis("x", (make_promise("Ich rufe Sie an.", due=TODAY),)))
    monkeypatch.chdir(tmp_path)
    code, data = run_json(capsys, "promises", "list")
    assert code == 0 and [p["quote"] for p in data] == ["Ich rufe Sie an."]  # type: ignore[union-attr]


def test_console_entry_point_runs_the_command(db_path: Path, filled: dict[str, int]) -> None:
    done = subprocess.run([sys.executable, "-m", "server.cli", "promises", "overdue", "--db", str(db_path),
                           "--json"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert [p["id"] for p in json.loads(done.stdout)] == [filled["yesterday"]]

"""The SQLite store: schema and migrations, WAL, idempotent recording, states, history, errors, threads."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from datetime import date, datetime
from pathlib import Path

import pytest

from server.tracker.schema import SCHEMA_VERSION
from server.tracker.store import (
    InvalidTransition,
    PromiseNotFound,
    SchemaError,
    TrackerError,
    TrackerStore,
    TrackerUnavailable,
)
from tests.tracker.tracker_factories import MONDAY, Clock, make_analysis, make_mail, make_promise

# The schema as version 1 shipped it, frozen here so the migration is tested against a real old file.
V1_SCHEMA = """
CREATE TABLE mails (message_id TEXT PRIMARY KEY, sender TEXT NOT NULL, sender_addr TEXT NOT NULL,
    recipients TEXT NOT NULL, subject TEXT NOT NULL, sent TEXT NOT NULL, in_reply_to TEXT,
    refs TEXT NOT NULL, recorded TEXT NOT NULL);
CREATE TABLE mail_recipients (message_id TEXT NOT NULL REFERENCES mails(message_id) ON DELETE CASCADE,
    address TEXT NOT NULL, PRIMARY KEY (message_id, address)) WITHOUT ROWID;
CREATE INDEX mail_recipients_address ON mail_recipients(address);
CREATE INDEX mails_sender ON mails(sender_addr);
CREATE TABLE promises (id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES mails(message_id) ON DELETE CASCADE,
    start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL, quote TEXT NOT NULL, kind TEXT NOT NULL,
    risk TEXT NOT NULL, deadline_text TEXT, due TEXT, vague INTEGER NOT NULL DEFAULT 0, object TEXT,
    state TEXT NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'kept', 'broken', 'postponed', 'cancelled')),
    created TEXT NOT NULL, updated TEXT NOT NULL, UNIQUE (message_id, start_offset, end_offset));
CREATE INDEX promises_state ON promises(state);
CREATE TABLE history (id INTEGER PRIMARY KEY,
    promise_id INTEGER NOT NULL REFERENCES promises(id) ON DELETE CASCADE,
    old_state TEXT, new_state TEXT NOT NULL, changed_by TEXT NOT NULL, at TEXT NOT NULL, evidence TEXT,
    note TEXT, new_due TEXT);
CREATE INDEX history_promise ON history(promise_id);
INSERT INTO mails VALUES ('<old@firma.de>', 'max@firma.de', 'max@firma.de', '["anna@kunde.de"]', 'Alt',
    '2026-10-01T09:00:00', NULL, '[]', '2026-10-01T09:00:05');
INSERT INTO mail_recipients VALUES ('<old@firma.de>', 'anna@kunde.de');
INSERT INTO promises VALUES (1, '<old@firma.de>', 0, 30, 'Ich rufe Sie morgen an.', 'explicit', 'medium',
    'morgen', '2026-10-02', 0, 'Anruf', 'open', '2026-10-01T09:00:05', '2026-10-01T09:00:05');
INSERT INTO history VALUES (1, 1, NULL, 'open', 'auto', '2026-10-01T09:00:05', '<old@firma.de>', NULL, NULL);
PRAGMA user_version = 1;
"""

ANGEBOT = "Ich schicke Ihnen bis Freitag das Angebot."


def record_one(store: TrackerStore, message_id: str = "<m1@firma.de>", **kw: object) -> int:
    """Record one mail with one promise; the new promise id."""
    promise = make_promise(ANGEBOT, obj="Angebot", due=date(2026, 11, 27))
    ids = store.record_mail(make_mail(message_id, **kw), make_analysis(ANGEBOT, (promise,)))  # type: ignore[arg-type]
    assert len(ids) == 1
    return ids[0]


def test_new_database_has_current_schema_wal_and_foreign_keys(store: TrackerStore, db_path: Path) -> None:
    assert db_path.is_file()
    assert store.read("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    assert store.read("PRAGMA journal_mode")[0][0] == "wal"
    assert store.read("PRAGMA foreign_keys")[0][0] == 1
    assert store.read("PRAGMA busy_timeout")[0][0] == 5000
    tables = {r[0] for r in store.read("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"mails", "mail_recipients", "promises", "history", "reminders"} <= tables


def test_default_path_is_in_the_user_data_dir() -> None:
    import platformdirs

    path = TrackerStore.default_path()
    assert path.name == "tracker.sqlite3"
    assert path.parent == Path(platformdirs.user_data_dir("versprochen", appauthor=False))


def test_migrates_a_version_1_database_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    raw.executescript(V1_SCHEMA)
    raw.close()
    with TrackerStore(path) as store:
        assert store.read("PRAGMA user_version")[0][0] == SCHEMA_VERSION
        old = store.get(1)
        assert old is not None and old.quote == "Ich rufe Sie morgen an." and old.due == "2026-10-02"
        assert store.read("SELECT count(*) FROM reminders")[0][0] == 0
        assert store.set_state(1, "kept", by="max").state == "kept"
        assert [c.new_state for c in store.history(1)] == ["open", "kept"]


def test_read_only_open_of_an_old_database_reads_without_migrating(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    raw.executescript(V1_SCHEMA)
    raw.close()
    with TrackerStore(path, read_only=True) as store:
        assert [p.id for p in store.open_for_recipients(["anna@kunde.de"])] == [1]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(SchemaError, match="bitte versprochen aktualisieren"):
        TrackerStore(path)


def test_garbage_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SchemaError, match="keine Tracker-Datenbank"):
        TrackerStore(path)


def test_records_promise_fields_and_creation_history(store: TrackerStore) -> None:
    vague = make_promise("Ich melde mich zeitnah.", obj=None, vague=True, deadline_text="zeitnah", start=50,
                         risk="low", kind="implicit")
    dated = make_promise(ANGEBOT, obj="Angebot", due=datetime(2026, 11, 27, 14, 0))
    ids = store.record_mail(make_mail(recipients=("Anna Kunde <Anna@Kunde.de>", "b@kunde.de")),
                            make_analysis(ANGEBOT, (dated, vague)))
    first, second = (store.get(i) for i in ids)
    assert first is not None and second is not None
    assert (first.quote, first.due, first.vague, first.object, first.kind, first.risk, first.state) == (
        ANGEBOT, "2026-11-27T14:00", False, "Angebot", "explicit", "medium", "open")
    assert (second.due, second.vague, second.deadline_text, second.kind, second.risk) == (
        None, True, "zeitnah", "implicit", "low")
    assert first.recipients == ("Anna Kunde <Anna@Kunde.de>", "b@kunde.de")
    assert first.sender == "Max Muster <max@firma.de>" and first.subject == "Angebot"
    assert first.message_id == "<m1@firma.de>" and first.created == MONDAY
    [created] = store.history(first.id)
    assert (created.old_state, created.new_state, created.by, created.evidence) == (
        None, "open", "auto", "<m1@firma.de>")


def test_recording_is_idempotent_per_message_id_and_offsets(store: TrackerStore) -> None:
    first = record_one(store, "<m1@firma.de>")
    promise = make_promise(ANGEBOT, obj="Angebot", due=date(2026, 11, 27))
    # A retried mail, Message-ID written without brackets: nothing new.
    assert store.record_mail(make_mail("m1@firma.de"), make_analysis(ANGEBOT, (promise,))) == []
    # A stored mail is final: the same Message-ID with one more promise (a newer engine) adds nothing.
    other = make_promise("Ich rufe Sie an.", start=60)
    assert store.record_mail(make_mail("<m1@firma.de>"), make_analysis(ANGEBOT, (promise, other))) == []
    assert [p.id for p in store.list()] == [first]
    assert len(store.history(first)) == 1


def test_missing_message_id_gets_a_stable_stand_in(store: TrackerStore) -> None:
    promise = make_promise(ANGEBOT, due=date(2026, 11, 27))
    ids = store.record_mail(make_mail(""), make_analysis(ANGEBOT, (promise,)))
    assert store.record_mail(make_mail(""), make_analysis(ANGEBOT, (promise,))) == []
    found = store.get(ids[0])
    assert found is not None and found.message_id.endswith("@versprochen.invalid>")


def test_state_changes_keep_who_when_evidence_note_and_new_due(store: TrackerStore, clock: Clock) -> None:
    pid = record_one(store)
    clock.now = datetime(2026, 11, 26, 16, 0)
    postponed = store.set_state(pid, "postponed", by="max", note="Lieferant verspätet",
                                new_due=date(2026, 12, 2))
    assert (postponed.state, postponed.due, postponed.updated) == ("postponed", "2026-12-02", clock.now)
    clock.now = datetime(2026, 12, 1, 9, 30)
    kept = store.set_state(pid, "kept", by="anna", evidence="<done@firma.de>")
    assert kept.state == "kept" and kept.due == "2026-12-02"
    changes = store.history(pid)
    assert [(c.old_state, c.new_state, c.by) for c in changes] == [
        (None, "open", "auto"), ("open", "postponed", "max"), ("postponed", "kept", "anna")]
    assert changes[1].new_due == "2026-12-02" and changes[1].note == "Lieferant verspätet"
    assert changes[1].at == datetime(2026, 11, 26, 16, 0)
    assert changes[2].evidence == "<done@firma.de>" and changes[2].new_due is None


@pytest.mark.parametrize(("first", "second"), [
    ("kept", "broken"), ("broken", "kept"), ("cancelled", "postponed"), ("kept", "kept"),
])
def test_final_states_cannot_change(store: TrackerStore, first: str, second: str) -> None:
    pid = record_one(store)
    store.set_state(pid, first, by="max")
    kwargs = {"new_due": "2026-12-04"} if second == "postponed" else {}
    with pytest.raises(InvalidTransition, match=f"Zusage {pid} ist"):
        store.set_state(pid, second, by="max", **kwargs)  # type: ignore[arg-type]
    assert len(store.history(pid)) == 2


@pytest.mark.parametrize(("state", "kwargs", "message"), [
    ("postponed", {}, "neues Fälligkeitsdatum nötig"),
    ("kept", {"new_due": "2026-12-04"}, "nur beim Verschieben"),
    ("postponed", {"new_due": "nächste Woche"}, "Ungültiges Datum"),
    ("erledigt", {}, "Unbekannter Status"),
    ("open", {}, "ist bereits offen; nur eine gehaltene, gebrochene oder abgesagte Zusage lässt sich wieder"),
])
def test_invalid_changes_are_rejected_clearly(store: TrackerStore, state: str, kwargs: dict[str, str],
                                              message: str) -> None:
    pid = record_one(store)
    with pytest.raises(InvalidTransition, match=message):
        store.set_state(pid, state, by="max", **kwargs)  # type: ignore[arg-type]
    found = store.get(pid)
    assert found is not None and found.state == "open"


def test_unknown_promise_is_not_found(store: TrackerStore) -> None:
    with pytest.raises(PromiseNotFound):
        store.set_state(99, "kept", by="max")
    assert store.get(99) is None and store.history(99) == []


def test_list_filters_and_sorts(store: TrackerStore) -> None:
    a = record_one(store, "<a@x>", recipients=("anna@kunde.de",))
    b_promise = make_promise("Die Monteure kommen am Donnerstag um 8 Uhr.", due=datetime(2026, 11, 26, 8, 0))
    [b] = store.record_mail(make_mail("<b@x>", sender="Eva <EVA@firma.de>", recipients=("Bob <bob@bau.de>",)),
                            make_analysis("x", (b_promise,)))
    undated = make_promise("Ich melde mich.", due=None, deadline_text=None)
    [c] = store.record_mail(make_mail("<c@x>", recipients=("anna@kunde.de",)), make_analysis("x", (undated,)))
    store.set_state(a, "cancelled", by="max")
    assert [p.id for p in store.list()] == [b, a, c]  # by due, undated last
    assert [p.id for p in store.list(state="open")] == [b, c]
    assert [p.id for p in store.list(state=("cancelled", "open"))] == [b, a, c]
    assert [p.id for p in store.list(owner="eva@Firma.de")] == [b]
    assert [p.id for p in store.list(owner="Max Muster <MAX@firma.de>")] == [a, c]
    assert [p.id for p in store.list(recipient="Anna <ANNA@kunde.de>")] == [a, c]
    assert [p.id for p in store.list(recipient="@BAU.de")] == [b]
    assert [p.id for p in store.list(due_from=date(2026, 11, 27))] == [a]
    assert [p.id for p in store.list(due_to="2026-11-26")] == [b]
    assert [p.id for p in store.list(due_from=datetime(2026, 11, 26, 9, 0))] == [a]
    assert [p.id for p in store.list(due_from="2026-11-26", due_to="2026-11-27")] == [b, a]
    with pytest.raises(InvalidTransition):
        store.list(state="offen")


def test_open_for_recipients_matches_bare_addresses_and_active_states(store: TrackerStore) -> None:
    a = record_one(store, "<a@x>", recipients=("Anna Kunde <anna@kunde.de>", "chef@kunde.de"))
    b = record_one(store, "<b@x>", recipients=("anna@kunde.de",))
    c = record_one(store, "<c@x>", recipients=("anna@kunde.de",))
    store.set_state(b, "postponed", by="max", new_due="2026-12-04")
    store.set_state(c, "kept", by="max")
    assert [p.id for p in store.open_for_recipients(["ANNA@Kunde.DE"])] == [a, b]
    assert [p.id for p in store.open_for_recipients(["Chef <chef@kunde.de>, x@y.de"])] == [a]
    assert store.open_for_recipients(["nobody@kunde.de"]) == []
    assert store.open_for_recipients([]) == []


def test_read_only_store_reads_while_a_writer_is_open(store: TrackerStore, db_path: Path) -> None:
    pid = record_one(store)
    with TrackerStore(db_path, read_only=True) as reader:
        assert reader.get(pid) is not None
        # A change committed by the writer is visible to the open reader (WAL).
        store.set_state(pid, "kept", by="max")
        found = reader.get(pid)
        assert found is not None and found.state == "kept"
        with pytest.raises(TrackerUnavailable, match="nur lesend"):
            reader.record_mail(make_mail("<n@x>"), make_analysis("x", (make_promise("Ich rufe an."),)))


def test_read_only_store_works_after_the_writer_closed(db_path: Path, clock: Clock) -> None:
    with TrackerStore(db_path, clock=clock) as writer:
        pid = record_one(writer)
    with TrackerStore(db_path, read_only=True) as reader:
        assert [p.id for p in reader.open_for_recipients(["anna@kunde.de"])] == [pid]


def test_read_only_open_never_creates_a_file(tmp_path: Path) -> None:
    missing = tmp_path / "nichts.sqlite3"
    with pytest.raises(TrackerError, match="Keine Tracker-Datenbank"):
        TrackerStore(missing, read_only=True)
    assert not missing.exists()


def test_locked_database_raises_unavailable_and_keeps_nothing(db_path: Path, clock: Clock) -> None:
    TrackerStore(db_path).close()
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with TrackerStore(db_path, busy_timeout=0.05, clock=clock) as store:
            with pytest.raises(TrackerUnavailable, match="locked"):
                record_one(store)
            blocker.execute("ROLLBACK")
            assert store.list() == []
            record_one(store)
            assert len(store.list()) == 1
    finally:
        blocker.close()


def test_full_disk_raises_unavailable_and_rolls_back(store: TrackerStore) -> None:
    record_one(store, "<a@x>")
    pages = store.read("PRAGMA page_count")[0][0]
    # max_page_count is per connection: this caps the store's own connection, as a full disk would.
    store.read(f"PRAGMA max_page_count = {pages}")
    big = make_promise("Ich schicke Ihnen das Angebot. " * 4000, due=date(2026, 11, 27))
    with pytest.raises(TrackerUnavailable, match="full"):
        store.record_mail(make_mail("<big@x>"), make_analysis("x", (big,)))
    assert [p.message_id for p in store.list()] == ["<a@x>"]
    assert store.read("SELECT count(*) FROM mails")[0][0] == 1


def test_concurrent_threads_each_use_their_own_connection(store: TrackerStore, db_path: Path) -> None:
    errors: list[BaseException] = []
    connections: set[int] = set()
    other = TrackerStore(db_path)  # a second store, as a second process would have

    def writer(n: int, target: TrackerStore) -> None:
        try:
            for i in range(12):
                record_one(target, f"<t{n}-{i}@x>")
                assert target.open_for_recipients(["anna@kunde.de"])
                connections.add(id(target._conn()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n, store if n % 2 else other)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert errors == []
    promises = store.list()
    assert len(promises) == 96 and len({p.id for p in promises}) == 96
    assert len(connections) == 8  # eight threads, eight connections


def test_closed_store_refuses_use(db_path: Path) -> None:
    store = TrackerStore(db_path)
    store.close()
    with pytest.raises(TrackerError, match="geschlossen"):
        store.list()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("runuser")
                    or not Path("/usr/bin/python3").is_file(), reason="needs root to run as another user")
def test_read_only_folder_is_readable_by_another_user(clock: Clock) -> None:
    """As the language server of a user who may not write the tracker's folder (no -shm file possible)."""
    folder = Path(tempfile.mkdtemp(prefix="versprochen-ro-", dir="/tmp"))
    try:
        with TrackerStore(folder / "t.sqlite3", clock=clock) as writer:
            record_one(writer)
        (folder / "t.sqlite3").chmod(0o444)
        folder.chmod(0o555)
        script = ("from pathlib import Path; from server.tracker.store import TrackerStore as T\n"
                  f"s = T(Path('{folder}/t.sqlite3'), read_only=True)\n"
                  "print(s.open_for_recipients(['anna@kunde.de'])[0].quote)\n"
                  f"try:\n    T(Path('{folder}/t.sqlite3'))\nexcept Exception as e:\n    print(type(e).__name__)\n")
        # The checkout may sit in a folder "nobody" cannot enter (mktemp makes them 0700): give it a copy.
        root = Path(__file__).resolve().parents[2]
        code = folder.parent / f"{folder.name}-code"
        for package in ("server", "lexicon"):
            shutil.copytree(root / package, code / package, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
        code.chmod(0o755)
        done = subprocess.run(["runuser", "-u", "nobody", "--", "env", f"PYTHONPATH={code}", "/usr/bin/python3",
                               "-c", script], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [ANGEBOT, "TrackerUnavailable"]
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
        shutil.rmtree(folder.parent / f"{folder.name}-code", ignore_errors=True)

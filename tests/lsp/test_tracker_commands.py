"""The tracker in the editor and the workspace commands: open promises at the To line, checkAll, openPromises."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types

from server.engine.types import Analysis, Deadline, MailStructure, Promise, Severity
from server.lsp.tracker import TrackerView
from server.tracker.store import SentMail, TrackerStore
from tests.lsp.conftest import CLIENTS, Session, fresh_workspace, start_session

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUOTE = "Ich schicke Ihnen den Kostenvoranschlag bis Freitag"
DRAFT = (
    "Date: Mon, 23 Nov 2026 10:00:00 +0100\n"
    "An: Anna Reuter <anna@kunde.de>\n"
    "Betreff: Kostenvoranschlag\n"
    "\n"
    "Hallo Frau Reuter,\n"
    "\n"
    "anbei erhalten Sie den Kostenvoranschlag.\n"
)


def record(db: Path, recipient: str, quote: str, obj: str, due: date, message_id: str) -> None:
    """Record one sent mail with one promise through the tracker's own API."""
    deadline = Deadline(quote.index("bis"), len(quote), "bis Freitag", due)
    promise = Promise(0, len(quote), quote, "explicit", "medium", "Commitments", "Zusage", "Grund",
                      Severity.INFORMATION, deadline=deadline, object=obj)
    analysis = Analysis(text=quote + ".", sent=datetime(2026, 11, 18, 9, 0), mail=MailStructure(),
                        promises=(promise,))
    store = TrackerStore(db)
    try:
        store.record_mail(SentMail(message_id=message_id, sender="Max Berger <max@firma.de>",
                                   recipients=(recipient,), subject="Kostenvoranschlag",
                                   sent=datetime(2026, 11, 18, 9, 0)), analysis)
    finally:
        store.close()


@pytest.fixture(scope="module")
def tracker_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tracker database with an overdue promise to Anna Reuter and one to somebody else."""
    db = tmp_path_factory.mktemp("tracker") / "tracker.sqlite3"
    record(db, "Anna Reuter <anna@kunde.de>", QUOTE, "Kostenvoranschlag", date(2026, 11, 20), "<1@firma.de>")
    record(db, "bernd@andere.de", "Ich schicke Ihnen die Rechnung bis Freitag", "Rechnung", date(2026, 12, 4),
           "<2@firma.de>")
    return db


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=CLIENTS)
async def tracked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  tracker_db: Path) -> AsyncIterator[Session]:
    """A server that reads the tracker database named in its settings."""
    root = fresh_workspace(tmp_path_factory, request.param)
    async with start_session(request.param, root, init_options={"tracker": {"path": str(tracker_db)}}) as s:
        yield s


async def test_open_promises_at_the_to_line(tracked: Session) -> None:
    """The recipient's open promise is an information diagnostic on the An: line, overdue and dated."""
    uri = tracked.uri("kv.txt")
    published = await tracked.open(uri, DRAFT)
    tracker = [d for d in published.diagnostics if d.code == "versprochen.OpenPromises"]
    assert len(tracker) == 1, published.diagnostics
    d = tracker[0]
    assert tracked.span(uri, d.range) == "An: Anna Reuter <anna@kunde.de>"
    assert d.severity == types.DiagnosticSeverity.Information
    assert QUOTE in d.message and "überfällig" in d.message and "20.11.2026" in d.message
    assert "Rechnung" not in d.message


async def test_delivery_of_a_tracked_promise_offers_wie_versprochen(tracked: Session) -> None:
    """Handing over what the tracker says was promised offers the "Wie versprochen" rewrite."""
    uri = tracked.uri("lieferung.txt")
    await tracked.open(uri, DRAFT)
    start = tracked.position_of(uri, "anbei")
    end = tracked.position_of(uri, "Kostenvoranschlag.", len("Kostenvoranschlag"))
    actions = await tracked.code_actions(uri, types.Range(start, end))
    rewrite = [a for a in actions if "Wie versprochen" in a.title]
    assert len(rewrite) == 1 and rewrite[0].edit is not None
    # After "Hallo Frau Reuter," the sentence goes on in lower case: "wie versprochen, erhalten Sie …".
    assert "wie versprochen, erhalten sie anbei" in tracked.apply_edit(uri, rewrite[0].edit).lower()


async def test_open_promises_command(tracked: Session) -> None:
    """versprochen.openPromises lists the recipient's open promises as JSON for the extension."""
    uri = tracked.uri("liste.txt")
    await tracked.open(uri, DRAFT)
    result = await tracked.command("versprochen.openPromises", uri)
    assert len(result) == 1
    item = result[0]
    assert item["quote"] == QUOTE and item["overdue"] is True and item["due"] == "2026-11-20"
    assert item["dueText"].startswith("Freitag, 20.11.2026")


async def test_check_all_reports_progress(tracked: Session) -> None:
    """versprochen.checkAll re-checks every open document and reports begin, progress and end."""
    first, second = tracked.uri("eins.txt"), tracked.uri("zwei.md")
    await tracked.open(first, "Wir liefern garantiert bis Freitag.\n")
    await tracked.open(second, "Das Meeting ist zeitnah.\n", language="markdown")
    open_docs = len({e.uri for e in tracked.recorder.events})
    mark = len(tracked.recorder.events)
    result = await tracked.command("versprochen.checkAll")
    assert result["documents"] >= 2 and result["documents"] <= open_docs
    assert result["findings"] >= 2 and result.get("highRisk", 0) >= 1
    rechecked = {e.uri for e in tracked.recorder.events[mark:]}
    assert {first, second} <= rechecked
    reports = [r for token, r in tracked.client.progress_reports.items() if "checkAll" in str(token)]
    assert reports, tracked.client.progress_reports
    kinds = [type(v).__name__ for v in reports[-1]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    assert kinds.count("WorkDoneProgressReport") == result["documents"]


async def test_tracker_view_degrades_silently(tmp_path: Path) -> None:
    """A missing or foreign database file means "no tracker", without raising."""
    view = TrackerView()
    view.configure(tmp_path / "fehlt.sqlite3")
    assert view.open_for(["anna@kunde.de"], datetime(2026, 11, 23)) == []
    junk = tmp_path / "kaputt.sqlite3"
    junk.write_bytes(b"kein sqlite" * 100)
    view.configure(junk)
    assert view.open_for(["anna@kunde.de"], datetime(2026, 11, 23)) == []
    view.close()

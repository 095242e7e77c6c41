"""Worker processes record exactly the mails the upstream accepted; reminder cycles run in both modes."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from smtp_proxy.reminders import reminder_cycle
from tests.smtp_proxy.helpers import mail, send, tracker_rows
from tests.smtp_proxy.support import CaptureHandler, FakeAnalyzer, ProxyFactory, UpstreamController

pytestmark = pytest.mark.slow


def wait_for(condition: Callable[[], bool], limit: float = 30) -> None:
    """Poll until the condition holds (the worker records in the background)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("Bedingung nicht erfüllt")
        time.sleep(0.05)


def mail_ids(db: Path) -> set[str]:
    return {r["message_id"] for r in tracker_rows(db, "mails")} if db.exists() else set()


def test_worker_records_accepted_mail_only(make_proxy: ProxyFactory, upstream: UpstreamController,
                                           tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    proxy = make_proxy(upstream.port, analyzer=FakeAnalyzer, db=db, workers=1)
    handler: CaptureHandler = upstream.handler
    handler.mode = "5xx"
    assert send(proxy.port, mail(message_id="<refused@firma.example>"))[0] == 554
    handler.mode = "4xx"
    assert send(proxy.port, mail(message_id="<deferred@firma.example>"))[0] == 450
    handler.mode = "ok"
    assert send(proxy.port, mail(message_id="<accepted@firma.example>"))[0] == 250
    header = handler.messages[0].data.split(b"\r\n", 1)[0]
    assert header == b"X-Versprochen: 1 Zusage; naechste Frist 2026-11-27"
    wait_for(lambda: "<accepted@firma.example>" in mail_ids(db))
    assert mail_ids(db) == {"<accepted@firma.example>"}
    assert [r["quote"] for r in tracker_rows(db)] == ["ZUSAGE bis 2026-11-27"]


@pytest.mark.parametrize("workers", [0, 1])
def test_the_reminder_cycle_runs_through_the_upstream(
        make_proxy: ProxyFactory, upstream: UpstreamController, tmp_path: Path, workers: int) -> None:
    db = tmp_path / "t.sqlite3"
    # The promise is due 2030-01-10; a cycle "at" 2030-01-09 12:00 with 24 h lead must remind once.
    cycle = functools.partial(reminder_cycle, host="127.0.0.1", port=upstream.port, timeout=10.0,
                              lead=24 * 3600.0, from_address="versprochen@firma.example", templates=None,
                              now=datetime(2030, 1, 9, 12, 0))
    proxy = make_proxy(upstream.port, analyzer=FakeAnalyzer, db=db, workers=workers, reminder=cycle,
                       remind_every=0.2)
    assert send(proxy.port, mail("Ich liefere ZUSAGE bis 2030-01-10.\r\n", "<remind@firma.example>"))[0] == 250
    handler: CaptureHandler = upstream.handler
    wait_for(lambda: len(handler.messages) >= 2)
    reminder = handler.messages[1]
    assert reminder.rcpt_tos == ["anna@firma.example"]
    assert reminder.mail_from == "versprochen@firma.example"
    assert not reminder.data.startswith(b"X-Versprochen:")  # straight upstream, not through the proxy
    assert b"X-Versprochen-Reminder: 1; lead; 2030-01-10" in reminder.data
    time.sleep(0.6)  # a few more cycles: the tracker never sends the same reminder twice
    assert len(handler.messages) == 2


async def test_a_late_result_is_settled_as_refused_so_nothing_leaks() -> None:
    from smtp_proxy.pool import ExtractionPool
    from tests.smtp_proxy.helpers import mail as make_mail
    from tests.smtp_proxy.support import SlowAnalyzer

    pool = ExtractionPool(SlowAnalyzer, workers=1, budget=0.2)
    await pool.start()
    try:
        late = await pool.extract(make_mail("LANGSAM ZUSAGE\r\n"), "a@b", ["c@d"])
        assert late.header == "error=timeout"
        fast = await pool.extract(make_mail("ZUSAGE\r\n"), "a@b", ["c@d"])  # queued behind the slow one
        assert fast.header in ("1 Zusage", "error=timeout")
        processes = pool._processes
        assert processes is not None
        deadline = asyncio.get_running_loop().time() + 10
        while processes.workers[0].job is not None and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        # Results nobody waits for any more were settled as refused: no owner entries pile up.
        assert len(processes._owners) == (1 if fast.ticket is not None else 0)
    finally:
        await pool.close()

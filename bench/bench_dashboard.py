"""Dashboard figures: page, feed, ledger and chart times over a tracker with many promises (prints figures)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.dashboard import ledger, views
from server.dashboard.app import create_app
from server.dashboard.ics import calendar_bytes
from server.tracker.store import TrackerStore
from templates import make_environment
from tests.tracker.tracker_factories import Clock, make_analysis, make_mail, make_promise

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NOW = datetime(2026, 11, 25, 9, 0)
PROMISES = 5000
CUSTOMERS = 200


def seed(path: Path) -> None:
    """PROMISES promises to CUSTOMERS customers from 10 owners, a third of them settled."""
    clock = Clock(datetime(2026, 9, 1, 9, 0))
    with TrackerStore(path, clock=clock) as store:
        for i in range(PROMISES):
            clock.now = datetime(2026, 9, 1, 9, 0) + timedelta(minutes=30 * i)
            due = date(2026, 9, 3) + timedelta(days=i % 120)
            p = make_promise(f"Ich schicke Ihnen bis Freitag das Angebot Nr. {i}.", due=due)
            store.record_mail(make_mail(f"<m{i}@firma.de>", sender=f"Person {i % 10} <p{i % 10}@firma.de>",
                                        recipients=(f"Kunde {i % CUSTOMERS} <k{i % CUSTOMERS}@kunde.de>",),
                                        sent=clock.now), make_analysis(p.text, (p,)))
        for pid in range(1, PROMISES + 1, 3):
            store.set_state(pid, "kept" if pid % 2 else "broken", by="bench")


def timed(label: str, fn: object, runs: int = 20) -> None:
    """Print p50 and max wall time of `fn()` over `runs` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    print(f"{label:<48} p50 {statistics.median(times):8.1f} ms   max {max(times):8.1f} ms")


def main() -> None:
    """Seed, then time the pages through Starlette's TestClient and the builders directly."""
    path = Path(tempfile.mkdtemp()) / "tracker.sqlite3"
    start = time.perf_counter()
    seed(path)
    print(f"seeded {PROMISES} promises for {CUSTOMERS} customers in {time.perf_counter() - start:.1f} s")
    env = make_environment(use_config=False)
    with TrackerStore(path) as store, TestClient(create_app(store, user="bench", env=env,
                                                            clock=lambda: NOW)) as client:
        timed(f"GET / (all {PROMISES}, first 300 rendered)", lambda: client.get("/"), 10)
        timed("GET /?customer=k7@kunde.de", lambda: client.get("/?customer=k7@kunde.de"))
        timed("GET /promise/42", lambda: client.get("/promise/42"))
        timed("GET /stats (two SVG charts)", lambda: client.get("/stats"), 10)
        timed("GET /ledger?customer=k7@kunde.de", lambda: client.get("/ledger?customer=k7@kunde.de"))
        timed("GET /digest", lambda: client.get("/digest"), 10)
        timed("GET /calendar.ics", lambda: client.get("/calendar.ics"), 5)
        active = store.list(state=("open", "postponed"))
        timed(f"calendar_bytes ({len(active)} events)", lambda: calendar_bytes(active, now=NOW), 5)
        timed("build_ledger (25 promises)", lambda: ledger.build_ledger(store, "k7@kunde.de", NOW))
        timed("select_rows, no filter", lambda: views.select_rows(store, views.Filters(), NOW), 10)
        size = len(client.get("/").content)
        print(f"GET / page size: {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()

"""Tracker benchmark: record_mail throughput and latency, LSP-side reads, reminder cycles, CLI start-up.

Run: .venv/bin/python bench/bench_tracker.py [--promises 10000]. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from server.engine.types import Analysis, Deadline, Delivery, MailStructure, Promise, Severity
from server.tracker.remind import run_reminder_cycle
from server.tracker.store import SentMail, TrackerStore
from templates import make_environment

SENT = datetime(2026, 11, 23, 10, 0)
OBJECTS = ("Angebot", "Zeichnung", "Rechnung", "Unterlagen", "Terminvorschlag", "Preisliste", "Bericht")


def promise(n: int, start: int) -> Promise:
    obj = OBJECTS[n % len(OBJECTS)]
    text = f"Ich schicke Ihnen bis Freitag {n} das {obj}."
    return Promise(start, start + len(text), text, "explicit", "medium", "Promise", "m", "r", Severity.WARNING,
                   Deadline(start, start + 11, "bis Freitag", date(2026, 11, 27) + timedelta(days=n % 20)),
                   object=obj)


def mail(n: int, *, customers: int = 500) -> SentMail:
    return SentMail(f"<bench-{n}@firma.de>", f"Sachbearbeiter {n % 20} <sb{n % 20}@firma.de>",
                    (f"Kunde {n % customers} <kunde{n % customers}@kunde.de>",), f"Vorgang {n}", SENT)


def analysis(n: int, *, deliveries: bool = False) -> Analysis:
    found = (promise(n, 0), promise(n + 1, 100))
    delivered = (Delivery(0, 20, "Anbei das Angebot", "Angebot", False, "Delivery", "m", "r", Severity.HINT),)
    return Analysis("x", SENT, MailStructure(), found, deliveries=delivered if deliveries else ())


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return f"p50 {p(0.50):.2f} ms, p95 {p(0.95):.2f} ms, p99 {p(0.99):.2f} ms, max {ordered[-1] * 1000:.2f} ms"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def bench_record(folder: Path, count: int) -> None:
    with TrackerStore(folder / "record.sqlite3") as store:
        lat = []
        t0 = time.perf_counter()
        for n in range(count):
            t = time.perf_counter()
            store.record_mail(mail(n), analysis(n))
            lat.append(time.perf_counter() - t)
        total = time.perf_counter() - t0
    print(f"record_mail, 1 thread, 2 promises/mail: {count / total:.0f} mails/s; {percentiles(lat)}")
    with TrackerStore(folder / "threads.sqlite3") as store:
        def work(k: int) -> None:
            for n in range(k, count, 4):
                store.record_mail(mail(n), analysis(n))
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        total = time.perf_counter() - t0
    print(f"record_mail, 4 threads sharing one store: {count / total:.0f} mails/s")


def bench_reads(folder: Path, promises: int) -> Path:
    path = folder / "big.sqlite3"
    with TrackerStore(path) as store:
        t0 = time.perf_counter()
        for n in range(promises // 2):
            store.record_mail(mail(n), analysis(n))
        print(f"filled {promises} promises in {time.perf_counter() - t0:.1f} s")
        lat = timed(lambda: store.record_mail(mail(10**7 + int(time.perf_counter_ns() % 10**9)),
                                              analysis(1, deliveries=True)), 200)
        print(f"record_mail with a delivery (kept detection) on {promises} promises: {percentiles(lat)}")
    with TrackerStore(path, read_only=True) as reader:
        lat = timed(lambda: reader.open_for_recipients(["kunde7@kunde.de", "x@y.de"]), 300)
        print(f"open_for_recipients (read-only, LSP) on {promises} promises: {percentiles(lat)}")
        lat = timed(lambda: TrackerStore(path, read_only=True).close(), 50)
        print(f"open + close read-only store: {percentiles(lat)}")
        lat = timed(lambda: reader.list(state="open"), 10)
        print(f"list(state='open') of {promises} promises: {percentiles(lat)}")
    return path


def bench_reminders(path: Path) -> None:
    env = make_environment(use_config=False)
    sent: list[EmailMessage] = []
    with TrackerStore(path) as store:
        t0 = time.perf_counter()
        results = run_reminder_cycle(store, datetime(2026, 11, 26, 9, 0), timedelta(hours=24), sent.append,
                                     env=env)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = run_reminder_cycle(store, datetime(2026, 11, 26, 9, 5), timedelta(hours=24), sent.append,
                                   env=env)
        idle = time.perf_counter() - t0
    print(f"reminder cycle sending {len(results)} reminders (fake send): {first:.2f} s "
          f"({len(results) / first:.0f}/s); next cycle with nothing due: {idle * 1000:.0f} ms "
          f"({len(again)} sent)")


def bench_cli(path: Path) -> None:
    for argv in (["--help"], ["promises", "overdue", "--db", str(path)], ["promises", "show", "1", "--db", str(path)]):
        samples = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "server.cli", *argv], capture_output=True, check=False)
            samples.append(time.perf_counter() - t0)
        print(f"versprochen {' '.join(argv[:2])}: median {statistics.median(samples) * 1000:.0f} ms wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--promises", type=int, default=10_000)
    parser.add_argument("--mails", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_record(folder, args.mails)
        path = bench_reads(folder, args.promises)
        bench_reminders(path)
        bench_cli(path)


if __name__ == "__main__":
    main()

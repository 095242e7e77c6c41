"""Proxy throughput: Postfix's smtp-source → relay → smtp-sink, the versprochen proxy against a plain
aiosmtpd pass-through relay measured in the same run on the same mails. Budget: ratio ≥ 0.7.

Honest about varied mail: smtp-source repeats one file, and the engine would answer every copy from
its paragraph cache. So every proxy variant but `proxy-cache` runs with the engine's cache switched
off (each mail costs a full analysis, as a distinct mail does), and the tracker sees each copy as a
new mail (own Message-ID, one of 50 customers), so it does the inserts and kept detection that real
mail causes. Rounds rotate over the four sample files of each size.

Run: .venv/bin/python bench/bench_proxy.py [--messages 3000] [--rounds 3] [--relays plain,proxy,...]
Prints messages/s, the ratio to the plain relay, CPU per mail, how many mails were tagged with a full
analysis / relayed `pending` / failed, and the seconds after the last mail until every accepted
mail's promises were in the tracker.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.loopback import free_port, wait_port

ROOT = Path(__file__).resolve().parents[1]
MAILS = ROOT / "bench" / "mails"
SESSIONS = 20
INSTALL_HINT = """smtp-source/smtp-sink fehlen (sie gehören zu Debians Paket postfix).
Installation ohne Dienststart:
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postfix"""

# name -> what the serving child runs; the plain relay is the baseline of the budget.
RELAYS = {
    "plain": "aiosmtpd → aiosmtplib, eine Verbindung je Mail, ohne Analyse",
    "proxy": "versprochen proxy wie ausgeliefert (--tag-wait 0.2s, --queue 5000), Engine-Cache aus",
    "proxy-inline": "wie proxy, aber jede Mail wartet auf ihre Analyse (--tag-wait = --extract-budget)",
    "proxy-q200": "wie proxy, Warteschlange nur 200 Mails (zeigt den Dauerbetrieb über der Queue)",
    "proxy-cache": "wie proxy, Engine-Cache an (smtp-source wiederholt eine Mail: geschönt)",
    "proxy-1w": "wie proxy, nur ein Analyseprozess",
}
CUSTOMERS = 50


# ---- serving children -------------------------------------------------------------------------

class PlainRelay:
    """The baseline: relays each message unchanged with aiosmtplib, a new connection per message."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.stats = {"2xx": 0, "4xx": 0}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Relay; 250 only after the upstream's 250."""
        import aiosmtplib

        try:
            await aiosmtplib.send(envelope.original_content, sender=envelope.mail_from,
                                  recipients=envelope.rcpt_tos, hostname="127.0.0.1", port=self.upstream,
                                  local_hostname="bench", start_tls=False)
        except Exception as exc:
            self.stats["4xx"] += 1
            return f"451 4.4.1 {type(exc).__name__}"
        self.stats["2xx"] += 1
        return "250 OK"


def uncached_engine(start: str) -> Any:
    """The engine with its paragraph cache disabled (smtp-source repeats one mail; real mail does not)."""
    import server.engine.engine as engine_module
    from smtp_proxy.command import build_engine

    engine_module.CACHE_SIZE = 0
    return build_engine(start)


class DistinctMails:
    """A tracker store that records every copy as a new mail: own Message-ID, one of CUSTOMERS customers."""

    def __init__(self, path: Path) -> None:
        from smtp_proxy.recorder import open_store

        self.store = open_store(path)
        self.count = 0

    def record_mail(self, mail: Any, analysis: Any) -> list[int]:
        """Record under a fresh Message-ID and a rotating customer address."""
        import dataclasses
        import uuid

        self.count += 1
        mail = dataclasses.replace(mail, message_id=f"<{uuid.uuid4().hex}@bench.example>",
                                   recipients=(f"kunde{self.count % CUSTOMERS}@kunde.example",))
        return self.store.record_mail(mail, analysis)

    def close(self) -> None:
        """Close the real store."""
        self.store.close()


def settings_for(kind: str, listen: int, upstream: int) -> Any:
    """The proxy settings of one benchmark variant."""
    from smtp_proxy.command import default_workers
    from smtp_proxy.settings import ProxySettings

    settings = ProxySettings(listen_port=listen, upstream_port=upstream,
                             workers=1 if kind.endswith("-1w") else default_workers())
    if kind == "proxy-inline":
        return dataclasses.replace(settings, tag_wait=settings.extract_budget)
    if kind == "proxy-q200":
        return dataclasses.replace(settings, queue_max=200)
    return settings


async def serve(kind: str, listen: int, upstream: int, db: Path, stats_path: Path) -> dict[str, Any]:
    """Run one relay until SIGTERM; SIGUSR1 asks it to wait for its analysis backlog (see `drain`)."""
    from aiosmtpd.smtp import SMTP

    from smtp_proxy.command import build_engine
    from smtp_proxy.server import ProxyServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if kind == "plain":
        handler = PlainRelay(upstream)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="bench", enable_SMTPUTF8=True, data_size_limit=10_240_000),
            "127.0.0.1", listen)
        loop.add_signal_handler(signal.SIGUSR1, lambda: snapshot(stats_path, dict(handler.stats), 0.0, 0))
        await stop.wait()
        server.close()
        return handler.stats
    factory = build_engine if kind == "proxy-cache" else uncached_engine
    proxy = ProxyServer(settings_for(kind, listen, upstream), functools.partial(factory, str(ROOT)),
                        functools.partial(DistinctMails, db))
    await proxy.start()
    tasks: set[asyncio.Task[None]] = set()

    async def drained() -> None:
        started = time.perf_counter()
        await proxy.pool.sync(900)
        snapshot(stats_path, dict(proxy.handler.stats), time.perf_counter() - started, proxy.pool.recorded[0])

    def on_usr1() -> None:
        task = asyncio.create_task(drained())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    loop.add_signal_handler(signal.SIGUSR1, on_usr1)
    await stop.wait()
    await proxy.stop(grace=10)
    return dict(proxy.handler.stats)


def snapshot(path: Path, stats: dict[str, Any], drain: float, recorded: int) -> None:
    """Append the counters after a drain to the stats file (one JSON line per drain)."""
    with path.with_suffix(".drains").open("a") as fh:
        fh.write(json.dumps({"stats": stats, "drain": drain, "recorded": recorded}) + "\n")


# ---- the measuring parent ---------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """The pid and its direct children (the proxy's analysis workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(c) for c in children.read_text().split())] if children.exists() else [pid]


def smtp_source(port: int, mail: Path, messages: int) -> float:
    """Send `messages` copies of `mail` over SESSIONS parallel sessions; returns messages/s."""
    args = ["smtp-source", "-s", str(SESSIONS), "-m", str(messages), "-d", "-F", str(mail),
            "-f", "anna.schmidt@firma.example", "-t", "max@kunde.example", "-M", "bench.example",
            f"127.0.0.1:{port}"]
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"smtp-source fehlgeschlagen: {result.stderr.strip()}")
    return messages / elapsed


def start_sink() -> tuple[subprocess.Popen[bytes], int]:
    """smtp-sink on a free port (as root it must drop privileges with -u)."""
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen(["smtp-sink", *user, "-m", "1000", f"127.0.0.1:{port}", "1024"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, sink)
    return sink, port


def drain(child: subprocess.Popen[bytes], stats: Path, count: int) -> dict[str, Any]:
    """Ask the relay to finish its analysis backlog; its counters once the tracker has everything."""
    child.send_signal(signal.SIGUSR1)
    drains = stats.with_suffix(".drains")
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        lines = drains.read_text().splitlines() if drains.exists() else []
        if len(lines) >= count:
            return dict(json.loads(lines[count - 1]))
        time.sleep(0.05)
    raise SystemExit("Relay meldet das Ende seiner Analysen nicht")


def one_run(kind: str, sink_port: int, mail: Path, count: int, folder: Path) -> dict[str, Any]:
    """A fresh relay: warm up, measure, wait for the tracker, stop; rates, CPU and counters.

    Fresh per run, so no relay's leftover background work (a tracker backlog) taxes the next one.
    """
    port = free_port()
    out = folder / f"{kind}-{mail.stem}.json"
    child = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--listen", str(port),
                              "--upstream", str(sink_port), "--db", str(folder / f"{kind}-{mail.stem}.sqlite3"),
                              "--stats", str(out)], cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, child)
        smtp_source(port, mail, 200)  # warm-up: worker start, connections, caches
        before_run = drain(child, out, 1)
        pids = process_tree(child.pid)
        before = [cpu_seconds(p) for p in pids]
        rate = smtp_source(port, mail, count)
        cpu = [(cpu_seconds(p) - b) * 1000 / count for p, b in zip(pids, before, strict=True)]
        after_run = drain(child, out, 2)
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(120)
    counts = {key: after_run["stats"].get(key, 0) - before_run["stats"].get(key, 0)
              for key in set(after_run["stats"]) | set(before_run["stats"])}
    counts["recorded"] = after_run["recorded"] - before_run["recorded"]
    return {"rate": rate, "cpu_main": cpu[0], "cpu_workers": sum(cpu[1:]), "stats": counts,
            "drain": after_run["drain"]}


def measure(messages: int, rounds: int, kinds: list[str]) -> dict[str, Any]:
    """All relays, both mail sizes, interleaved rounds (rotating the sample mails); medians count."""
    sink, sink_port = start_sink()
    folder = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    results: dict[str, Any] = {}
    try:
        for size, count in (("4KB", messages), ("40KB", max(messages // 3, 200))):
            runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
            for n in range(rounds):
                mail = MAILS / f"{'small' if size == '4KB' else 'large'}-{n % 4}.eml"
                for kind in kinds:
                    runs[kind].append(one_run(kind, sink_port, mail, count, folder))
            results[size] = runs
    finally:
        sink.terminate()
        sink.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    return results


def report(results: dict[str, Any], kinds: list[str]) -> None:
    """The figures as a small table: median rate, ratio to plain, CPU per message, counters."""
    print(f"smtp-source -s {SESSIONS} -d → Relay → smtp-sink, {os.cpu_count()} Kerne, "
          f"Median aus {len(results['4KB']['plain'])} Runden, Last vorher {os.getloadavg()[0]:.1f}")
    for size in ("4KB", "40KB"):
        plain = [r["rate"] for r in results[size]["plain"]]
        for kind in kinds:
            runs = results[size][kind]
            rate = statistics.median(r["rate"] for r in runs)
            # Each run against the plain run just before it: background load drifts less within a pair.
            ratio = statistics.median(r["rate"] / p for r, p in zip(runs, plain, strict=True))
            main_cpu = statistics.median(r["cpu_main"] for r in runs)
            workers = statistics.median(r["cpu_workers"] for r in runs)
            each = ", ".join(f"{r['rate']:.0f}" for r in runs)
            line = (f"  {size:>4} {kind:<13} {rate:6.1f} msg/s  Verhältnis {ratio:4.2f}  "
                    f"CPU/Mail {main_cpu:4.2f} ms + Worker {workers:5.2f} ms  ({each})")
            if kind != "plain":
                sums = {key: sum(r["stats"].get(key, 0) for r in runs)
                        for key in ("tagged", "pending", "2xx", "recorded")}
                errors = sum(v for r in runs for k, v in r["stats"].items() if k.startswith("extract_"))
                drains = ", ".join(f"{r['drain']:.1f}" for r in runs)
                line += (f"\n{'':>20}voll ausgewertet {sums['tagged']}, pending {sums['pending']}, "
                         f"Fehler {errors}, von {sums['2xx']} angenommenen; im Tracker {sums['recorded']}; "
                         f"Tracker vollständig {drains} s nach der letzten Mail")
            print(line)
    print("Verhältnis = Median der Rundenpaare (Lauf ÷ plain-Lauf derselben Runde). "
          "Budget: proxy/plain ≥ 0.70")


def main() -> int:
    """Measure, or (with --serve) run one relay as a child process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--relays", default="plain,proxy,proxy-inline")
    parser.add_argument("--serve", choices=tuple(RELAYS))
    parser.add_argument("--listen", type=int)
    parser.add_argument("--upstream", type=int)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--stats", type=Path)
    args = parser.parse_args()
    if args.serve:
        stats = asyncio.run(serve(args.serve, args.listen, args.upstream, args.db, args.stats))
        args.stats.write_text(json.dumps(stats))
        return 0
    if not (shutil.which("smtp-source") and shutil.which("smtp-sink")):
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    kinds = args.relays.split(",")
    if "plain" not in kinds:
        kinds.insert(0, "plain")
    report(measure(args.messages, args.rounds, kinds), kinds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

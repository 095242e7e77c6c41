"""Proxy throughput: Postfix's smtp-source → relay → smtp-sink, the versprochen proxy against a plain
aiosmtpd pass-through relay measured in the same run on the same mails. Budget: ratio ≥ 0.7.

Run: .venv/bin/python bench/bench_proxy.py [--messages 3000] [--rounds 3]
Prints messages/s of every relay for 4 KB and 40 KB mails and the ratios to the plain relay.
"""

from __future__ import annotations

import argparse
import asyncio
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
    "proxy": "versprochen proxy wie ausgeliefert (Analyseprozesse mit Tracker, Verbindungen wiederverwendet)",
    "proxy-nocache": "versprochen proxy, Engine-Cache aus (jede Mail wird voll analysiert)",
    "proxy-1w": "wie proxy, nur ein Analyseprozess",
    "proxy-nocache-1w": "wie proxy-nocache, nur ein Analyseprozess",
}


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


async def serve(kind: str, listen: int, upstream: int, db: Path) -> dict[str, Any]:
    """Run one relay until SIGTERM; returns its counters."""
    import functools

    from aiosmtpd.smtp import SMTP

    from smtp_proxy.command import build_engine
    from smtp_proxy.recorder import default_store_factory
    from smtp_proxy.server import ProxyServer
    from smtp_proxy.settings import ProxySettings

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if kind == "plain":
        handler = PlainRelay(upstream)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="bench", enable_SMTPUTF8=True, data_size_limit=10_240_000),
            "127.0.0.1", listen)
        await stop.wait()
        server.close()
        return handler.stats
    factory = uncached_engine if "nocache" in kind else build_engine
    from smtp_proxy.command import default_workers

    workers = 1 if kind.endswith("-1w") else default_workers()
    settings = ProxySettings(listen_port=listen, upstream_port=upstream, workers=workers)
    proxy = ProxyServer(settings, functools.partial(factory, str(ROOT)), default_store_factory(db))
    await proxy.start()
    await stop.wait()
    await proxy.stop(grace=10)
    return dict(proxy.handler.stats)


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


def one_run(kind: str, sink_port: int, mail: Path, count: int, folder: Path) -> dict[str, Any]:
    """A fresh relay: warm up, measure, stop; messages/s, CPU ms per message and its counters.

    Fresh per run, so no relay's leftover background work (a tracker backlog) taxes the next one.
    """
    port = free_port()
    out = folder / f"{kind}.json"
    child = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--listen", str(port),
                              "--upstream", str(sink_port), "--db", str(folder / f"{kind}.sqlite3"),
                              "--stats", str(out)], cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, child)
        smtp_source(port, mail, 200)  # warm-up: worker start, connections, caches
        pids = process_tree(child.pid)
        before = [cpu_seconds(p) for p in pids]
        rate = smtp_source(port, mail, count)
        cpu = [(cpu_seconds(p) - b) * 1000 / count for p, b in zip(pids, before, strict=True)]
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(120)
    stats = json.loads(out.read_text()) if out.exists() else {}
    return {"rate": rate, "cpu_main": cpu[0], "cpu_workers": sum(cpu[1:]), "stats": stats}


def measure(messages: int, rounds: int, kinds: list[str]) -> dict[str, Any]:
    """All relays, both mail sizes, interleaved rounds; the median of the rounds counts."""
    sink, sink_port = start_sink()
    folder = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    results: dict[str, Any] = {}
    try:
        for size, count in (("4KB", messages), ("40KB", max(messages // 3, 200))):
            mail = MAILS / ("small-0.eml" if size == "4KB" else "large-0.eml")
            runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
            for _ in range(rounds):
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
            timeouts = sum(r["stats"].get("extract_timeout", 0) for r in runs)
            total = sum(r["stats"].get("messages", r["stats"].get("2xx", 0)) for r in runs)
            print(f"  {size:>4} {kind:<16} {rate:6.1f} msg/s  Verhältnis {ratio:4.2f}  "
                  f"CPU/Mail {main_cpu:4.2f} ms + Worker {workers:4.2f} ms  "
                  f"error=timeout {timeouts}/{total}  ({each})")
    print("Verhältnis = Median der Rundenpaare (Lauf ÷ plain-Lauf derselben Runde). "
          "Budget: proxy/plain ≥ 0.70")


def main() -> int:
    """Measure, or (with --serve) run one relay as a child process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--relays", default="plain,proxy,proxy-nocache")
    parser.add_argument("--serve", choices=tuple(RELAYS))
    parser.add_argument("--listen", type=int)
    parser.add_argument("--upstream", type=int)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--stats", type=Path)
    args = parser.parse_args()
    if args.serve:
        stats = asyncio.run(serve(args.serve, args.listen, args.upstream, args.db))
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

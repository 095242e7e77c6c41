"""Language-server benchmark through a real LSP client over stdio (a small JSON-RPC client of our own).

Figures: start -> first diagnostics and initialize -> first diagnostics, with the early engine (a child forked
at start, see server/lsp/early.py) and without it (VERSPROCHEN_LSP_EARLY=0), starts alternating in one run;
edit -> matching publishDiagnostics (p50/p95 over typed edits) for a 5 KB mail and a 100 KB document; peak RSS
of the server process, of the early engine's child, and of both together while both live.
Run: .venv/bin/python bench/bench_lsp.py [--edits 200] [--starts 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import mail, text_of_size

SERVER = [sys.executable, "-m", "server.lsp"]
BUDGETS = {"5kb_p95_ms": 20, "100kb_p95_ms": 150, "first_s": 1.5, "rss_mb": 150}
HEADER = ("Date: Mon, 23 Nov 2026 10:00:00 +0100\nAn: Anna Reuter <anna@kunde.de>\n"
          "Betreff: Ihre Anfrage\n\n")
QUOTE = ("\n\nAm 20.11.2026 um 09:12 schrieb Anna Reuter <anna@kunde.de>:\n"
         "> Können Sie mir bis Freitag ein Angebot schicken?\n>\n> Viele Grüße\n> Anna Reuter\n")


class Client:
    """Just enough of an LSP client: framing, requests, notifications, waiting for diagnostics."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.diagnostics: dict[tuple[str, int | None], float] = {}
        self.waiters: dict[tuple[str, int | None], asyncio.Future[float]] = {}
        # Set when the server logs that its own engine is ready ("Prüfung bereit").
        self.engine_ready = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

    extra_args: tuple[str, ...] = ()

    @classmethod
    async def start(cls, cwd: Path, env: dict[str, str] | None = None) -> Client:
        """Spawn the server (with `env` added to the environment)."""
        proc = await asyncio.create_subprocess_exec(*SERVER, *cls.extra_args, stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE, cwd=str(cwd),
                                                    env={**os.environ, **(env or {})})
        return cls(proc)

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any) -> Any:
        """Send a request and wait for its result."""
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return await future

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            length = 0
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(await self.proc.stdout.readexactly(length))
            now = time.perf_counter()
            if "id" in message and "method" in message:  # a request from the server: answer null
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                future = self.pending.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message.get("result"))
            elif message.get("method") == "window/logMessage":
                if "Prüfung bereit" in message["params"].get("message", ""):
                    self.engine_ready.set()
            elif message.get("method") == "textDocument/publishDiagnostics":
                key = (message["params"]["uri"], message["params"].get("version"))
                self.diagnostics[key] = now
                waiter = self.waiters.pop(key, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(now)

    async def diagnostics_for(self, uri: str, version: int, timeout: float = 120) -> float:
        """The time the diagnostics for `uri` at `version` arrived."""
        key = (uri, version)
        if key in self.diagnostics:
            return self.diagnostics[key]
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[key] = future
        return await asyncio.wait_for(future, timeout)

    async def initialize(self, root: Path) -> None:
        """initialize + initialized with VS Code-like document capabilities."""
        caps = {"textDocument": {"publishDiagnostics": {"relatedInformation": True, "versionSupport": True},
                                 "hover": {"contentFormat": ["markdown", "plaintext"]}},
                "window": {"workDoneProgress": True}}
        await self.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": caps})
        self.notify("initialized", {})

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """VmHWM of the server process (peak resident set) in MB."""
        return status_mb(self.proc.pid, "VmHWM")


    async def stop(self) -> None:
        """shutdown, exit, wait."""
        await self.request("shutdown", None)
        self.notify("exit", None)
        await asyncio.wait_for(self.proc.wait(), 20)
        self.reader.cancel()


def status_mb(pid: int, field: str) -> float:
    """A memory figure of /proc/PID/status in MB (0 when the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (zombies included)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def utf16_col(line: str) -> int:
    """Length of a line in UTF-16 code units."""
    return len(line.encode("utf-16-le")) // 2


async def first_diagnostics(root: Path, env: dict[str, str]) -> tuple[float, float, float, float]:
    """Seconds from start to the initialize answer and to the first diagnostics, from initialize to the
    first diagnostics, and the server's CPU time until then (its own, without the child's)."""
    t0 = time.perf_counter()
    client = await Client.start(root, env)
    t_init = time.perf_counter()
    await client.initialize(root)
    t_answer = time.perf_counter()
    uri = (root / "start.txt").as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "plaintext", "version": 1, "text": HEADER + "Wir liefern garantiert bis Freitag.\n"}})
    t_diag = await client.diagnostics_for(uri, 1)
    cpu = client.cpu_seconds()
    await client.stop()
    return t_answer - t0, t_diag - t0, t_diag - t_init, cpu


async def typing(client: Client, root: Path, name: str, text: str, edits: int) -> list[float]:
    """Open `text`, type `edits` characters into the middle of a paragraph, one edit at a time."""
    uri = (root / name).as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "plaintext", "version": 1, "text": text}})
    await client.diagnostics_for(uri, 1, timeout=300)
    lines = text.split("\n")
    target = max(range(len(lines) // 2, len(lines)), key=lambda i: len(lines[i]) if len(lines[i]) < 2000 else 0)
    line, col = target, utf16_col(lines[target]) // 2
    typed = "und wir schicken die Unterlagen garantiert morgen, versprochen. "
    latencies = []
    for i in range(edits):
        char = typed[i % len(typed)]
        version = i + 2
        t0 = time.perf_counter()
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": col},
                                          "end": {"line": line, "character": col}}, "text": char}]})
        t1 = await client.diagnostics_for(uri, version)
        latencies.append((t1 - t0) * 1000)
        col += 1
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return latencies


async def start_memory(root: Path) -> tuple[float, float, float]:
    """One more start, sampling memory every 5 ms until the first diagnostics and the child's exit: peak RSS
    of the server and of the child, and the largest sum of both RSS while both live (kept out of the timed
    starts: the sampling costs CPU)."""
    client = await Client.start(root)
    child_peak = both = 0.0
    seen_child = False

    async def sample() -> None:
        nonlocal child_peak, both, seen_child
        while True:
            kids = children(client.proc.pid)
            seen_child = seen_child or bool(kids)
            child = sum(status_mb(k, "VmRSS") for k in kids)
            child_peak = max([child_peak, *(status_mb(k, "VmHWM") for k in kids)])
            if kids and child:
                both = max(both, status_mb(client.proc.pid, "VmRSS") + child)
            await asyncio.sleep(0.005)

    sampler = asyncio.ensure_future(sample())
    await client.initialize(root)
    uri = (root / "memory.txt").as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "plaintext", "version": 1, "text": HEADER + "Wir liefern bis Freitag.\n"}})
    await client.diagnostics_for(uri, 1)
    for _ in range(2000):  # until the child has gone (the own engine is ready), 10 s at most
        if seen_child and not children(client.proc.pid):
            break
        await asyncio.sleep(0.005)
    sampler.cancel()
    server_peak = client.peak_rss_mb()
    await client.stop()
    return server_peak, child_peak, both


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def main(edits: int, starts: int) -> None:
    """Measure and print the figures with their budgets."""
    with tempfile.TemporaryDirectory(prefix="versprochen-bench-") as tmp:
        await measure(Path(tmp), edits, starts)


async def measure(root: Path, edits: int, starts: int) -> None:
    """The measurements, with `root` as the workspace."""
    rng = random.Random(11)
    small = HEADER + mail(rng, 700)
    small = small[:5000 - len(QUOTE)].rsplit(" ", 1)[0] + "." + QUOTE
    large = HEADER + text_of_size(rng, 100_000)
    variants = {"early engine": {}, "VERSPROCHEN_LSP_EARLY=0": {"VERSPROCHEN_LSP_EARLY": "0"}}
    runs: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in variants}
    for _ in range(starts):  # alternating, so both variants see the same machine
        for name, env in variants.items():
            runs[name].append(await first_diagnostics(root, env))
    for name, measured in runs.items():
        first = [r[1] for r in measured]
        print(f"{name}: start -> first diagnostics {statistics.median(first):5.2f} s median "
              f"({min(first):.2f}-{max(first):.2f} s, {starts} starts; budget {BUDGETS['first_s']} s); "
              f"initialize answered {statistics.median(r[0] for r in measured) * 1000:4.0f} ms; "
              f"initialize -> first {statistics.median(r[2] for r in measured):4.2f} s; "
              f"server CPU {statistics.median(r[3] for r in measured):4.2f} s")
    import server.engine

    print(f"machine load average (1 min):       {os.getloadavg()[0]:7.2f}   on {os.cpu_count()} cores; "
          f"engine: {server.engine.BUILD}")
    server_peak, child_peak, both = await start_memory(root)
    print(f"at start: server peak RSS {server_peak:.1f} MB, early engine's child peak RSS {child_peak:.1f} MB, "
          f"both together at most {both:.1f} MB while both live")
    client = await Client.start(root)
    await client.initialize(root)
    # Typing is measured with the server's own engine: the early engine's child serves only the start.
    await asyncio.wait_for(client.engine_ready.wait(), 120)
    for label, text, budget in (("5 KB mail", small, BUDGETS["5kb_p95_ms"]),
                                ("100 KB document", large, BUDGETS["100kb_p95_ms"])):
        cpu_before = client.cpu_seconds()
        lat = await typing(client, root, label.split()[0] + ".txt", text, edits)
        cpu = (client.cpu_seconds() - cpu_before) / (edits + 1) * 1000
        print(f"edit -> diagnostics, {label:15s} ({len(text) / 1000:.0f} K chars, {edits} edits): "
              f"p50 {percentile(lat, 50):6.1f} ms  p95 {percentile(lat, 95):6.1f} ms  "
              f"max {max(lat):6.1f} ms   (budget p95 {budget} ms); server CPU {cpu:.1f} ms/edit")
    print(f"peak RSS of the server:             {client.peak_rss_mb():7.1f} MB   (budget {BUDGETS['rss_mb']} MB)")
    await client.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--edits", type=int, default=200, help="typed edits per document (default 200)")
    parser.add_argument("--starts", type=int, default=5, help="cold starts to time (default 5)")
    parser.add_argument("--server-args", default="", help="extra server arguments, e.g. '--log-level info'")
    args = parser.parse_args()
    Client.extra_args = tuple(args.server_args.split())
    asyncio.run(main(args.edits, args.starts))

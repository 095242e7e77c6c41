"""Engine benchmark: 300-word mail (warm), words/s on 100 KB, whole-process `versprochen check` on 5 KB.

Run: .venv/bin/python bench/bench_engine.py   (prints figures; budgets from DESIGN.md alongside)
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import mail, text_of_size

SENT = datetime(2026, 11, 23, 10, 0)


def timed(fn: object, *args: object) -> float:
    """Wall-clock seconds one call takes."""
    t0 = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - t0


def cpu_timed(fn: object, *args: object) -> float:
    """CPU seconds of this process for one call (less disturbed by other load on a shared machine)."""
    t0 = time.process_time()
    fn(*args)  # type: ignore[operator]
    return time.process_time() - t0


def engine_figures() -> dict[str, float]:
    """Build the engine, then time a 300-word mail (uncached, cached) and a 100 KB text."""
    rng = random.Random(7)
    t0 = time.perf_counter()
    from server.engine import Engine
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = Engine()
    t_build = time.perf_counter() - t0

    mails = [mail(rng, 300) for _ in range(60)]
    for m in mails[:10]:
        engine.analyze(m, SENT)  # warm up
    cold, cold_cpu = [], []
    for m in mails:
        engine._cache.clear()  # measure real analysis, not the paragraph cache
        cold.append(timed(engine.analyze, m, SENT))
        engine._cache.clear()
        cold_cpu.append(cpu_timed(engine.analyze, m, SENT))
    cached = []
    for m in mails:
        engine.analyze(m, SENT)
        cached.append(timed(engine.analyze, m, SENT))  # the same text again: all paragraphs cached
    big = text_of_size(rng, 100_000)
    runs, cpu_runs = [], []
    for _ in range(5):
        engine._cache.clear()
        runs.append(timed(engine.analyze, big, SENT))
        engine._cache.clear()
        cpu_runs.append(cpu_timed(engine.analyze, big, SENT))
    n_words = len(big.split())
    return {
        "import_ms": t_import * 1000, "build_ms": t_build * 1000,
        "words": statistics.mean(len(m.split()) for m in mails),
        "mail_ms": statistics.median(cold) * 1000, "mail_p95_ms": sorted(cold)[int(len(cold) * 0.95)] * 1000,
        "mail_cpu_ms": statistics.median(cold_cpu) * 1000, "cached_ms": statistics.median(cached) * 1000,
        "big_words": n_words, "big_ms": min(runs) * 1000, "words_per_s": n_words / min(runs),
        "words_per_cpu_s": n_words / min(cpu_runs),
    }


def print_figures(label: str, f: dict[str, float]) -> None:
    """The engine figures with their budgets."""
    print(f"--- engine build: {label}")
    print(f"import server.engine (incl. spaCy):  {f['import_ms']:8.1f} ms")
    print(f"Engine() build (lexicon, matchers):  {f['build_ms']:8.1f} ms")
    print(f"300-word mail ({f['words']:.0f} words), warm, uncached: median {f['mail_ms']:6.2f} ms"
          f"  p95 {f['mail_p95_ms']:6.2f} ms   (budget <= 5 ms)")
    print(f"   same, CPU time of this process:        median {f['mail_cpu_ms']:6.2f} ms")
    print(f"same mail re-analysed (paragraph cache):  median {f['cached_ms']:6.3f} ms")
    print(f"100 KB text ({f['big_words']:.0f} words): {f['big_ms']:7.1f} ms -> {f['words_per_s']:9.0f} words/s"
          f"   (budget >= 50,000 words/s; CPU time: {f['words_per_cpu_s']:.0f} words/s)")


def main() -> None:
    """Measure and print: the installed engine, the same on its Python source, and whole-process check."""
    if "--figures-json" in sys.argv:
        print(json.dumps(engine_figures()))
        return
    import server.engine

    print_figures(server.engine.BUILD, engine_figures())
    if server.engine.BUILD == "compiled":
        # The same measurement on the uncompiled source, in a child process of the same run.
        env = {**os.environ, "VERSPROCHEN_PURE_PYTHON": "1"}
        out = subprocess.run([sys.executable, __file__, "--figures-json"], env=env, capture_output=True,
                             text=True, check=True)
        source = json.loads(out.stdout)
        print_figures("source (VERSPROCHEN_PURE_PYTHON=1)", source)
    rng = random.Random(8)

    exe = Path(sys.executable).with_name("versprochen")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write(text_of_size(rng, 5_000))
    whole = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([str(exe), "check", "--fail-level", "none", fh.name], capture_output=True, check=True)
        whole.append(time.perf_counter() - t0)
    t_spacy = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import spacy"], check=True)
        t_spacy.append(time.perf_counter() - t0)
    t_python = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        t_python.append(time.perf_counter() - t0)
    print(f"whole process `versprochen check` on 5 KB: median {statistics.median(whole):.2f} s"
          f"  (python alone {statistics.median(t_python):.2f} s, python + import spacy"
          f" {statistics.median(t_spacy):.2f} s)")
    Path(fh.name).unlink()


if __name__ == "__main__":
    main()

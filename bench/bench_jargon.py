"""Jargon finder benchmark: build time, µs per 300-word mail (warm and cold token cache), words/s.

Run: .venv/bin/python bench/bench_jargon.py   (prints figures; the budget is "well under 1 ms" per 300 words)
CPU time (process_time) is reported next to wall time: other work on the machine inflates wall time.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import mail, text_of_size  # noqa: E402
from server.engine import Engine  # noqa: E402
from server.engine.jargon import JargonFinder  # noqa: E402


def best_of(fn: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """Median wall, p95 wall and median CPU seconds of `runs` calls."""
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
    walls.sort()
    return statistics.median(walls), walls[int(len(walls) * 0.95) - 1], statistics.median(cpus)


def main() -> None:
    """Measure and print."""
    rng = random.Random(11)
    engine = Engine()  # its pipeline tokenizes the benchmark text as in production
    lexicon, nlp = engine.lexicon, engine.nlp
    t0 = time.perf_counter()
    finder = JargonFinder(lexicon, nlp.nlp)
    terms = sum(len(r.terms) for r in lexicon.of_kind("substitution"))
    print(f"build JargonFinder ({terms} terms):      {(time.perf_counter() - t0) * 1000:8.1f} ms")

    docs = [nlp(mail(rng, 300)) for _ in range(50)]
    words = statistics.mean(len(d.text.split()) for d in docs)
    finder._cache.clear()
    cold = [best_of(lambda d=d: finder.find(d), 1)[2] for d in docs[:20]]  # type: ignore[misc]
    print(f"300-word mail, cold token cache (CPU):  {statistics.median(cold) * 1e6:8.0f} µs")
    for doc in docs:
        finder.find(doc)
    wall, p95, cpu = best_of(lambda: [finder.find(d) for d in docs], 40)
    print(f"300-word mail, warm ({words:.0f} words): median {wall / len(docs) * 1e6:6.0f} µs wall, "
          f"{cpu / len(docs) * 1e6:6.0f} µs CPU, p95 {p95 / len(docs) * 1e6:6.0f} µs wall")
    # The fastest of 40 runs per mail: what the code costs when nothing else competes for the CPU.
    fastest = statistics.mean(min(best_of(lambda d=d: finder.find(d), 1)[0] for _ in range(40))  # type: ignore[misc]
                              for d in docs)
    print(f"300-word mail, warm, fastest of 40:     {fastest * 1e6:8.0f} µs")
    findings = statistics.mean(len(finder.find(d)) for d in docs)
    print(f"findings per mail:                      {findings:8.1f}")

    big = nlp(text_of_size(rng, 100_000))
    n_words = len(big.text.split())
    finder._cache.clear()
    wall, _, cpu = best_of(lambda: finder.find(big), 1)
    print(f"100 KB ({n_words} words), cold cache:      {n_words / cpu:10,.0f} words/s CPU ({wall * 1000:.0f} ms wall)")
    wall, _, cpu = best_of(lambda: finder.find(big), 5)
    print(f"100 KB ({n_words} words), warm cache:      {n_words / cpu:10,.0f} words/s CPU ({wall * 1000:.0f} ms wall)")
    t0 = time.process_time()
    nlp(text_of_size(rng, 100_000))
    print(f"(for scale) nlp() on 100 KB:            {(time.process_time() - t0) * 1000:8.0f} ms CPU")


if __name__ == "__main__":
    main()

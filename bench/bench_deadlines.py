"""Deadline resolver benchmark: µs per 300-word paragraph (plain and deadline-dense) and per 100 KB.

Run: .venv/bin/python bench/bench_deadlines.py   (prints figures; the budget is "well under 1 ms" a paragraph)
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.engine.deadlines import DeadlineFinder  # noqa: E402

SENT = datetime(2026, 11, 23, 10, 0)
PLAIN = [
    "Vielen Dank für Ihre Nachricht und die freundlichen Worte zu unserem Angebot.",
    "Leider hat der Hersteller den Liefertermin erneut verschoben, wir bleiben aber dran.",
    "Der Estrich muss mindestens drei Wochen trocknen, bevor das Parkett verlegt werden kann.",
    "Bezug nehmend auf Ihr Schreiben teilen wir Ihnen mit, dass die Prüfung noch andauert.",
    "Die Rechnung Nr. 2026-0815 über 1.234,56 € haben wir mit Version 2.1 erstellt.",
    "Für Rückfragen stehen wir Ihnen jederzeit gerne zur Verfügung, rufen Sie einfach an.",
]
DENSE = [
    "Ich schicke Ihnen das Angebot {when}.", "Unser Monteur kommt {when} vorbei.",
    "Die Ware ist {when} bei Ihnen.", "Wir melden uns {when} mit einer Lösung.",
]
WHEN = ["bis Freitag", "morgen früh", "am 3.12.", "nächste Woche", "zeitnah", "bis Ende der Woche",
        "in der KW 50", "übermorgen", "bis zum 15. Dezember", "Anfang Januar", "heute noch", "asap",
        "innerhalb von 24 Stunden", "für Dienstag, 1.12., um 15 Uhr", "in zwei Wochen", "vor Weihnachten"]


def paragraph(rng: random.Random, words: int, dense: bool) -> str:
    """About `words` words of German business prose; `dense` puts a deadline in every sentence."""
    out: list[str] = []
    while sum(len(s.split()) for s in out) < words:
        if dense or rng.random() < 0.25:
            out.append(rng.choice(DENSE).format(when=rng.choice(WHEN)))
        else:
            out.append(rng.choice(PLAIN))
    return " ".join(out)


def rounds_us(fn: Callable[[str], object], texts: list[str], rounds: int = 9) -> tuple[float, float]:
    """CPU µs per text: best round and median round (timeit style, stable on a loaded machine)."""
    per_text = []
    for _ in range(rounds):
        c0 = time.thread_time()
        for text in texts:
            fn(text)
        per_text.append((time.thread_time() - c0) / len(texts) * 1e6)
    return min(per_text), statistics.median(per_text)


def main() -> None:
    """Print the figures."""
    with (ROOT / "lexicon/rules/VagueDeadlines.toml").open("rb") as fh:
        finder = DeadlineFinder(tomllib.load(fh)["phrases"])
    rng = random.Random(7)
    for dense in (False, True):
        texts = [paragraph(rng, 300, dense) for _ in range(50)]
        found = sum(len(finder.find(t, SENT)) for t in texts) / len(texts)
        best, med = rounds_us(lambda t: finder.find(t, SENT), texts)
        label = "deadline-dense" if dense else "typical"
        print(f"300-word paragraph, {label:14}: best {best:6.0f} µs, median {med:6.0f} µs CPU "
              f"({found:.1f} deadlines each)")
    big_paras: list[str] = []
    while sum(len(p) + 2 for p in big_paras) < 100_000:
        big_paras.append(paragraph(rng, rng.randint(40, 120), False))
    big = "\n\n".join(big_paras)
    words = len(big.split())
    best, med = rounds_us(lambda t: finder.find(t, SENT), [big], rounds=7)
    print(f"100 KB ({len(big):,} chars, {words:,} words) in one call: best {best / 1000:.1f} ms, "
          f"median {med / 1000:.1f} ms CPU ({words / (best / 1e6):,.0f} words/s at best)")
    best, med = rounds_us(lambda t: finder.find(t, SENT), big_paras, rounds=7)
    print(f"100 KB paragraph by paragraph ({len(big_paras)} paragraphs): best {best * len(big_paras) / 1000:.1f} ms, "
          f"median {med * len(big_paras) / 1000:.1f} ms CPU")
    with (ROOT / "lexicon/rules/VagueDeadlines.toml").open("rb") as fh:
        phrases = tomllib.load(fh)["phrases"]
    t0 = time.perf_counter()
    DeadlineFinder(phrases)
    print(f"DeadlineFinder() construction (regex compile): {(time.perf_counter() - t0) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()

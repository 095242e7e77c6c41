"""Benchmark: DeliveryFinder.find on 300-word paragraphs (with and without deliveries); prints figures."""

from __future__ import annotations

import statistics
import time

from lexicon import load_lexicon
from server.engine.deliveries import DeliveryFinder
from server.engine.nlp import make_nlp

# Mixed business prose: hand-overs, done reports, promises, questions (about 60 words).
SENTENCES = (
    "Anbei erhalten Sie das Angebot für die Sanierung des Dachs inklusive Gerüst. "
    "Die Reparatur Ihrer Waschmaschine ist abgeschlossen, Sie können das Gerät ab sofort abholen. "
    "Die Rechnung schicke ich Ihnen morgen, bitte prüfen Sie dann die Positionen. "
    "Haben Sie die Unterlagen für die Eigentümerversammlung schon erhalten? "
    "Wie versprochen haben wir die Software Ihres Fahrzeugs aktualisiert. "
)
# The same length without any delivery trigger: the fast path.
PLAIN = (
    "Wir melden uns in der kommenden Woche mit einem Terminvorschlag für die Besichtigung bei Ihnen. "
    "Bitte halten Sie die Zählerstände und die letzte Jahresabrechnung bereit, damit wir alles klären. "
    "Unser Team steht Ihnen für Fragen rund um den Umzug gern zur Verfügung, auch telefonisch. "
    "Die Parkplätze vor dem Haus sind während der Arbeiten leider nur eingeschränkt nutzbar. "
)


def paragraph(seed: str, words: int = 300) -> str:
    """Repeat the seed sentences up to about `words` words."""
    out: list[str] = []
    while len(out) < words:
        out += seed.split()
    return " ".join(out[:words])


def bench(finder: DeliveryFinder, docs: list[object], rounds: int = 200) -> tuple[float, float]:
    """Median and p95 milliseconds per `find` call."""
    times = []
    for _ in range(rounds):
        for doc in docs:
            t0 = time.perf_counter()
            finder.find(doc)  # type: ignore[arg-type]
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)]


def main() -> None:
    """Build the pipeline once, then time find() on prepared docs."""
    t0 = time.perf_counter()
    lexicon = load_lexicon()
    nlp = make_nlp(lexicon)
    finder = DeliveryFinder(lexicon, nlp)
    print(f"setup (lexicon, pipeline, finder): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    DeliveryFinder(lexicon, nlp)
    print(f"DeliveryFinder construction alone: {(time.perf_counter() - t0) * 1000:.1f} ms")
    for name, seed in (("with deliveries", SENTENCES), ("no trigger words", PLAIN)):
        text = paragraph(seed)
        doc = nlp(text)
        med, p95 = bench(finder, [doc])
        found = len(finder.find(doc))
        print(f"300-word paragraph, {name}: median {med:.3f} ms, p95 {p95:.3f} ms ({found} deliveries)")
        t0 = time.perf_counter()
        for _ in range(50):
            nlp(text)
        print(f"  (for scale: nlp() on the same paragraph {(time.perf_counter() - t0) * 20:.3f} ms)")
    long_text = paragraph(SENTENCES, 10_000)
    doc = nlp(long_text)
    t0 = time.perf_counter()
    finder.find(doc)
    secs = time.perf_counter() - t0
    print(f"10,000 words in one doc: {secs * 1000:.1f} ms ({10_000 / secs:,.0f} words/s)")


if __name__ == "__main__":
    main()

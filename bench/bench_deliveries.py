"""Benchmark: DeliveryFinder.find on 300-word paragraphs (with and without deliveries); prints figures."""

from __future__ import annotations

import random
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus
from server.engine import Engine
from server.engine.deliveries import DeliveryFinder

# Mixed business prose: hand-overs, done reports, promises, questions (about 60 words).
SENTENCES = (
    "Anbei erhalten Sie das Angebot für die Sanierung des Dachs inklusive Gerüst. "
    "Die Reparatur Ihrer Waschmaschine ist abgeschlossen, Sie können das Gerät ab sofort abholen. "
    "Die Rechnung schicke ich Ihnen morgen, bitte prüfen Sie dann die Positionen. "
    "Haben Sie die Unterlagen für die Eigentümerversammlung schon erhalten? "
    "Wie versprochen haben wir die Software Ihres Fahrzeugs aktualisiert. "
)
# A typical business paragraph: one hand-over and one done report in about 120 words.
TYPICAL = (
    "vielen Dank für Ihre Nachricht und die Fotos vom Wasserschaden im Keller. Anbei erhalten Sie den "
    "Kostenvoranschlag für die Trocknung und die neuen Fliesen. Unser Monteur war heute Vormittag bei Ihnen, "
    "die undichte Leitung ist repariert. Die Trocknungsgeräte stellen wir am Donnerstag auf, bitte sorgen Sie "
    "dafür, dass der Keller frei zugänglich ist. Die Kosten übernimmt nach unserer Erfahrung Ihre "
    "Gebäudeversicherung, die Schadensnummer teilen wir Ihnen mit, sobald wir sie haben. Wenn Sie Fragen zum "
    "Ablauf haben, erreichen Sie mich unter der bekannten Nummer, gern auch abends. Für die Fliesen bringen "
    "wir Ihnen nächste Woche Muster vorbei, dann können Sie in Ruhe auswählen, welche Ihnen am besten gefallen. "
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


def cpu_ms(fn: Callable[[], object], number: int, repeat: int) -> tuple[float, float]:
    """CPU milliseconds per call of `fn`: best and median of `repeat` runs of `number` calls.

    CPU time (process_time) and the best run: the least disturbed figures on a shared, busy machine.
    """
    runs = sorted(timeit.repeat(fn, number=number, repeat=repeat, timer=time.process_time))
    return runs[0] / number * 1000, statistics.median(runs) / number * 1000


def corpus_paragraphs(count: int = 50, words: int = 300) -> list[str]:
    """Varied ~300-word paragraphs from the shared benchmark corpus (bench/corpus.py)."""
    rng = random.Random(7)
    out = []
    for _ in range(count):
        text = ""
        while len(text.split()) < words:
            text += " " + corpus.paragraph(rng, 5)
        out.append(" ".join(text.split()[:words]))
    return out


def main() -> None:
    """Build the pipeline once, then time find() on prepared docs."""
    t0 = time.perf_counter()
    engine = Engine()
    nlp, finder = engine.nlp, engine.delivery_finder
    print(f"setup (Engine): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    DeliveryFinder(engine.lexicon, nlp)  # type: ignore[arg-type]
    print(f"DeliveryFinder construction alone: {(time.perf_counter() - t0) * 1000:.1f} ms")
    docs = [nlp(t) for t in corpus_paragraphs()]
    found = sum(len(finder.find(d)) for d in docs)
    best, median = cpu_ms(lambda: [finder.find(d) for d in docs], 4, 10)
    scale, _ = cpu_ms(lambda: [nlp(d.text) for d in docs], 2, 5)
    n = len(docs)
    print(f"{n} varied 300-word corpus paragraphs ({found} deliveries): CPU best {best / n:.3f} ms/paragraph, "
          f"median {median / n:.3f}; tokenising one (engine pipeline): {scale / n:.3f} ms")
    for name, seed in (("repeated seed", TYPICAL), ("dense, worst case", SENTENCES), ("no delivery", PLAIN)):
        text = paragraph(seed)
        doc = nlp(text)
        best, median = cpu_ms(lambda: finder.find(doc), 40, 25)  # noqa: B023
        scale, _ = cpu_ms(lambda: nlp(text), 20, 10)  # noqa: B023
        print(f"300-word paragraph, {name} ({len(finder.find(doc))} deliveries): CPU best {best:.3f} ms/call, "
              f"median {median:.3f}; tokenising it: {scale:.3f} ms")
    doc = nlp(paragraph(SENTENCES, 10_000))
    best, _ = cpu_ms(lambda: finder.find(doc), 1, 5)
    print(f"10,000 words (dense) in one doc: CPU best {best:.1f} ms ({10_000 / best * 1000:,.0f} words/s)")


if __name__ == "__main__":
    main()

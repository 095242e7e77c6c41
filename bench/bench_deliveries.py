"""Benchmark: DeliveryFinder.find on 300-word paragraphs (with and without deliveries); prints figures."""

from __future__ import annotations

import statistics
import time
import timeit

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


def bench(finder: DeliveryFinder, doc: object, rounds: int = 40, repeats: int = 25) -> tuple[float, float]:
    """Milliseconds per `find` call: the best of `repeats` runs of `rounds` calls, and the median run.

    The best run approximates the uncontended cost on a shared, busy machine; the median shows the noise.
    """
    runs = sorted(timeit.repeat(lambda: finder.find(doc), number=rounds, repeat=repeats))  # type: ignore[arg-type]
    return runs[0] / rounds * 1000, statistics.median(runs) / rounds * 1000


def main() -> None:
    """Build the pipeline once, then time find() on prepared docs."""
    t0 = time.perf_counter()
    engine = Engine()
    nlp, finder = engine.nlp, engine.delivery_finder
    print(f"setup (Engine): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    DeliveryFinder(engine.lexicon, nlp)  # type: ignore[arg-type]
    print(f"DeliveryFinder construction alone: {(time.perf_counter() - t0) * 1000:.1f} ms")
    for name, seed in (("typical", TYPICAL), ("dense, worst case", SENTENCES), ("no trigger words", PLAIN)):
        text = paragraph(seed)
        doc = nlp(text)
        best, median = bench(finder, doc)
        found = len(finder.find(doc))
        scale = min(timeit.repeat(lambda: nlp(text), number=20, repeat=10)) / 20 * 1000  # noqa: B023
        print(f"300-word paragraph, {name} ({found} deliveries): best {best:.3f} ms/call, median run "
              f"{median:.3f} ms/call; for scale, tokenising it (engine pipeline): {scale:.3f} ms")
    long_text = paragraph(SENTENCES, 10_000)
    doc = nlp(long_text)
    secs = min(timeit.repeat(lambda: finder.find(doc), number=1, repeat=5))
    print(f"10,000 words (dense) in one doc: best {secs * 1000:.1f} ms ({10_000 / secs:,.0f} words/s)")


if __name__ == "__main__":
    main()

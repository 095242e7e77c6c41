"""Benchmark: DeliveryFinder.find on 300-word paragraphs (with and without deliveries); prints figures."""

from __future__ import annotations

import statistics
import time

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


def bench(finder: DeliveryFinder, doc: object, rounds: int = 300) -> tuple[float, float, float]:
    """Median and p95 wall milliseconds per `find` call, and CPU milliseconds per call.

    CPU time (process_time) is what to compare across runs on a shared, busy machine.
    """
    times = []
    cpu0 = time.process_time()
    for _ in range(rounds):
        t0 = time.perf_counter()
        finder.find(doc)  # type: ignore[arg-type]
        times.append((time.perf_counter() - t0) * 1000)
    cpu = (time.process_time() - cpu0) * 1000 / rounds
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)], cpu


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
        med, p95, cpu = bench(finder, doc)
        found = len(finder.find(doc))
        cpu0 = time.process_time()
        for _ in range(50):
            nlp(text)
        scale = (time.process_time() - cpu0) * 20
        print(f"300-word paragraph, {name} ({found} deliveries): CPU {cpu:.3f} ms/call; wall median "
              f"{med:.3f} ms, p95 {p95:.3f} ms; for scale nlp() on it: CPU {scale:.3f} ms")
    long_text = paragraph(SENTENCES, 10_000)
    doc = nlp(long_text)
    cpu0 = time.process_time()
    finder.find(doc)
    secs = time.process_time() - cpu0
    print(f"10,000 words (dense) in one doc: CPU {secs * 1000:.1f} ms ({10_000 / secs:,.0f} words/s)")


if __name__ == "__main__":
    main()

"""Synthetic but realistic German business-mail text for benchmarks (varied so no paragraph repeats)."""

from __future__ import annotations

import random

NAMES = ["Frau Berger", "Herr Yilmaz", "Frau Krause", "Herr Öztürk", "Frau Schäfer", "Herr Lange"]
THINGS = ["das Angebot", "den Kostenvoranschlag", "die Rechnung", "die Unterlagen", "den Vertrag",
          "die Abrechnung", "die Zeichnungen", "das Protokoll", "die Gutschrift", "den Schlüssel"]
WHEN = ["bis Freitag", "morgen", "am 3.12.", "nächste Woche", "zeitnah", "bis Ende der Woche",
        "in KW 50", "übermorgen", "bis zum 15. Dezember", "Anfang Januar", "heute noch", "asap"]
SENTENCES = [
    "Ich schicke Ihnen {thing} {when}.",
    "Wir liefern garantiert {when}, darauf können Sie sich verlassen.",
    "Vielen Dank für Ihre Nachricht vom {day}.{month}. und die freundlichen Worte.",
    "Unser Monteur kommt {when} vorbei und tauscht das defekte Ventil aus.",
    "Bitte senden Sie uns {thing} bis zum {day}.{month}. zurück.",
    "Leider hat der Hersteller den Liefertermin erneut verschoben.",
    "Das Meeting zum Kick-off verschieben wir, das Feedback kommt {when}.",
    "Anbei erhalten Sie {thing} für das Objekt in der Gartenstraße {day}.",
    "Voraussichtlich können wir {when} mit den Arbeiten im Bad beginnen.",
    "Die Ware ist {when} bei Ihnen, der Spediteur hat das bestätigt.",
    "Bezug nehmend auf Ihr Schreiben teilen wir Ihnen mit, dass die Prüfung noch andauert.",
    "Sobald die Freigabe vorliegt, melden wir uns bei Ihnen.",
    "Der Estrich muss mindestens drei Wochen trocknen, bevor das Parkett verlegt werden kann.",
    "Haben Sie {thing} schon erhalten, oder sollen wir es noch einmal schicken?",
    "Wie versprochen sende ich Ihnen hiermit {thing}.",
    "Die Heizungsanlage wurde gestern gewartet, alle Werte sind in Ordnung.",
    "Den Termin am {day}.{month}. um {hour} Uhr haben wir fest für Sie eingeplant.",
    "Für Rückfragen stehen wir Ihnen jederzeit gerne zur Verfügung.",
]


def paragraph(rng: random.Random, sentences: int = 5) -> str:
    """One paragraph of `sentences` random sentences."""
    out = []
    for _ in range(sentences):
        out.append(rng.choice(SENTENCES).format(
            thing=rng.choice(THINGS), when=rng.choice(WHEN), day=rng.randint(1, 28),
            month=rng.randint(1, 12), hour=rng.randint(8, 17)))
    return " ".join(out)


def mail(rng: random.Random, words: int) -> str:
    """A mail of about `words` words: greeting, paragraphs, closing."""
    parts = [f"Guten Tag {rng.choice(NAMES)},"]
    count = 3
    while count < words:
        para = paragraph(rng, rng.randint(2, 5))
        parts.append(para)
        count += len(para.split())
    parts.append("Mit freundlichen Grüßen\nAnna Reuter\nElektro Reuter GmbH")
    return "\n\n".join(parts)


def text_of_size(rng: random.Random, chars: int) -> str:
    """Paragraph text of at least `chars` characters."""
    parts: list[str] = []
    size = 0
    while size < chars:
        para = paragraph(rng, rng.randint(3, 6))
        parts.append(para)
        size += len(para) + 2
    return "\n\n".join(parts)

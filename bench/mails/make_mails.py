"""Writes the proxy benchmark mails: 4 KB German plain-text mails and 40 KB mails with HTML and a PDF."""

from __future__ import annotations

import random
import sys
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

HERE = Path(__file__).resolve().parent

OPENINGS = [
    "vielen Dank für Ihre Anfrage vom {d}.11. und das freundliche Telefonat heute Vormittag.",
    "wie eben telefonisch besprochen, fasse ich die nächsten Schritte für Ihr Projekt kurz zusammen.",
    "herzlichen Dank für Ihre schnelle Rückmeldung zu unserem Angebot Nr. 2026-{n}.",
    "Ihre Nachricht zur Lieferung der Ersatzteile haben wir erhalten und sofort weitergeleitet.",
]
PROMISES = [
    "Ich schicke Ihnen das überarbeitete Angebot bis spätestens Freitag.",
    "Die technische Dokumentation liefern wir bis Ende der Woche nach.",
    "Unser Monteur kommt am Donnerstag um 14 Uhr und tauscht das defekte Ventil aus.",
    "Wir garantieren Ihnen die Lieferung bis zum {d}.12., darauf können Sie sich verlassen.",
    "Ich melde mich morgen früh telefonisch bei Ihnen, sobald die Freigabe vorliegt.",
    "Sie erhalten die Gutschrift innerhalb von drei Tagen auf Ihr Konto.",
    "Voraussichtlich können wir Anfang nächster Woche mit den Arbeiten beginnen.",
    "Die Rechnungskorrektur sende ich Ihnen zeitnah zu.",
    "Ich kümmere mich persönlich darum, dass die Ware übermorgen bei Ihnen ist.",
    "Das Protokoll der Besprechung bekommen Sie heute noch von mir.",
]
FILLER = [
    "Die Lieferzeit beträgt nach aktuellem Stand sechs Wochen ab Auftragseingang, das Zahlungsziel "
    "bleibt bei 30 Tagen netto.",
    "Für das Kick-off-Meeting schlagen wir den Konferenzraum im zweiten Stock vor, ein Beamer ist vorhanden.",
    "Bezüglich der Gewährleistung gelten unverändert die allgemeinen Geschäftsbedingungen in der Fassung "
    "vom Januar.",
    "Der Estrich muss mindestens drei Wochen trocknen, bevor das Parkett verlegt werden kann; "
    "das Gutachten liegt vor.",
    "Die Heizungsanlage wurde gestern gewartet, alle Messwerte liegen im zulässigen Bereich.",
    "Bitte prüfen Sie die beigefügten Maße noch einmal, insbesondere die Türbreite im Erdgeschoss.",
    "Unser Lager in Kassel hat die Teile bereits kommissioniert, der Spediteur holt sie ab.",
    "Falls Sie Fragen zum Leistungsverzeichnis haben, erreichen Sie mich unter der unten genannten Nummer.",
]
QUOTE = [
    "> Am {d}.11.2026 um 09:12 schrieb Max Mustermann <max@kunde.example>:",
    "> Können Sie uns das Angebot bis nächste Woche zukommen lassen?",
    "> Außerdem bräuchten wir noch die Datenblätter für die Pumpen.",
    "> Viele Grüße",
    "> Max Mustermann",
]
SIGNATURE = ("Mit freundlichen Grüßen\nAnna Schmidt\nVertrieb Innendienst\nFirma Beispiel GmbH\n"
             "Tel. 0561 12345-0")


def body_text(rng: random.Random, target: int) -> str:
    """A German reply of about `target` characters: promises, filler, a quote and a signature."""
    d, n = rng.randint(2, 28), rng.randint(1000, 9999)
    parts = ["Sehr geehrter Herr Mustermann,", rng.choice(OPENINGS).format(d=d, n=n)]
    while sum(len(p) for p in parts) < target - 600:
        para = [rng.choice(PROMISES).format(d=rng.randint(1, 28))]
        para += rng.sample(FILLER, rng.randint(1, 3))
        rng.shuffle(para)
        parts.append(" ".join(para))
    parts.append(SIGNATURE)
    parts.append("\n".join(line.format(d=d) for line in QUOTE))
    return "\n\n".join(parts) + "\n"


def fake_pdf(rng: random.Random, size: int) -> bytes:
    """A PDF-shaped binary of `size` bytes (the proxy must skip it, not parse it)."""
    head = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nstream\n"
    return head + rng.randbytes(size - len(head) - 20) + b"\nendstream\n%%EOF\n"


def headers(msg: EmailMessage, i: int, subject: str) -> None:
    msg["From"] = "Anna Schmidt <anna.schmidt@firma.example>"
    msg["To"] = "Max Mustermann <max@kunde.example>"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0100"
    msg["Message-ID"] = f"<bench-{i}@firma.example>"


def small(i: int) -> bytes:
    """A ~4 KB plain-text mail (quoted-printable, like most mail clients send German text)."""
    rng = random.Random(i)
    msg = EmailMessage()
    headers(msg, i, f"Re: Angebot Nr. 2026-{4700 + i} – nächste Schritte")
    msg.set_content(body_text(rng, 3400), cte="quoted-printable")
    return msg.as_bytes(policy=SMTP.clone(linesep="\n"))


def large(i: int) -> bytes:
    """A ~40 KB mail: text and HTML alternatives plus a PDF attachment."""
    rng = random.Random(100 + i)
    text = body_text(rng, 3200)
    msg = EmailMessage()
    headers(msg, 100 + i, f"Angebot Nr. 2026-{4800 + i} mit Unterlagen")
    msg.set_content(text, cte="quoted-printable")
    html = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>\n" for p in text.split("\n\n"))
    msg.add_alternative(f"<html><body style=\"font-family: Arial\">\n{html}</body></html>\n", subtype="html",
                        cte="quoted-printable")
    msg.add_attachment(fake_pdf(rng, 24_000), maintype="application", subtype="pdf",
                       filename=f"Angebot-2026-{4800 + i}.pdf")
    return msg.as_bytes(policy=SMTP.clone(linesep="\n"))


def main() -> int:
    """Write small-N.eml and large-N.eml next to this script."""
    for i in range(4):
        (HERE / f"small-{i}.eml").write_bytes(small(i))
        (HERE / f"large-{i}.eml").write_bytes(large(i))
    for path in sorted(HERE.glob("*.eml")):
        print(f"{path.name}: {path.stat().st_size} Bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

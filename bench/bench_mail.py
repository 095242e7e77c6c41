"""Benchmark: `parse_mail_structure` on 100 KB drafts and `parse_message` on the 44 KB sample mail."""

from __future__ import annotations

import statistics
import sys
import textwrap
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.engine.mail import parse_mail_structure
from server.engine.mime import parse_message

SIZE = 100_000
SAMPLE = Path("/work/shared/samples/angebot-mit-anhang.eml")
PARA = (
    "vielen Dank für Ihre Rückmeldung. Wie besprochen schicke ich Ihnen das überarbeitete Angebot bis "
    "spätestens Freitag, den 27.11.2026. Die technische Dokumentation liefern wir bis Ende der Woche nach. "
    "Herr Weber meldet sich bis Montag telefonisch bei Ihnen, um die offenen Punkte zu klären."
)
WRAPPED = "\n".join(textwrap.wrap(PARA, 72))
SIGNATURE = "Mit freundlichen Grüßen\nAnna Schmidt\nVertrieb Innendienst\nTel. +49 30 1234567"


def fill(head: str, unit: str, tail: str = "") -> str:
    """`head`, then `unit` repeated up to SIZE characters, then `tail` (cut to SIZE)."""
    body = unit * ((SIZE - len(head)) // len(unit) + 1)
    return (head + body)[: SIZE - len(tail)] + tail


def quoted(text: str, depth: int) -> str:
    """`text` with `depth` levels of "> " quote markers."""
    return "".join(">" * depth + " " + line + "\n" for line in text.split("\n"))


def cases() -> dict[str, str]:
    """Realistic 100 KB documents plus two stress cases with hundreds of quote/reply alternations."""
    header = "An: Max Mustermann <max@kunde.example>\nBetreff: Angebot 2026-4711\n\n"
    reply = header + "Sehr geehrter Herr Mustermann,\n\n" + (WRAPPED + "\n\n") * 8 + SIGNATURE + "\n\n"
    history = "Am 20.11.2026 um 10:12 schrieb Max Mustermann <max@kunde.example>:\n"
    nested = quoted(WRAPPED + "\n\n" + quoted(WRAPPED + "\n" + SIGNATURE, 1), 1)
    outlook = ("-----Ursprüngliche Nachricht-----\nVon: Max Mustermann\nGesendet: Freitag, 20. November "
               "2026 10:12\nAn: Anna Schmidt\nBetreff: AW: Angebot\n\n" + WRAPPED + "\n\n" + SIGNATURE + "\n\n")
    return {
        "prose (one long draft)": fill(header, WRAPPED + "\n\n"),
        "prose, CRLF line ends": fill(header, WRAPPED + "\n\n").replace("\n", "\r\n")[:SIZE],
        "reply + '>' quoted thread": fill(reply + history, nested),
        "reply + Outlook history": fill(reply, outlook),
        "stress: 470 interleaved replies": fill(header, "> Ist Punkt eins so in Ordnung?\n" + WRAPPED + "\n"),
        "stress: 110 sign-offs + quotes": fill(
            header, WRAPPED + "\n\n" + SIGNATURE + "\n\n" + history + quoted(WRAPPED, 1) + "\n"),
    }


def measure(func: Callable[[Any], object], arg: object, number: int) -> tuple[float, float, float]:
    """(best wall, median wall, best CPU) milliseconds per call over 15 repeats of `number` calls.
    CPU time is the fairer figure on a shared, loaded machine: it leaves out time spent waiting."""
    wall = timeit.repeat(lambda: func(arg), number=number, repeat=15)
    cpu = timeit.repeat(lambda: func(arg), number=number, repeat=15, timer=time.process_time)
    per = [r / number * 1000 for r in wall]
    return min(per), statistics.median(per), min(cpu) / number * 1000


def main() -> int:
    """Print the figures."""
    print(f"parse_mail_structure, {SIZE // 1000} KB documents (wall best / median, CPU best; 15 × 20 calls):")
    for name, text in cases().items():
        m = parse_mail_structure(text)
        best, median, cpu = measure(parse_mail_structure, text, 20)
        print(f"  {name:34} {best:6.2f} / {median:6.2f} ms, CPU {cpu:6.2f} ms   "
              f"new={len(m.new_text)} quoted={len(m.quoted)} signature={'ja' if m.signature else 'nein'}")
    if not SAMPLE.exists():
        print(f"{SAMPLE} fehlt: parse_message nicht gemessen")
        return 0
    raw = SAMPLE.read_bytes()
    mail = parse_message(raw)
    best, median, cpu = measure(parse_message, raw, 20)
    print(f"parse_message, {SAMPLE.name} ({len(raw) / 1000:.1f} KB): {best:.2f} / {median:.2f} ms, "
          f"CPU {cpu:.2f} ms; "
          f"body {len(mail.body)} chars, {len(mail.warnings)} warnings")
    # The same mail with a 10 MB attachment: parsing stops after MAX_MESSAGE_BYTES.
    closing = raw.rstrip().rsplit(b"\n", 1)[1]
    boundary = closing[:-2]
    attachment = (boundary + b"\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n"
                  + (b"QUJD" * 19 + b"\n") * 130_000)
    huge = raw.rstrip()[: -len(closing)] + attachment + closing + b"\n"
    best, median, cpu = measure(parse_message, huge, 2)
    print(f"parse_message, same mail plus a {len(huge) / 1e6:.1f} MB attachment: {best:.1f} / {median:.1f} ms, "
          f"CPU {cpu:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`versprochen check`: findings for files, stdin, or a JSON Lines batch (DESIGN.md's CLI contract)."""

from __future__ import annotations

import argparse
import bisect
import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.engine import Analysis, Engine

LEVELS = ("error", "warning", "information", "hint")
EXIT_OK, EXIT_FOUND, EXIT_INPUT = 0, 1, 2
LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of human output: where, how severe, which rule, what is wrong."""

    start: int
    end: int
    severity: str
    rule: str
    message: str


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `check` subcommand."""
    p = sub.add_parser(
        "check",
        help="Entwürfe prüfen: Zusagen, Fristen, Jargon, Lieferungen",
        description="Prüft Entwürfe (Text, Markdown oder .eml) auf riskante Zusagen, vage Fristen, "
        "Fachjargon und eingelöste Zusagen. Exit-Code 0: nichts ab --fail-level gefunden, "
        "1: etwas gefunden, 2: Aufruf- oder Eingabefehler.",
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="Dateien; '-' oder nichts liest stdin")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text: path:line:col: severity rule message; json: ein Dokument als JSON")
    p.add_argument("--jsonl", action="store_true",
                   help='Stapelbetrieb: JSON Lines {"id","text","sent"} von stdin, eine Zeile je Eingabe')
    p.add_argument("--sent", metavar="ISO", help="Bezugszeit (Standard: Date-Header, sonst jetzt)")
    p.add_argument("--fail-level", choices=(*LEVELS, "none"), default="warning",
                   help="ab welcher Schwere der Exit-Code 1 ist (Standard: warning)")
    p.set_defaults(func=run)


def parse_sent(value: str | None) -> datetime | None:
    """An ISO date or date-time; raises ValueError with a German message when malformed."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"Ungültige Bezugszeit {value!r}: erwartet ISO, z. B. 2026-11-23T10:00") from None
    return parsed.replace(tzinfo=None) if parsed.tzinfo else parsed


def findings_of(analysis: Analysis) -> list[Finding]:
    """All findings of an analysis in text order, vague deadlines as findings of their own."""
    out = [Finding(p.start, p.end, p.severity.value, p.rule_id, p.message) for p in analysis.promises]
    for p in analysis.promises:
        if p.deadline is not None and p.deadline.vague:
            out.append(Finding(p.deadline.start, p.deadline.end, "warning", "versprochen.VagueDeadlines",
                               f"Vage Frist „{p.deadline.text}“: nennen Sie ein konkretes Datum."))
    out += [Finding(j.start, j.end, j.severity.value, j.rule_id, j.message) for j in analysis.jargon]
    out += [Finding(d.start, d.end, d.severity.value, d.rule_id, d.message) for d in analysis.deliveries]
    return sorted(out, key=lambda f: (f.start, f.end, f.rule))


class LineIndex:
    """1-based line and column (in characters) of offsets; CRLF, LF and lone CR all end a line."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]

    def line_col(self, offset: int) -> tuple[int, int]:
        """Line and column of a character offset."""
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


def _warn(message: str) -> None:
    print(f"versprochen: {message}", file=sys.stderr)


def read_document(name: str, stdin: IO[bytes]) -> tuple[str, datetime | None]:
    """The text to check and the Date header's time, for a file name or '-'; raises OSError/ValueError."""
    from server.engine.mime import decode_text, looks_like_mail, parse_message

    raw = stdin.read() if name == "-" else Path(name).read_bytes()
    text, warning = decode_text(raw)
    if warning:
        _warn(f"{name}: {warning}")
    if name.lower().endswith(".eml") or (looks_like_mail(text) and "\nContent-Type:" in text[:4000]):
        mail = parse_message(raw)
        for w in mail.warnings:
            _warn(f"{name}: {w}")
        return mail.body, mail.headers.date
    return text, None


def _load_engine() -> Engine:
    from server.config import load_config
    from server.engine import Engine

    return Engine(load_config().load_lexicon())


def run_jsonl(engine: Engine, stdin: IO[str], stdout: IO[str]) -> int:
    """Batch mode: one output line per input line, in order; bad lines get an `error` object."""
    status = EXIT_OK
    for number, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        record: Any = None
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise ValueError('erwartet ein Objekt mit "text" (Zeichenkette)')
            analysis = engine.analyze(record["text"], parse_sent(record.get("sent")))
            out = {"id": record.get("id"), **analysis.to_json()}
        except ValueError as exc:
            status = EXIT_INPUT
            rid = record.get("id") if isinstance(record, dict) else None
            out = {"id": rid, "error": f"Zeile {number}: {exc}"}
            _warn(f"stdin Zeile {number}: {exc}")
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return status


def run(args: argparse.Namespace) -> int:
    """Run `versprochen check`."""
    from lexicon import LexiconError
    from server.config import ConfigError

    try:
        sent = parse_sent(args.sent)
        engine = _load_engine()
    except (ValueError, ConfigError, LexiconError) as exc:
        _warn(str(exc))
        return EXIT_INPUT
    if args.jsonl:
        return run_jsonl(engine, sys.stdin, sys.stdout)
    names = args.files or ["-"]
    if args.format == "json" and len(names) > 1:
        _warn("--format json gilt für genau ein Dokument")
        return EXIT_INPUT
    worst = EXIT_OK
    threshold = LEVELS.index(args.fail_level) if args.fail_level != "none" else -1
    for name in names:
        try:
            text, header_date = read_document(name, sys.stdin.buffer)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            _warn(f"{name}: nicht lesbar: {reason}")
            worst = EXIT_INPUT
            continue
        analysis = engine.analyze(text, sent or header_date)
        if analysis.truncated_at is not None:
            _warn(f"{name}: sehr großes Dokument, nur die ersten {analysis.truncated_at} Zeichen geprüft")
        found = findings_of(analysis)
        if args.format == "json":
            print(json.dumps({"path": name, "sent": analysis.sent.isoformat(timespec="minutes"),
                              **analysis.to_json()}, ensure_ascii=False, indent=2))
        else:
            shown = "<stdin>" if name == "-" else name
            lines = LineIndex(text)
            for f in found:
                line, col = lines.line_col(f.start)
                print(f"{shown}:{line}:{col}: {f.severity} {f.rule} {f.message}")
        if worst == EXIT_OK and any(LEVELS.index(f.severity) <= threshold for f in found):
            worst = EXIT_FOUND
    return worst

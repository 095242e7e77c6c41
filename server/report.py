"""`versprochen report`: the customer ledger (text, HTML, Markdown) and the weekly team digest."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

    from server.dashboard.ledger import Digest, Ledger
    from server.tracker.store import TrackerStore

FORMATS = {"text": "txt", "html": "html", "md": "md"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `report` to the `versprochen` parser."""
    parser = subparsers.add_parser(
        "report", help="Kundenkonto (gehaltene, offene, gebrochene Zusagen) oder Wochenbericht erzeugen",
        description="Erzeugt die Zusagen-Übersicht für einen Kunden zum Versenden, oder mit --digest den "
                    "Wochenbericht fürs Team.")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--customer", metavar="ADRESSE", help="Kunde (adresse@kunde.de oder @kunde.de)")
    what.add_argument("--digest", action="store_true", help="Wochenbericht fürs Team statt Kundenkonto")
    parser.add_argument("--week", metavar="DATUM", help="Wochenbericht der Woche mit diesem Tag (Standard: heute)")
    parser.add_argument("--format", choices=tuple(FORMATS), default="text", help="Ausgabeformat (Standard: text)")
    parser.add_argument("--db", type=Path, help="Tracker-Datenbank (Standard wie bei promises)")
    parser.add_argument("-o", "--output", type=Path, metavar="DATEI", help="in diese Datei statt auf stdout")
    parser.add_argument("--now", help=argparse.SUPPRESS)  # reproducible output in tests
    parser.set_defaults(func=run)


def render_ledger(env: jinja2.Environment, ledger: Ledger, fmt: str = "text") -> str:
    """The ledger rendered from `ledger.txt.j2`, `ledger.html.j2` or `ledger.md.j2`."""
    return env.get_template(f"ledger.{FORMATS[fmt]}.j2").render(ledger=ledger)


def render_digest(env: jinja2.Environment, digest: Digest, fmt: str = "text") -> str:
    """The weekly digest rendered from `digest.txt.j2` or `digest.html.j2` (Markdown falls back to text)."""
    suffix = "html" if fmt == "html" else "txt"
    return env.get_template(f"digest.{suffix}.j2").render(digest=digest)


def _now(text: str | None) -> datetime:
    from server.tracker.dates import local_naive, now_local

    return local_naive(datetime.fromisoformat(text)) if text else now_local()


def run(args: argparse.Namespace) -> int:
    """Render the ledger or digest; 0 ok, 1 no database or unusable, 2 usage error."""
    from server.tracker.command import UsageError, database_path
    from server.tracker.dates import parse_user_date
    from server.tracker.store import TrackerError, TrackerStore
    from templates import TemplateDirError, make_environment

    try:
        now = _now(args.now)
        week = date.fromisoformat(parse_user_date(args.week)[:10]) if args.week else now.date()
        path = database_path(args.db)
        env = make_environment()
    except (ValueError, UsageError, TemplateDirError) as exc:
        print(f"versprochen report: {exc}", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"versprochen report: keine Tracker-Datenbank unter {path}", file=sys.stderr)
        return 1
    try:
        with TrackerStore(path, read_only=True) as store:
            text = _render(store, env, args, now, week)
    except TrackerError as exc:
        print(f"versprochen report: {exc}", file=sys.stderr)
        return 1
    return _write(text, args.output)


def _render(store: TrackerStore, env: jinja2.Environment, args: argparse.Namespace, now: datetime, week: date) -> str:
    from server.dashboard.ledger import build_digest, build_ledger
    if args.digest:
        return render_digest(env, build_digest(store, week, now), args.format)
    ledger = build_ledger(store, args.customer, now)
    if not ledger.total:
        print(f"versprochen report: keine Zusagen an {args.customer} erfasst", file=sys.stderr)
    return render_ledger(env, ledger, args.format)


def _write(text: str, output: Path | None) -> int:
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"versprochen report: {output} nicht schreibbar: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"Geschrieben: {output}", file=sys.stderr)
    return 0

"""`versprochen dashboard` (the team web page) and `versprochen calendar` (open promises as iCalendar)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

    from server.dashboard.security import Tokens
    from server.tracker.store import TrackerStore

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TOKEN_ENV = "VERSPROCHEN_DASHBOARD_TOKEN"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `dashboard` and `calendar` to the `versprochen` parser."""
    dash = subparsers.add_parser(
        "dashboard", help="Team-Übersicht der Zusagen im Browser",
        description="Startet die Team-Übersicht (Zusagen nach Status, Person, Kunde und Frist; Aktionen; "
                    "Auswertung; Kundenkonto; Kalender). Ohne --token nur auf 127.0.0.1.")
    dash.add_argument("--host", default=DEFAULT_HOST, help=f"Adresse (Standard: {DEFAULT_HOST})")
    dash.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"Port (Standard: {DEFAULT_PORT})")
    dash.add_argument("--db", type=Path, help="Tracker-Datenbank (Standard wie bei promises)")
    dash.add_argument("--token", action="append", default=[], metavar="[NAME:]TOKEN",
                      help=f"Zugangs-Token (mehrfach; NAME wird im Verlauf vermerkt; auch ${TOKEN_ENV}); "
                           "nötig, wenn nicht auf 127.0.0.1 gebunden")
    dash.add_argument("--user", help="Name im Verlauf bei Änderungen ohne benanntes Token (Standard: $USER)")
    dash.set_defaults(func=run)
    cal = subparsers.add_parser(
        "calendar", help="offene Zusagen mit Frist als iCalendar-Datei (.ics)",
        description="Schreibt je offene Zusage mit Frist einen Termin mit Erinnerung einen Tag vorher.")
    cal.add_argument("--db", type=Path, help="Tracker-Datenbank (Standard wie bei promises)")
    cal.add_argument("-o", "--output", type=Path, metavar="DATEI", help="in diese Datei statt auf stdout")
    cal.add_argument("--owner", help="nur Zusagen dieses Absenders")
    cal.add_argument("--customer", help="nur Zusagen an diese Adresse (oder @domain.de)")
    cal.set_defaults(func=run_calendar)


def default_user() -> str:
    """$USER (or %USERNAME%), the name written into the history by default."""
    return os.environ.get("USER") or os.environ.get("USERNAME") or "dashboard"


def run(args: argparse.Namespace) -> int:
    """Serve the dashboard until interrupted; 2 for bad arguments, 1 when the database is unusable."""
    from server.dashboard.security import Tokens, is_loopback
    from server.tracker.command import UsageError, database_path
    from server.tracker.store import TrackerError, TrackerStore
    from templates import TemplateDirError, make_environment

    specs = list(args.token) + ([os.environ[TOKEN_ENV]] if os.environ.get(TOKEN_ENV) else [])
    try:
        tokens = Tokens.parse(specs)
        if not is_loopback(args.host) and not tokens.required:
            raise UsageError(f"--host {args.host} ist von außen erreichbar: dann ist --token Pflicht "
                             "(z. B. --token \"$(openssl rand -hex 16)\")")
        if not 0 < args.port < 65536:
            raise UsageError(f"Ungültiger Port {args.port}")
        path = database_path(args.db)
        env = make_environment()
    except (ValueError, UsageError, TemplateDirError) as exc:
        print(f"versprochen dashboard: {exc}", file=sys.stderr)
        return 2
    try:
        store = TrackerStore(path)
    except TrackerError as exc:
        print(f"versprochen dashboard: {exc}", file=sys.stderr)
        return 1
    with store:
        return _serve(store, env, args, tokens)


def _serve(store: TrackerStore, env: jinja2.Environment, args: argparse.Namespace, tokens: Tokens) -> int:
    import uvicorn

    from server.dashboard.app import create_app
    from server.dashboard.security import LOOPBACK_HOSTS, is_loopback

    # On loopback without a token, only requests naming a loopback host pass (no DNS rebinding).
    hosts = None if tokens.required or not is_loopback(args.host) else sorted(LOOPBACK_HOSTS | {args.host})
    app = create_app(store, user=args.user or default_user(), tokens=tokens, env=env,
                     allowed_hosts=hosts)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"versprochen dashboard: http://{shown}:{args.port}/ (Datenbank {store.path})",
          file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", server_header=False)
    except OSError as exc:
        print(f"versprochen dashboard: {args.host}:{args.port} nicht nutzbar: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0


def run_calendar(args: argparse.Namespace) -> int:
    """Write the iCalendar feed; 0 ok, 1 database unusable or file not writable, 2 usage error."""
    from server.dashboard.ics import calendar_bytes
    from server.tracker.command import UsageError, database_path
    from server.tracker.models import ACTIVE_STATES
    from server.tracker.store import TrackerError, TrackerStore

    try:
        path = database_path(args.db)
    except UsageError as exc:
        print(f"versprochen calendar: {exc}", file=sys.stderr)
        return 2
    promises = []
    if path.is_file():
        try:
            with TrackerStore(path, read_only=True) as store:
                promises = store.list(state=ACTIVE_STATES, owner=args.owner, recipient=args.customer)
        except TrackerError as exc:
            print(f"versprochen calendar: {exc}", file=sys.stderr)
            return 1
    else:
        print(f"versprochen calendar: noch keine Zusagen (keine Datenbank unter {path})", file=sys.stderr)
    data = calendar_bytes(promises)
    if args.output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    try:
        args.output.write_bytes(data)
    except OSError as exc:
        print(f"versprochen calendar: {args.output} nicht schreibbar: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"Geschrieben: {args.output} ({data.count(b'BEGIN:VEVENT')} Termine)", file=sys.stderr)
    return 0

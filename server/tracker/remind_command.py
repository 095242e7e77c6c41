"""`versprochen remind`: send due reminders (with a postponement draft) to whoever made each promise."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from email.message import EmailMessage

    import jinja2

    from server.tracker.remind import PlannedReminder, ReminderResult
    from server.tracker.store import TrackerStore

KIND_LABELS = {"lead": "vor der Frist", "due": "am Fälligkeitstag"}
STATUS_LABELS = {"sent": "gesendet", "failed": "FEHLGESCHLAGEN", "uncertain": "UNKLAR",
                 "skipped": "übersprungen"}
DEFAULT_UPSTREAM = "127.0.0.1:25"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `remind` to the `versprochen` parser."""
    parser = subparsers.add_parser(
        "remind", help="Erinnerungen an fällige Zusagen senden",
        description="Erinnert die Verfasser offener Zusagen vor der Frist und am Fälligkeitstag, mit einem "
                    "Entwurf für eine Verschiebung. Jede Erinnerung geht nur einmal hinaus.")
    parser.add_argument("--dry-run", action="store_true", help="nur zeigen, was gesendet würde")
    parser.add_argument("--lead", help="Vorlauf vor der Frist (Standard: 24h; [tracker] lead)")
    parser.add_argument("--upstream", metavar="HOST:PORT",
                        help=f"SMTP-Server für den Versand (Standard: {DEFAULT_UPSTREAM}; "
                             "[tracker] upstream)")
    parser.add_argument("--from", dest="from_address", metavar="ADRESSE",
                        help="Absender der Erinnerungen (Standard: versprochen@localhost; [tracker] from)")
    parser.add_argument("--db", type=Path, help="Tracker-Datenbank")
    parser.add_argument("--now", metavar="ZEIT", help="Bezugszeit statt jetzt (ISO, zum Testen)")
    parser.set_defaults(func=run)


def parse_upstream(text: str) -> tuple[str, int]:
    """`host:port`, `[::1]:25` or `host` (port 25); ValueError in German otherwise."""
    value = text.strip()
    host, port = value, "25"
    if value.startswith("["):
        host, _sep, rest = value[1:].partition("]")
        port = rest.removeprefix(":") or "25"
    elif value.count(":") == 1:
        host, port = value.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"Ungültiger SMTP-Server „{text}“ (erwartet HOST:PORT)")
    return host, int(port)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """Command-line values, falling back to `[tracker]` in versprochen.toml, then to the defaults."""
    from datetime import datetime

    from server.config import load_config
    from server.tracker.dates import local_naive, now_local
    from server.tracker.remind import DEFAULT_FROM, parse_duration
    from server.tracker.store import TrackerStore

    config = load_config()
    section = config.raw.get("tracker", {})
    section = section if isinstance(section, dict) else {}
    host, port = parse_upstream(args.upstream or str(section.get("upstream", DEFAULT_UPSTREAM)))
    try:
        now = local_naive(datetime.fromisoformat(args.now)) if args.now else now_local()
    except ValueError:
        raise ValueError(f"Ungültige Zeit „{args.now}“ (erwartet z. B. 2026-11-26T09:00)") from None
    return {
        "db": args.db or config.tracker_path or TrackerStore.default_path(),
        "lead": parse_duration(args.lead or str(section.get("lead", "24h"))),
        "host": host, "port": port, "now": now,
        "from": args.from_address or str(section.get("from", DEFAULT_FROM)),
        "templates": config.templates_dir,
    }


def run(args: argparse.Namespace) -> int:
    """Send (or with --dry-run show) the reminders due now; 1 when a send failed or is unclear."""
    from server.config import ConfigError
    from server.tracker.store import TrackerError, TrackerStore
    from templates import TemplateDirError, make_environment

    try:
        settings = _settings(args)
        env = make_environment(settings["templates"], use_config=False)
    except (ConfigError, TemplateDirError, ValueError) as exc:
        print(f"versprochen remind: {exc}", file=sys.stderr)
        return 2
    db: Path = settings["db"]
    if not db.is_file():
        print(f"Keine Tracker-Datenbank unter {db}: nichts zu erinnern.", file=sys.stderr)
        return 0
    try:
        with TrackerStore(db, read_only=args.dry_run) as store:
            if args.dry_run:
                return _dry_run(store, settings, env)
            return _send(store, settings, env)
    except TrackerError as exc:
        print(f"versprochen remind: {exc}", file=sys.stderr)
        return 1


def _dry_run(store: TrackerStore, settings: dict[str, Any], env: jinja2.Environment) -> int:
    """Print the reminders a cycle would send now, without sending or recording anything."""
    from server.tracker.remind import plan_reminders

    planned = plan_reminders(store, settings["now"], settings["lead"], env=env,
                             from_address=settings["from"])
    for plan in planned:
        print(_describe(plan))
        print(_as_text(plan.message))
    print(f"{len(planned)} Erinnerung(en) würden gesendet (Probelauf, nichts verschickt).")
    return 0


def _send(store: TrackerStore, settings: dict[str, Any], env: jinja2.Environment) -> int:
    """Run one reminder cycle against the upstream and report each result."""
    from server.tracker.remind import run_reminder_cycle, smtp_sender

    results = run_reminder_cycle(store, settings["now"], settings["lead"],
                                 smtp_sender(settings["host"], settings["port"]), env=env,
                                 from_address=settings["from"])
    for result in results:
        line = _result_line(result)
        print(line, file=sys.stderr if result.status in ("failed", "uncertain") else sys.stdout)
    sent = sum(r.status == "sent" for r in results)
    print(f"{sent} Erinnerung(en) gesendet." if results else "Keine Erinnerungen fällig.")
    return 1 if any(r.status in ("failed", "uncertain") for r in results) else 0


def _describe(plan: PlannedReminder) -> str:
    return (f"=== Erinnerung {KIND_LABELS[plan.kind]} an {plan.message['To']} "
            f"(Zusage {plan.promise.id}) ===")


def _as_text(message: EmailMessage) -> str:
    """The reminder readable on a terminal: main headers and the decoded body."""
    head = "\n".join(f"{name}: {message[name]}" for name in ("From", "To", "Subject") if message[name])
    return f"{head}\n\n{message.get_content()}"


def _result_line(result: ReminderResult) -> str:
    text = (f"{STATUS_LABELS.get(result.status, result.status)}: Erinnerung {KIND_LABELS[result.kind]} "
            f"für Zusage {result.promise_id} an {result.recipient}")
    return text + (f" – {result.error}" if result.error else "")

"""`versprochen promises`: review the tracker (list, due, overdue, show) and change or reopen promises."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.tracker.store import StateChange, TrackedPromise, TrackerStore

STATES = ("open", "kept", "broken", "postponed", "cancelled")
CHANGES = {"kept": "kept", "broken": "broken", "postpone": "postponed", "cancel": "cancelled",
           "reopen": "open"}
KIND_LABELS = {"explicit": "ausdrücklich", "implicit": "stillschweigend"}
RISK_LABELS = {"high": "hoch", "medium": "mittel", "low": "niedrig"}
CUSTOMER_WIDTH = 26
QUOTE_WIDTH = 60


class UsageError(Exception):
    """Bad arguments or configuration: exit code 2."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `promises` with its actions to the `versprochen` parser."""
    parser = subparsers.add_parser(
        "promises", help="Zusagen im Tracker ansehen und pflegen",
        description="Zusagen aus gesendeten Mails ansehen, als gehalten/gebrochen markieren, verschieben, "
                    "wieder öffnen.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, help="Tracker-Datenbank (Standard: versprochen.toml [tracker] "
                        "path, sonst der Benutzer-Datenordner)")
    common.add_argument("--json", action="store_true", help="Ausgabe als JSON")
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--owner", help="nur Zusagen dieses Absenders (Adresse)")
    filters.add_argument("--customer", "--recipient", dest="recipient",
                         help="nur Zusagen an diese Adresse (oder @domain.de)")
    filters.add_argument("--from", dest="due_from", metavar="DATUM", help="fällig ab (27.11.2026 oder ISO)")
    filters.add_argument("--to", dest="due_to", metavar="DATUM", help="fällig bis (einschließlich)")
    filters.add_argument("--state", action="append", choices=STATES,
                         help="nur dieser Status (mehrfach; due/overdue: Standard open und postponed)")
    filters.add_argument("--ics", action="store_true",
                         help="als iCalendar ausgeben (ein Termin mit Erinnerung je offener Zusage)")
    change = argparse.ArgumentParser(add_help=False)
    change.add_argument("--by", default=None, metavar="NAME", help="wer ändert (Standard: $USER)")
    change.add_argument("--note", metavar="TEXT", help="Notiz für den Verlauf")
    evidence = argparse.ArgumentParser(add_help=False)
    evidence.add_argument("--evidence", help="Beleg, z. B. die Message-ID der Mail")
    actions = parser.add_subparsers(dest="action", metavar="AKTION")
    actions.add_parser("list", parents=[common, filters], help="Zusagen auflisten")
    due = actions.add_parser("due", parents=[common, filters], help="offene Zusagen, bald fällig")
    due.add_argument("--within", default="2d", help="Zeitraum ab jetzt (Standard: 2d)")
    actions.add_parser("overdue", parents=[common, filters], help="offene Zusagen, Frist verstrichen")
    show = actions.add_parser("show", parents=[common], help="eine Zusage mit Verlauf")
    show.add_argument("id", type=int)
    for name, text in (("kept", "als gehalten markieren"), ("broken", "als gebrochen markieren"),
                       ("cancel", "als abgesagt markieren"), ("postpone", "auf ein neues Datum verschieben")):
        action = actions.add_parser(name, parents=[common, change, evidence], help=text)
        action.add_argument("id", type=int)
        if name == "postpone":
            action.add_argument("date", metavar="DATUM", help="neue Frist (2026-12-04, 4.12.2026 14:00)")
    reopen = actions.add_parser(
        "reopen", parents=[common, change], help="eine gehaltene, gebrochene oder abgesagte Zusage wieder öffnen",
        description="Setzt eine gehaltene, gebrochene oder abgesagte Zusage wieder auf offen, etwa wenn die "
                    "automatische Erkennung danebenlag. Der Verlauf behält den alten Status samt Beleg; "
                    "ist die Frist verstrichen, ist die Zusage wieder überfällig.")
    reopen.add_argument("id", type=int, help="Nummer der Zusage")
    parser.set_defaults(func=run, promises_parser=parser)


def database_path(given: Path | None) -> Path:
    """`--db`, else `[tracker] path` of the nearest versprochen.toml, else the default location."""
    if given is not None:
        return given
    from server.config import ConfigError, load_config
    from server.tracker.store import TrackerStore

    try:
        configured = load_config().tracker_path
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    return configured or TrackerStore.default_path()


def run(args: argparse.Namespace) -> int:
    """Run one `promises` action; 0 ok, 1 not found or refused change, 2 usage error."""
    from server.tracker.store import TrackerError

    if not args.action:
        args.promises_parser.print_help(sys.stderr)
        return 2
    try:
        path = database_path(args.db)
        if args.action in CHANGES:
            return _change(args, path)
        return _review(args, path)
    except UsageError as exc:
        print(f"versprochen promises: {exc}", file=sys.stderr)
        return 2
    except TrackerError as exc:
        print(f"versprochen promises: {exc}", file=sys.stderr)
        return 1


def _open(path: Path, *, read_only: bool) -> TrackerStore | None:
    from server.tracker.store import TrackerStore

    if read_only and not path.is_file():
        return None
    return TrackerStore(path, read_only=read_only)


def _review(args: argparse.Namespace, path: Path) -> int:
    """list / due / overdue / show."""
    store = _open(path, read_only=True)
    if store is None:
        if args.action == "show":
            print(f"Keine Zusage mit der Nummer {args.id} (keine Datenbank unter {path})", file=sys.stderr)
            return 1
        print(f"Noch keine Zusagen erfasst (keine Datenbank unter {path})", file=sys.stderr)
        _print_list([], as_json=args.json)
        return 0
    with store:
        if args.action != "show":
            selected = _select(store, args)
            if getattr(args, "ics", False):
                from server.dashboard.ics import write_calendar

                write_calendar(selected, sys.stdout.buffer)
                return 0
            _print_list(selected, as_json=args.json)
            return 0
        found = store.get(args.id)
        if found is None:
            print(f"Keine Zusage mit der Nummer {args.id}", file=sys.stderr)
            return 1
        _print_show(found, store.history(found.id), as_json=args.json)
    return 0


def _select(store: TrackerStore, args: argparse.Namespace) -> list[TrackedPromise]:
    """The promises a list/due/overdue call asks for."""
    from datetime import date, datetime

    from server.tracker.dates import (
        deadline_start,
        is_overdue,
        local_naive,
        now_local,
        parse_duration,
        parse_user_date,
    )
    from server.tracker.store import ACTIVE_STATES

    try:
        due_from: str | date | datetime | None = parse_user_date(args.due_from) if args.due_from else None
        due_to: str | date | datetime | None = parse_user_date(args.due_to) if args.due_to else None
        within = parse_duration(args.within) if args.action == "due" else None
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    now = local_naive(now_local())
    # Let SQL narrow by day to the window the action can return; the exact test follows below.
    if args.action == "overdue" and due_to is None:
        due_to = now
    if args.action == "due" and within is not None:
        due_from = due_from or now.date()
        due_to = due_to or now + within
    states = args.state or (None if args.action == "list" else ACTIVE_STATES)
    found = store.list(state=states, owner=args.owner, recipient=args.recipient, due_from=due_from,
                       due_to=due_to)
    if args.action == "overdue":
        return [p for p in found if is_overdue(p.due, now)]
    if args.action == "due" and within is not None:
        horizon = now + within
        return [p for p in found if p.due and not is_overdue(p.due, now) and deadline_start(p.due) <= horizon]
    return found


def _change(args: argparse.Namespace, path: Path) -> int:
    """kept / broken / cancel / postpone / reopen."""
    from server.tracker.dates import parse_user_date

    new_due = None
    if args.action == "postpone":
        try:
            new_due = parse_user_date(args.date)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    if not path.is_file():
        print(f"Keine Zusage mit der Nummer {args.id} (keine Datenbank unter {path})", file=sys.stderr)
        return 1
    by = args.by or os.environ.get("USER") or os.environ.get("USERNAME") or "unbekannt"
    store = _open(path, read_only=False)
    assert store is not None
    with store:
        updated = store.set_state(args.id, CHANGES[args.action], by=by, evidence=getattr(args, "evidence", None),
                                  note=args.note, new_due=new_due)
    if args.json:
        print(json.dumps(promise_json(updated), ensure_ascii=False, indent=2))
    else:
        print(_changed_text(updated))
    return 0


def _changed_text(p: TrackedPromise) -> str:
    from server.tracker.dates import format_due
    from server.tracker.store import STATE_LABELS

    if p.state == "postponed":
        return f"Zusage {p.id} verschoben auf {format_due(p.due)}."
    if p.state == "open":
        overdue = " und überfällig" if _status(p) == "überfällig" else ""
        deadline = f" (Frist {format_due(p.due)})" if p.due else ""
        return f"Zusage {p.id} ist wieder offen{overdue}{deadline}."
    return f"Zusage {p.id} ist jetzt {STATE_LABELS[p.state]}."


def promise_json(p: TrackedPromise) -> dict[str, Any]:
    """A promise as JSON (ISO times, `overdue` computed for now)."""
    from dataclasses import asdict

    from server.tracker.dates import is_overdue, now_local
    from server.tracker.store import ACTIVE_STATES

    data = asdict(p)
    data["recipients"] = list(p.recipients)
    data["created"] = p.created.isoformat()
    data["updated"] = p.updated.isoformat()
    data["overdue"] = p.state in ACTIVE_STATES and is_overdue(p.due, now_local())
    return data


def change_json(c: StateChange) -> dict[str, Any]:
    """A history entry as JSON."""
    from dataclasses import asdict

    data = asdict(c)
    data["at"] = c.at.isoformat()
    return data


def _status(p: TrackedPromise) -> str:
    from server.tracker.dates import is_overdue, now_local
    from server.tracker.store import ACTIVE_STATES, STATE_LABELS

    if p.state in ACTIVE_STATES and is_overdue(p.due, now_local()):
        return "überfällig"
    return STATE_LABELS[p.state]


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _customer(p: TrackedPromise) -> str:
    from server.tracker.matching import display_name

    if not p.recipients:
        return "–"
    extra = f" +{len(p.recipients) - 1}" if len(p.recipients) > 1 else ""
    return display_name(p.recipients[0]) + extra


def _print_list(promises: list[TrackedPromise], *, as_json: bool) -> None:
    """The compact German table (ID, Fälligkeit, Status, Kunde, Zusage), or JSON."""
    from server.tracker.dates import format_due

    if as_json:
        print(json.dumps([promise_json(p) for p in promises], ensure_ascii=False, indent=2))
        return
    if not promises:
        print("Keine Zusagen gefunden.")
        return
    rows = [("ID", "Fälligkeit", "Status", "Kunde", "Zusage")]
    for p in promises:
        due = "vage" if p.vague and p.due is None else format_due(p.due)
        rows.append((str(p.id), due, _status(p), _clip(_customer(p), CUSTOMER_WIDTH),
                     _clip(p.quote, QUOTE_WIDTH)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print(f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:<{widths[3]}}  {r[4]}")


def _print_show(p: TrackedPromise, history: list[StateChange], *, as_json: bool) -> None:
    """One promise with its details and its history."""
    from server.tracker.dates import format_due
    from server.tracker.store import STATE_LABELS

    if as_json:
        print(json.dumps({"promise": promise_json(p), "history": [change_json(c) for c in history]},
                         ensure_ascii=False, indent=2))
        return
    deadline = f"„{p.deadline_text}“ → {format_due(p.due)}" if p.deadline_text else format_due(p.due)
    print(f"Zusage {p.id}: {_status(p)}")
    print(f"  Zusage:  „{p.quote}“")
    print(f"  Art:     {KIND_LABELS.get(p.kind, p.kind)}, Risiko {RISK_LABELS.get(p.risk, p.risk)}")
    print(f"  Frist:   {deadline}{' (vage)' if p.vague else ''}")
    print(f"  Von:     {p.sender}")
    print(f"  An:      {', '.join(p.recipients) or '–'}")
    print(f"  Mail:    {p.subject} {p.message_id}")
    print(f"  Erfasst: {p.created:%d.%m.%Y %H:%M}")
    print("Verlauf:")
    for c in history:
        old = STATE_LABELS.get(c.old_state, "–") if c.old_state else "–"
        extra = [f"neue Frist {format_due(c.new_due)}"] if c.new_due else []
        extra += [f"Beleg {c.evidence}"] if c.evidence else []
        extra += [c.note] if c.note else []
        print(f"  {c.at:%d.%m.%Y %H:%M}  {old} → {STATE_LABELS[c.new_state]}  ({c.by})"
              + (f"  {'; '.join(extra)}" if extra else ""))

"""`versprochen proxy`: the SMTP proxy between Postfix and its re-injection port."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from smtp_proxy.settings import (
    LOOPBACK,
    POSTFIX_MESSAGE_SIZE_LIMIT,
    ProxySettings,
    SettingsError,
    parse_duration,
    parse_hostport,
    parse_network,
    parse_size,
)

if TYPE_CHECKING:
    from smtp_proxy.extract import Analyzer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `proxy` subcommand."""
    p = sub.add_parser(
        "proxy",
        help="SMTP-Proxy: Mails unverändert weiterleiten, Zusagen erkennen und verfolgen",
        description="Nimmt Mails per SMTP an (z. B. als Postfix-content_filter), ergänzt einen "
        "X-Versprochen-Header, leitet sie an den Upstream weiter und speichert die Zusagen "
        "angenommener Mails im Tracker. 250 gibt es erst nach dem 250 des Upstreams.",
    )
    p.add_argument("--listen", default="127.0.0.1:10025", metavar="HOST:PORT",
                   help="Adresse, auf der der Proxy lauscht (Standard: 127.0.0.1:10025)")
    p.add_argument("--upstream", default="127.0.0.1:10026", metavar="HOST:PORT",
                   help="Upstream-MTA, z. B. der Re-Injection-Port von Postfix (Standard: 127.0.0.1:10026)")
    p.add_argument("--db", metavar="PATH",
                   help="Tracker-Datenbank (Standard: versprochen.toml, sonst Nutzerdaten)")
    p.add_argument("--no-tracker", action="store_true", help="nichts im Tracker speichern, nur markieren")
    p.add_argument("--timeout", default="60", metavar="DAUER",
                   help="Zeitlimit je Upstream-Schritt (Standard: 60 s)")
    p.add_argument("--extract-budget", default="2s", metavar="DAUER",
                   help="CPU-Zeit der Analyse je Mail; darüber wird für die Mail nichts gespeichert "
                   "(Standard: 2s)")
    p.add_argument("--tag-wait", default="0.2s", metavar="DAUER",
                   help="so lange wartet eine Mail höchstens auf ihre Analyse, sonst geht sie sofort mit "
                   "'X-Versprochen: pending' hinaus und die Zusagen werden nachgetragen (Standard: 0.2s; "
                   "0 = nie warten; gleich --extract-budget = immer warten)")
    p.add_argument("--queue", default=5000, type=int, metavar="N",
                   help="höchstens so viele Analysen in der Warteschlange; ist sie voll, wartet die Mail "
                   "(Standard: 5000)")
    p.add_argument("--queue-bytes", default="64M", metavar="BYTES",
                   help="höchstens so viele Bytes Mailtext in der Warteschlange (Standard: 64M)")
    p.add_argument("--worker-nice", default=10, type=int, metavar="N",
                   help="niedrigere CPU-Priorität der Analyseprozesse, damit das Weiterleiten Vorrang hat "
                   "(Standard: 10; 0 = gleich)")
    p.add_argument("--allow", action="append", default=[], metavar="NETZ",
                   help="erlaubte Client-Netze, mehrfach möglich (Standard: nur Loopback)")
    p.add_argument("--remind-every", metavar="DAUER",
                   help="Erinnerungen in diesem Abstand verschicken, z. B. 5m")
    p.add_argument("--remind-lead", default="24h", metavar="DAUER",
                   help="Vorlauf der Erinnerung vor der Frist (Standard: 24h)")
    p.add_argument("--remind-from", metavar="ADRESSE", help="Absender der Erinnerungen")
    p.add_argument("--max-size", default=str(POSTFIX_MESSAGE_SIZE_LIMIT), metavar="BYTES",
                   help=f"größte angenommene Mail (Standard wie Postfix: {POSTFIX_MESSAGE_SIZE_LIMIT})")
    p.add_argument("--workers", type=int, default=default_workers(), metavar="N",
                   help="Analyseprozesse (Standard: 2, auf einem Kern 1; 0 = alles im Proxy-Prozess)")
    p.add_argument("--pool-size", type=int, default=20, metavar="N",
                   help="offen gehaltene Upstream-Verbindungen (Standard: 20; 0 = je Mail neu)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.set_defaults(func=run)


def default_workers() -> int:
    """Two analysis processes where there are two cores: one cannot keep up with the relay (measured)."""
    import os

    return max(1, min(2, os.cpu_count() or 1))


def settings_from_args(args: argparse.Namespace) -> ProxySettings:
    """Validated settings from the parsed arguments; raises SettingsError with a German message."""
    listen_host, listen_port = parse_hostport(args.listen)
    upstream_host, upstream_port = parse_hostport(args.upstream)
    if (listen_host, listen_port) == (upstream_host, upstream_port):
        raise SettingsError("--listen und --upstream sind gleich: "
                            "der Proxy würde Mails an sich selbst senden")
    if args.workers < 0 or args.pool_size < 0:
        raise SettingsError("--workers und --pool-size dürfen nicht negativ sein")
    if args.queue < 1:
        raise SettingsError("--queue muss mindestens 1 sein")
    if not 0 <= args.worker_nice <= 19:
        raise SettingsError("--worker-nice muss zwischen 0 und 19 liegen")
    return ProxySettings(
        listen_host=listen_host, listen_port=listen_port,
        upstream_host=upstream_host, upstream_port=upstream_port,
        db_path=Path(args.db) if args.db else None,
        timeout=parse_duration(args.timeout),
        extract_budget=parse_duration(args.extract_budget),
        tag_wait=parse_duration(args.tag_wait, zero=True),
        queue_max=args.queue, queue_bytes=parse_size(args.queue_bytes), worker_nice=args.worker_nice,
        allow=tuple(parse_network(a) for a in args.allow) or LOOPBACK,
        remind_every=parse_duration(args.remind_every) if args.remind_every else None,
        max_size=parse_size(args.max_size),
        workers=args.workers, pool_size=args.pool_size,
        tracker=not args.no_tracker,
    )


def build_engine(config_start: str) -> Analyzer:
    """The engine with the project's lexicon (runs once in each analysis worker)."""
    from server.config import load_project_lexicon
    from server.engine import Engine

    return Engine(load_project_lexicon(Path(config_start)))


def tracker_path(settings: ProxySettings) -> Path | None:
    """--db, else `[tracker] path` from versprochen.toml, else None (the tracker's default path)."""
    if settings.db_path is not None:
        return settings.db_path
    from server.config import load_config

    return load_config().tracker_path


def run(args: argparse.Namespace) -> int:
    """Run the proxy until SIGTERM/SIGINT."""
    import asyncio
    import logging

    from smtp_proxy.pool import ExtractionStartError
    from smtp_proxy.recorder import TrackerOpenError, default_store_factory
    from smtp_proxy.reminders import reminder_job
    from smtp_proxy.server import ProxyServer

    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = settings_from_args(args)
        lead = parse_duration(args.remind_lead)
        path = tracker_path(settings) if settings.tracker else None
    except (SettingsError, ValueError) as exc:
        print(f"versprochen proxy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    store = default_store_factory(path) if settings.tracker else None
    reminder = reminder_job(settings, lead, args.remind_from) if settings.remind_every and store else None
    server = ProxyServer(settings, functools.partial(build_engine, str(Path.cwd())), store, reminder=reminder)
    try:
        asyncio.run(server.serve_until_signal())
    except (ExtractionStartError, TrackerOpenError) as exc:
        print(f"versprochen proxy: Start fehlgeschlagen (Analyse oder Tracker): {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"versprochen proxy: {settings.listen_host}:{settings.listen_port}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK

"""Reminder cycles run by the proxy itself (`--remind-every`), where the tracker store lives."""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from smtp_proxy.recorder import Store
from smtp_proxy.server import TrackerJob
from smtp_proxy.settings import ProxySettings

log = logging.getLogger(__name__)


def reminder_cycle(store: Store, *, host: str, port: int, timeout: float, lead: float, from_address: str,
                   templates: Path | None, now: datetime | None = None) -> list[Any]:
    """One `run_reminder_cycle` through the upstream, results logged (picklable: runs in a worker).

    `now` pins the reference time (tests); by default it is the current local time.
    """
    from server.tracker.remind import run_reminder_cycle, smtp_sender
    from templates import make_environment

    env = make_environment(templates, use_config=False)
    now = now or datetime.now().replace(microsecond=0)
    results = run_reminder_cycle(store, now, timedelta(seconds=lead),  # type: ignore[arg-type]
                                 smtp_sender(host, port, timeout=timeout), env=env, from_address=from_address)
    for result in results:
        level = logging.WARNING if result.status == "failed" else logging.INFO
        log.log(level, "Erinnerung %s für Zusage %s an %s: %s", result.kind, result.promise_id,
                result.recipient, result.status)
    return results


def reminder_job(settings: ProxySettings, lead: float, sender: str | None) -> TrackerJob:
    """The reminder cycle for these settings; reminders go straight to the upstream, untracked."""
    from server.config import load_config
    from server.tracker.remind import DEFAULT_FROM

    config = load_config()
    section = config.raw.get("tracker", {})
    configured = section.get("from") if isinstance(section, dict) else None
    return functools.partial(
        reminder_cycle, host=settings.upstream_host, port=settings.upstream_port, timeout=settings.timeout,
        lead=lead, from_address=sender or str(configured or DEFAULT_FROM), templates=config.templates_dir)

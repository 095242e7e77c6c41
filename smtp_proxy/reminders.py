"""Reminder cycles run by the proxy itself (`--remind-every`), on the tracker thread and its store."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from smtp_proxy.recorder import Store, TrackerRecorder
from smtp_proxy.server import ReminderJob
from smtp_proxy.settings import ProxySettings

log = logging.getLogger(__name__)


def reminder_job(settings: ProxySettings, lead: float, sender: str | None) -> ReminderJob:
    """An async job running `server.tracker.remind.run_reminder_cycle` once, sending via the upstream.

    Reminders go straight to the upstream (the re-injection port), so they are not tagged or tracked.
    """
    from server.config import load_config
    from server.tracker.remind import DEFAULT_FROM, run_reminder_cycle, smtp_sender
    from templates import make_environment

    config = load_config()
    section = config.raw.get("tracker", {})
    from_address = sender or str(section.get("from", DEFAULT_FROM) if isinstance(section, dict)
                                 else DEFAULT_FROM)
    env = make_environment(config.templates_dir, use_config=False)
    send = smtp_sender(settings.upstream_host, settings.upstream_port, timeout=settings.timeout)

    def cycle(store: Store) -> list[Any]:
        now = datetime.now().replace(microsecond=0)
        return run_reminder_cycle(store, now, timedelta(seconds=lead), send,  # type: ignore[arg-type]
                                  env=env, from_address=from_address)

    async def job(recorder: TrackerRecorder) -> object:
        results = await recorder.run(cycle)
        for result in results:
            level = logging.WARNING if result.status == "failed" else logging.INFO
            log.log(level, "Erinnerung %s für Zusage %s an %s: %s", result.kind, result.promise_id,
                    result.recipient, result.status)
        return results

    return job

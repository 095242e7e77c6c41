"""Reminder cycles run by the proxy (`--remind-every`): placeholder until the tracker's API is read."""

from __future__ import annotations

from datetime import timedelta

from smtp_proxy.recorder import TrackerRecorder
from smtp_proxy.server import ReminderJob
from smtp_proxy.settings import ProxySettings


def reminder_job(settings: ProxySettings, lead: float, sender: str | None) -> ReminderJob:
    """An async job running one reminder cycle on the tracker thread."""

    async def job(recorder: TrackerRecorder) -> object:
        return timedelta(seconds=lead)

    return job

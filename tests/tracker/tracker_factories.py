"""Builders for tracker tests: engine findings, sent mails and a settable clock."""

from __future__ import annotations

from datetime import date, datetime

from server.engine.types import Analysis, Deadline, Delivery, MailStructure, Promise, Region, Severity
from server.tracker.store import SentMail

MONDAY = datetime(2026, 11, 23, 10, 0)


class Clock:
    """A settable clock for the store's record and history stamps."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_promise(text: str, *, obj: str | None = None, due: date | datetime | None = None,
                 deadline_text: str | None = "bis Freitag", vague: bool = False, start: int = 0,
                 risk: str = "medium", kind: str = "explicit") -> Promise:
    """A promise finding as the engine would return it."""
    deadline = None
    if due is not None or vague:
        deadline = Deadline(start, start + 5, deadline_text or "", due, vague=vague)
    return Promise(start=start, end=start + len(text), text=text, kind=kind, risk=risk,  # type: ignore[arg-type]
                   rule="Promise", message="Zusage", reason="r", severity=Severity.WARNING,
                   deadline=deadline, object=obj)


def make_delivery(obj: str, *, phrased: bool = False) -> Delivery:
    """A delivery finding ("Anbei erhalten Sie <obj>")."""
    return Delivery(start=0, end=10 + len(obj), text=f"Anbei erhalten Sie {obj}", object=obj, phrased=phrased,
                    rule="Delivery", message="Lieferung", reason="r", severity=Severity.HINT)


def make_analysis(text: str = "", promises: tuple[Promise, ...] = (), deliveries: tuple[Delivery, ...] = (),
                  *, new_text: tuple[Region, ...] = (), quoted: tuple[Region, ...] = ()) -> Analysis:
    """An analysis holding exactly the given findings."""
    return Analysis(text=text, sent=MONDAY, mail=MailStructure(new_text=new_text, quoted=quoted),
                    promises=promises, deliveries=deliveries)


def make_mail(message_id: str = "<m1@firma.de>", *, sender: str = "Max Muster <max@firma.de>",
              recipients: tuple[str, ...] = ("Anna Kunde <anna@kunde.de>",), subject: str = "Angebot",
              sent: datetime = MONDAY, in_reply_to: str | None = None,
              references: tuple[str, ...] = ()) -> SentMail:
    """A sent mail with sensible defaults."""
    return SentMail(message_id=message_id, sender=sender, recipients=recipients, subject=subject, sent=sent,
                    in_reply_to=in_reply_to, references=references)

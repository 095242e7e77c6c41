"""The postponement draft the dashboard shows after a promise was postponed (templates/postponement.txt.j2)."""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import TYPE_CHECKING

from server.tracker.dates import parse_due
from server.tracker.matching import display_name
from server.tracker.models import TrackedPromise

if TYPE_CHECKING:
    import jinja2


def reply_subject(subject: str) -> str:
    """`Re: <subject>` unless the subject already starts with Re/AW/Antw."""
    subject = subject.strip()
    return subject if re.match(r"(?i)(re|aw|antw):", subject) else f"Re: {subject}".strip()


def postponement_context(before: TrackedPromise, new_due: str) -> dict[str, object]:
    """The variables `postponement.txt.j2` documents, for a promise as it was before postponing."""
    first = before.recipients[0] if before.recipients else ""
    customer = display_name(first) if first else "den Empfänger"
    if len(before.recipients) > 1:
        customer += " u. a."
    return {
        "id": before.id, "kind": "postpone", "quote": before.quote, "subject": before.subject.strip(),
        "due": before.due, "deadline_text": before.deadline_text, "made": before.created,
        "customer": customer, "customer_name": parseaddr(first)[0].strip() if first else "",
        "owner_name": parseaddr(before.sender)[0].strip(), "reply_subject": reply_subject(before.subject),
        "new_date": parse_due(new_due),
    }


def postponement_draft(env: jinja2.Environment, before: TrackedPromise, new_due: str) -> str:
    """The draft to the customer announcing the new date (the old due comes from `before`)."""
    return env.get_template("postponement.txt.j2").render(postponement_context(before, new_due)).strip("\n")

"""Value types the engine returns: promises, deadlines, jargon, deliveries and the mail's structure."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

PromiseKind = Literal["explicit", "implicit"]
Risk = Literal["high", "medium", "low"]
JargonKind = Literal["anglicism", "technical", "officialese"]

RULE_PREFIX = "versprochen."


def _values(finding: Any) -> tuple[Any, ...]:
    """The field values of a dataclass instance in declaration order (not recursive, unlike astuple)."""
    return tuple(getattr(finding, f.name) for f in fields(finding))


class Severity(StrEnum):
    """How loudly a front-end should show a finding (maps onto LSP severities)."""

    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"


@dataclass(frozen=True, slots=True)
class Trigger:
    """A word or phrase that changed a finding (made a promise risky, hedged it, ...)."""

    rule: str
    start: int
    end: int
    text: str

    def moved(self, by: int) -> Trigger:
        """The same trigger `by` characters further on (positional construction: cheap per keystroke)."""
        return Trigger(self.rule, self.start + by, self.end + by, self.text)

    def __reduce__(self) -> tuple[type[Trigger], tuple[Any, ...]]:
        """Pickle by constructor arguments (the compiled class cannot restore frozen fields one by one)."""
        return (Trigger, _values(self))


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline phrase and the date it resolves to relative to the sent time."""

    start: int
    end: int
    text: str
    due: date | datetime | None
    vague: bool = False
    # True when the phrase names a date that cannot be pinned down ("nächsten Dienstag" on a Monday).
    ambiguous: bool = False
    # True when the deadline hangs on an event ("innerhalb von 14 Tagen nach Eingang").
    event_bound: bool = False

    def moved(self, by: int) -> Deadline:
        """The same deadline `by` characters further on."""
        return Deadline(self.start + by, self.end + by, self.text, self.due, self.vague, self.ambiguous,
                        self.event_bound)

    def due_iso(self) -> str | None:
        """The due date as ISO text: a date, or date and time (minutes) when a time was named."""
        if self.due is None:
            return None
        if isinstance(self.due, datetime):
            return self.due.strftime("%Y-%m-%dT%H:%M")
        return self.due.isoformat()

    def __reduce__(self) -> tuple[type[Deadline], tuple[Any, ...]]:
        """Pickle by constructor arguments (the compiled class cannot restore frozen fields one by one)."""
        return (Deadline, _values(self))


@dataclass(frozen=True, slots=True)
class Promise:
    """A commitment the writer (or the writer's company) makes in the new text."""

    start: int
    end: int
    text: str
    kind: PromiseKind
    risk: Risk
    rule: str
    message: str
    reason: str
    severity: Severity
    deadline: Deadline | None = None
    triggers: tuple[Trigger, ...] = ()
    # A short noun phrase for what was promised ("Angebot"), used to match later deliveries.
    object: str | None = None

    def moved(self, by: int) -> Promise:
        """The same promise `by` characters further on."""
        return Promise(self.start + by, self.end + by, self.text, self.kind, self.risk, self.rule, self.message,
                       self.reason, self.severity, self.deadline.moved(by) if self.deadline else None,
                       tuple(t.moved(by) for t in self.triggers), self.object)

    @property
    def rule_id(self) -> str:
        """The rule id as shown to users (`versprochen.<Rule>`)."""
        return RULE_PREFIX + self.rule

    def __reduce__(self) -> tuple[type[Promise], tuple[Any, ...]]:
        """Pickle by constructor arguments (the compiled class cannot restore frozen fields one by one)."""
        return (Promise, _values(self))


@dataclass(frozen=True, slots=True)
class Jargon:
    """A word customers may not understand, with plain German alternatives."""

    start: int
    end: int
    term: str
    kind: JargonKind
    plain: tuple[str, ...]
    rule: str
    message: str
    reason: str
    severity: Severity

    @property
    def rule_id(self) -> str:
        """The rule id as shown to users (`versprochen.<Rule>`)."""
        return RULE_PREFIX + self.rule

    def moved(self, by: int) -> Jargon:
        """The same finding `by` characters further on."""
        return Jargon(self.start + by, self.end + by, self.term, self.kind, self.plain, self.rule, self.message,
                      self.reason, self.severity)

    def __reduce__(self) -> tuple[type[Jargon], tuple[Any, ...]]:
        """Pickle by constructor arguments (the compiled class cannot restore frozen fields one by one)."""
        return (Jargon, _values(self))


@dataclass(frozen=True, slots=True)
class Delivery:
    """The new text hands something over or reports a task done."""

    start: int
    end: int
    text: str
    object: str
    phrased: bool
    rule: str
    message: str
    reason: str
    severity: Severity
    # Set when an earlier promise (quoted history) names the same object.
    matches: Promise | None = None

    def moved(self, by: int) -> Delivery:
        """The same delivery `by` characters further on (`matches` keeps its own offsets)."""
        return Delivery(self.start + by, self.end + by, self.text, self.object, self.phrased, self.rule,
                        self.message, self.reason, self.severity, self.matches)

    @property
    def rule_id(self) -> str:
        """The rule id as shown to users (`versprochen.<Rule>`)."""
        return RULE_PREFIX + self.rule

    def __reduce__(self) -> tuple[type[Delivery], tuple[Any, ...]]:
        """Pickle by constructor arguments (the compiled class cannot restore frozen fields one by one)."""
        return (Delivery, _values(self))


@dataclass(frozen=True, slots=True)
class Region:
    """A half-open character range [start, end) of the checked text."""

    start: int
    end: int

    def __reduce__(self) -> tuple[type[Region], tuple[Any, ...]]:
        """Pickle by constructor arguments (the compiled class cannot restore frozen fields one by one)."""
        return (Region, _values(self))


@dataclass(frozen=True, slots=True)
class MailStructure:
    """Where the header block, the new text, the quoted history and the signature lie."""

    headers: dict[str, str] = field(default_factory=dict)
    header: Region | None = None
    # The writer's new text, possibly several regions (text between quoted parts).
    new_text: tuple[Region, ...] = ()
    quoted: tuple[Region, ...] = ()
    signature: Region | None = None

    def recipients(self) -> tuple[str, ...]:
        """Addresses or names from the To/An and Cc lines of the header block."""
        out: list[str] = []
        for key in ("to", "cc"):
            value = self.headers.get(key, "")
            out += [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return tuple(out)

    def __reduce__(self) -> tuple[type[MailStructure], tuple[Any, ...]]:
        """Pickle by constructor arguments (the compiled class cannot restore frozen fields one by one)."""
        return (MailStructure, _values(self))


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the engine found in one text."""

    text: str
    sent: datetime
    mail: MailStructure
    promises: tuple[Promise, ...] = ()
    jargon: tuple[Jargon, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    # Promises of ours found in the quoted history (offsets into `text`), for delivery matching.
    earlier_promises: tuple[Promise, ...] = ()
    # Set when the text was too large and only a prefix was analysed.
    truncated_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The `check --jsonl` shape of DESIGN.md (without the id)."""
        return {
            "promises": [promise_json(p) for p in self.promises],
            "jargon": [
                {
                    "start": j.start, "end": j.end, "term": j.term, "kind": j.kind,
                    "plain": j.plain[0] if j.plain else None, "alternatives": list(j.plain),
                    "rule": j.rule_id, "message": j.message,
                }
                for j in self.jargon
            ],
            "deliveries": [
                {
                    "start": d.start, "end": d.end, "object": d.object, "phrased": d.phrased,
                    "rule": d.rule_id, "message": d.message,
                    "matches": promise_json(d.matches) if d.matches else None,
                }
                for d in self.deliveries
            ],
        }

    def __reduce__(self) -> tuple[type[Analysis], tuple[Any, ...]]:
        """Pickle by constructor arguments (the compiled class cannot restore frozen fields one by one)."""
        return (Analysis, _values(self))


def promise_json(p: Promise) -> dict[str, Any]:
    """One promise in the `check --jsonl` shape."""
    return {
        "start": p.start, "end": p.end, "kind": p.kind, "risk": p.risk,
        "deadline_text": p.deadline.text if p.deadline else None,
        "due": p.deadline.due_iso() if p.deadline else None,
        "vague_deadline": bool(p.deadline and p.deadline.vague),
        "rule": p.rule_id, "message": p.message, "reason": p.reason,
        "object": p.object,
        "triggers": [{"rule": t.rule, "text": t.text, "start": t.start, "end": t.end} for t in p.triggers],
    }

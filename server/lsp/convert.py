"""Engine findings to LSP types: diagnostics, hover text and code actions (`to_lsp_<type>`)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from lexicon import Rule
from server.engine.fixes import Fix
from server.engine.types import RULE_PREFIX, Analysis, Deadline, Delivery, Jargon, Promise
from server.lsp.positions import LineIndex
from server.lsp.settings import Settings

if TYPE_CHECKING:
    # lsprotocol.types costs ~0.6 s to import: the early engine's child converts findings without it.
    from lsprotocol import types

SOURCE = "versprochen"
VAGUE_RULE = "VagueDeadlines"
TRACKER_RULE = "OpenPromises"
NOTICE_RULE = "DocumentTooLarge"
# DiagnosticSeverity as LSP numbers it (Error = 1 … Hint = 4).
SEVERITY_NUMBER = {"error": 1, "warning": 2, "information": 3, "hint": 4}
FindingKind = Literal["promise", "deadline", "jargon", "delivery", "tracker", "notice"]


@dataclass(frozen=True, slots=True)
class OpenPromise:
    """A promise from the tracker that is still open for one of the draft's recipients."""

    quote: str
    recipients: tuple[str, ...]
    subject: str
    deadline_text: str | None
    due: date | datetime | None
    overdue: bool
    object: str | None
    promise_id: int
    risk: str | None = None


class Finding(NamedTuple):
    """One diagnostic's source: what was found where (offsets into the document text).

    A NamedTuple, not a frozen dataclass: a long draft makes over a thousand per keystroke, and a tuple is
    several times cheaper to build.
    """

    kind: FindingKind
    start: int
    end: int
    rule: str
    level: str
    item: Promise | Deadline | Jargon | Delivery | OpenPromise | None = None
    # The promise a deadline belongs to; for a delivery, the promise it redeems (quoted history).
    promise: Promise | None = None
    # Open tracker promises a delivery redeems.
    redeems: tuple[OpenPromise, ...] = ()
    # False when the finding could not be placed in the editor text (decoded MIME): no quick fixes.
    exact: bool = True
    # A message of its own (notices that have no engine item).
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Options:
    """Everything besides the analysis that decides what is shown and how."""

    settings: Settings = field(default_factory=Settings)
    severity_overrides: Mapping[str, str] = field(default_factory=dict)
    accepted: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    rules: Mapping[str, Rule] = field(default_factory=dict)
    related_information: bool = True
    # The client keeps `Diagnostic.data`: we put the finding's kind (and a promise's risk) there.
    data_support: bool = False


@dataclass(frozen=True, slots=True)
class Published:
    """What was published for one document version (the code-action and hover handlers read it)."""

    version: int
    text: str
    index: LineIndex
    sent: datetime
    analysis: Analysis | None
    findings: tuple[Finding, ...]
    # Each diagnostic as JSON text (see wire.py), parallel to `findings`.
    diagnostics: tuple[str, ...]
    open_promises: tuple[OpenPromise, ...] = ()
    # The publishDiagnostics params as JSON text.
    payload: str = ""


def rule_id(rule: str) -> str:
    """`versprochen.<Rule>` for a rule name."""
    return rule if rule.startswith(RULE_PREFIX) else RULE_PREFIX + rule


def _level(category: str, rule: str, options: Options) -> str:
    """The category's severity from the settings; a project's per-rule level wins unless it is off."""
    if category == "off":
        return "off"
    return options.severity_overrides.get(rule, category)


class _Levels(dict[tuple[str, str], str]):
    """Shown severity per (category, rule), or "" when hidden (off or disabled): one lookup per finding."""

    def __init__(self, options: Options) -> None:
        super().__init__()
        self.options = options

    def __missing__(self, key: tuple[str, str]) -> str:
        category, rule = key
        level = _level(category, rule, self.options)
        self[key] = shown = "" if level == "off" or rule in self.options.disabled else level
        return shown


def collect_findings(analysis: Analysis, options: Options,
                     open_promises: Sequence[OpenPromise] = (),
                     redeemed: Mapping[int, tuple[OpenPromise, ...]] | None = None) -> list[Finding]:
    """The findings to show, with their severity, after settings, accepted words and disabled rules.

    `redeemed` maps the index of a delivery in `analysis.deliveries` to tracker promises it redeems.
    """
    s = options.settings
    sev = s.severity
    levels = _Levels(options)
    out: list[Finding] = []
    if s.enable.promises or s.enable.deadlines:
        out += _promise_findings(analysis.promises, options, levels)
    if s.enable.jargon:
        accepted = options.accepted
        for j in analysis.jargon:
            if accepted and (j.term.casefold() in accepted
                             or analysis.text[j.start:j.end].casefold() in accepted):
                continue
            if level := levels[sev.jargon, j.rule]:
                out.append(Finding("jargon", j.start, j.end, j.rule, level, j))
    if s.enable.deliveries:
        tracked = redeemed or {}
        for i, dlv in enumerate(analysis.deliveries):
            if level := levels[sev.delivery, dlv.rule]:
                out.append(Finding("delivery", dlv.start, dlv.end, dlv.rule, level, dlv, dlv.matches,
                                   tracked.get(i, ())))
    if s.enable.promises and open_promises:
        out += [f for f in tracker_findings(analysis, open_promises, options)
                if f.level != "off" and f.rule not in options.disabled]
    # Finding is a tuple (kind, start, end, ...): a C-level key is several times faster than a lambda.
    out.sort(key=_BY_RANGE)
    return out


_BY_RANGE = operator.itemgetter(1, 2)


def _promise_findings(promises: Sequence[Promise], options: Options, levels: _Levels) -> list[Finding]:
    """Findings for promises and for their vague or ambiguous deadlines."""
    s = options.settings
    sev = s.severity
    by_risk = {"high": sev.high_risk_promise, "medium": sev.medium_risk_promise}
    vague = levels[sev.vague_deadline, VAGUE_RULE] if s.enable.deadlines else ""
    out: list[Finding] = []
    for promise in promises:
        if s.enable.promises and (level := levels[by_risk.get(promise.risk, sev.low_risk_promise), promise.rule]):
            out.append(Finding("promise", promise.start, promise.end, promise.rule, level, promise))
        d = promise.deadline
        if vague and d is not None and (d.vague or d.ambiguous) and d.end > d.start:
            out.append(Finding("deadline", d.start, d.end, VAGUE_RULE, vague, d, promise))
    return out


def tracker_findings(analysis: Analysis, open_promises: Sequence[OpenPromise],
                     options: Options) -> list[Finding]:
    """One information finding per open tracker promise, placed on the To/An line of the header."""
    line = recipient_line(analysis.text, analysis.mail.header.end if analysis.mail.header else 0)
    if line is None:
        return []
    level = _level("information", TRACKER_RULE, options)
    return [Finding("tracker", line[0], line[1], TRACKER_RULE, level, p) for p in open_promises]


def recipient_line(text: str, header_end: int) -> tuple[int, int] | None:
    """The (start, end) of the To:/An: line inside the header block (None if there is none)."""
    pos = 0
    limit = header_end or min(len(text), 8192)
    while pos < limit:
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end]
        if not line.strip():
            break
        if line.split(":", 1)[0].strip().casefold() in ("to", "an") and ":" in line:
            return pos, pos + len(line.rstrip("\r"))
        pos = end + 1
    return None


class _Blank(dict[str, str]):
    """Format map that fills any placeholder with one value (rule messages name it differently)."""

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    def __missing__(self, key: str) -> str:
        return self.value


def finding_message(f: Finding, rules: Mapping[str, Rule]) -> str:
    """The German diagnostic message of a finding."""
    item = f.item
    if isinstance(item, Promise | Jargon | Delivery):
        message = item.message
        if isinstance(item, Delivery) and (f.promise is not None or f.redeems) and not item.phrased:
            message += " Damit lösen Sie eine frühere Zusage ein."
        return message
    if isinstance(item, Deadline):
        rule = rules.get(VAGUE_RULE)
        if item.ambiguous and not item.vague:
            return f"Mehrdeutige Frist „{item.text}“: Nennen Sie das genaue Datum."
        if rule is not None:
            try:
                return rule.message.format_map(_Blank(item.text))
            except (ValueError, IndexError):
                return rule.message
        return f"Vage Frist „{item.text}“: Der Empfänger weiß nicht, bis wann er damit rechnen kann."
    if isinstance(item, OpenPromise):
        return open_promise_text(item)
    return f.note or "versprochen"


def due_words(due: date | datetime) -> str:
    """A due date in German words ("Freitag, 27.11.2026"), by the engine's formatter."""
    try:
        from server.engine.deadlines import format_due_de
    except ImportError:
        return due.strftime("%d.%m.%Y %H:%M" if isinstance(due, datetime) else "%d.%m.%Y")
    return str(format_due_de(due))


def open_promise_text(p: OpenPromise) -> str:
    """"Offene Zusage an …: „…“ – fällig Freitag, 27.11.2026 (überfällig)"."""
    who = ", ".join(p.recipients) or "den Empfänger"
    if p.due is not None:
        when = f" – fällig {due_words(p.due)}" + (" (überfällig)" if p.overdue else "")
    elif p.deadline_text:
        when = f" – Frist „{p.deadline_text}“ (ohne Datum)"
    else:
        when = " – ohne Frist"
    return f"Offene Zusage an {who}: „{p.quote}“{when}"


def deadline_words(d: Deadline) -> str:
    """The deadline resolved in words for hovers and related information."""
    return _deadline_words(d.text, d.due, d.vague, d.ambiguous, d.event_bound)


@functools.lru_cache(maxsize=4096)
def _deadline_words(text: str, due: date | datetime | None, vague: bool, ambiguous: bool,
                    event_bound: bool) -> str:
    # Cached: a long draft repeats the same deadlines, and every keystroke converts all of them again.
    if vague:
        return f"„{text}“ ist vage – kein Datum"
    if ambiguous:
        return f"„{text}“ ist mehrdeutig – bitte das Datum nennen"
    if due is None:
        return f"„{text}“ hängt an einem Ereignis – kein festes Datum" if event_bound else f"„{text}“"
    return f"„{text}“ → {due_words(due)}"


def to_lsp_range(index: LineIndex, start: int, end: int) -> types.Range:
    """The LSP range of [start, end) in the indexed text."""
    from lsprotocol import types

    sl, sc = index.position(start)
    el, ec = index.position(end)
    return types.Range(types.Position(sl, sc), types.Position(el, ec))


def suggestions(f: Finding, rules: Mapping[str, Rule]) -> list[str]:
    """The rule's suggestions plus those of the words that made a promise risky, without repeats."""
    names = [f.rule]
    if isinstance(f.item, Promise):
        names += [t.rule for t in f.item.triggers]
    out: list[str] = []
    for name in names:
        rule = rules.get(name)
        for text in rule.suggestions if rule else ():
            if text not in out:
                out.append(text)
    return out


def hover_text(f: Finding, rules: Mapping[str, Rule], markdown: bool = True) -> str:
    """The hover for a finding: what is wrong, why it can cost trust, the deadline, the suggestions."""
    bold = (lambda s: f"**{s}**") if markdown else (lambda s: s)
    item = f.item
    parts = [f"{bold(finding_message(f, rules))} ({rule_id(f.rule)})"]
    reason = getattr(item, "reason", None) or (rules[f.rule].reason if f.rule in rules else None)
    if reason:
        parts.append(f"{bold('Warum das Vertrauen kosten kann:')} {reason}")
    deadline = item.deadline if isinstance(item, Promise) else item if isinstance(item, Deadline) else None
    if deadline is not None:
        parts.append(f"{bold('Frist:')} {deadline_words(deadline)}")
    if isinstance(item, Jargon) and item.plain:
        parts.append(f"{bold('Einfacher:')} " + ", ".join(f"„{p}“" for p in item.plain))
    if isinstance(item, Delivery):
        if f.promise is not None:
            parts.append(f"{bold('Zugesagt im Verlauf:')} „{f.promise.text}“")
        for p in f.redeems:
            parts.append(f"{bold('Offen im Tracker:')} {open_promise_text(p)}")
    if isinstance(item, OpenPromise) and item.subject:
        parts.append(f"{bold('Betreff:')} {item.subject}")
    tips = suggestions(f, rules)
    if tips:
        bullet = "- " if markdown else "• "
        parts.append(bold("Vorschläge:") + "\n" + "\n".join(bullet + t for t in tips))
    return "\n\n".join(parts)


def to_lsp_hover(f: Finding, index: LineIndex, rules: Mapping[str, Rule], markdown: bool) -> types.Hover:
    """The hover for a finding with its range."""
    from lsprotocol import types

    kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
    return types.Hover(types.MarkupContent(kind, hover_text(f, rules, markdown)),
                       to_lsp_range(index, f.start, f.end))


def to_lsp_workspace_edit(uri: str, version: int, index: LineIndex, edits: Sequence[tuple[int, int, str]],
                          document_changes: bool) -> types.WorkspaceEdit:
    """A workspace edit for one document; versioned when the client takes documentChanges."""
    from lsprotocol import types

    text_edits = [types.TextEdit(to_lsp_range(index, s, e), repl) for s, e, repl in edits]
    if document_changes:
        doc = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(doc, list(text_edits))])
    return types.WorkspaceEdit(changes={uri: text_edits})


def to_lsp_code_action(fix: Fix, diagnostic: types.Diagnostic, uri: str, version: int, index: LineIndex,
                       document_changes: bool, preferred: bool = False) -> types.CodeAction:
    """A quick fix carrying a real WorkspaceEdit."""
    from lsprotocol import types

    return types.CodeAction(
        title=fix.title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=to_lsp_workspace_edit(uri, version, index, [(fix.start, fix.end, fix.replacement)],
                                   document_changes),
        is_preferred=preferred or None,
    )


def to_lsp_command_action(title: str, command: str, arguments: list[Any],
                          diagnostic: types.Diagnostic | None) -> types.CodeAction:
    """A code action that runs a server command (accept a word, disable a rule)."""
    from lsprotocol import types

    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic] if diagnostic is not None else None,
        command=types.Command(title=title, command=command, arguments=arguments),
    )

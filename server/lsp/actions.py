"""Code actions (quick fixes as WorkspaceEdits) and the server's workspace commands."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from lsprotocol import types

from server.config import ConfigError
from server.engine.fixes import Fix, deadline_fixes, delivery_fixes, hedge_fixes
from server.engine.fixes_jargon import jargon_fixes
from server.engine.types import RULE_PREFIX, Deadline, Delivery, Jargon, Promise
from server.lsp.convert import (
    SOURCE,
    Finding,
    Published,
    due_words,
    rule_id,
    to_lsp_code_action,
    to_lsp_command_action,
)
from server.lsp.project import accept_word
from server.lsp.server import VersprochenServer
from server.lsp.wire import to_lsp_diagnostic

log = logging.getLogger(__name__)
ACCEPT_WORD = "versprochen.acceptWord"
DISABLE_RULE = "versprochen.disableRule"
ENABLE_RULES = "versprochen.enableRules"
CHECK_ALL = "versprochen.checkAll"
OPEN_PROMISES = "versprochen.openPromises"


def fixes_for(f: Finding, published: Published) -> list[Fix]:
    """The engine's quick-fix edits for one finding (none for findings placed only roughly)."""
    if not f.exact:
        return []
    text, item = published.text, f.item
    try:
        if isinstance(item, Promise) and item.risk in ("high", "medium"):
            return hedge_fixes(text, item)
        if isinstance(item, Deadline):
            return deadline_fixes(text, item, published.sent)
        if isinstance(item, Jargon):
            return jargon_fixes(text, item)
        if isinstance(item, Delivery):
            return delivery_fixes(text, item, promised=f.promise is not None or bool(f.redeems))
    except Exception:  # a fix must never break the editor's request
        log.exception("quick fix for %s failed", f.rule)
    return []


def actions_for(ls: VersprochenServer, uri: str, published: Published, f: Finding,
                diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    """Quick fixes plus "accept the word" and "disable the rule here" for one finding."""
    document_changes = ls.supports("workspace.workspace_edit.document_changes")
    preferred = isinstance(f.item, Jargon | Delivery)
    actions = [to_lsp_code_action(fix, diagnostic, uri, published.version, published.index, document_changes,
                                  preferred and i == 0)
               for i, fix in enumerate(fixes_for(f, published))]
    if isinstance(f.item, Jargon):
        word = f.item.term
        actions.append(to_lsp_command_action(f"„{word}“ für das Projekt akzeptieren", ACCEPT_WORD,
                                             [uri, word], diagnostic))
    if f.kind not in ("notice", "tracker"):
        actions.append(to_lsp_command_action(f"Regel {rule_id(f.rule)} in diesem Dokument ausschalten",
                                             DISABLE_RULE, [uri, f.rule], diagnostic))
    return actions


async def code_actions(ls: VersprochenServer,
                       params: types.CodeActionParams) -> list[types.CodeAction] | None:
    """Code actions for the findings that overlap the requested range."""
    doc = ls.docs.get(params.text_document.uri)
    if doc is None:
        return None
    published = await ls.fresh(doc)
    if published is None:
        return []
    index = published.index
    lo = index.offset(params.range.start.line, params.range.start.character)
    hi = index.offset(params.range.end.line, params.range.end.character)
    lo, hi = min(lo, hi), max(lo, hi)
    hits = [(f, to_lsp_diagnostic(text)) for f, text in zip(published.findings, published.diagnostics, strict=True)
            if f.start <= hi and lo <= f.end]
    # The editor names the diagnostics it asks about: answer for those (else for everything in the range).
    wanted = {(str(d.range), d.code) for d in params.context.diagnostics if d.source == SOURCE}
    named = [(f, d) for f, d in hits if (str(d.range), d.code) in wanted]
    actions: list[types.CodeAction] = []
    for f, diagnostic in named or hits:
        actions += actions_for(ls, doc.uri, published, f, diagnostic)
    only = params.context.only
    if only:
        actions = [a for a in actions if a.kind is not None and any(
            a.kind == k or str(a.kind).startswith(f"{k}.") for k in only)]
    return actions


async def accept_word_command(ls: VersprochenServer, uri: str, word: str) -> dict[str, str] | None:
    """Add a word to the project's accepted words in `versprochen.toml`, then re-check everything."""
    doc = ls.docs.get(uri)
    folder = Path(doc.path).parent if doc is not None and doc.path is not None else (ls.root or Path.cwd())
    try:
        path = await asyncio.to_thread(accept_word, word, folder, ls.root)
    except ConfigError as exc:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                       message=f"versprochen: {exc}"))
        return None
    ls.projects.forget()
    ls.recheck_all()
    ls.window_show_message(types.ShowMessageParams(
        type=types.MessageType.Info,
        message=f"versprochen: „{word}“ gilt jetzt im Projekt als akzeptiert ({path})."))
    return {"path": str(path), "word": word}


async def disable_rule_command(ls: VersprochenServer, uri: str, rule: str) -> list[str]:
    """Hide one rule's findings in one document (kept until the document is closed)."""
    doc = ls.docs.get(uri)
    if doc is None:
        return []
    doc.disabled_rules.add(rule.removeprefix(RULE_PREFIX))
    ls.schedule(doc)
    return sorted(doc.disabled_rules)


async def enable_rules_command(ls: VersprochenServer, uri: str) -> list[str]:
    """Undo every "disable this rule here" for one document."""
    doc = ls.docs.get(uri)
    if doc is not None and doc.disabled_rules:
        doc.disabled_rules.clear()
        ls.schedule(doc)
    return []


async def check_all_command(ls: VersprochenServer) -> dict[str, Any]:
    """Check every open (also unsaved) document, reporting work-done progress."""
    docs = [d for d in ls.docs.values() if d.kind != "ignored"]
    ls.tracker.invalidate()
    token: str | None = None
    if ls.supports("window.work_done_progress"):
        token = f"versprochen-checkAll-{uuid.uuid4()}"
        try:
            await ls.work_done_progress.create_async(token)
        except Exception:
            token = None
    if token is not None:
        ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title="versprochen: alle offenen Dokumente prüfen", message=f"0/{len(docs)}", percentage=0))
    counts: Counter[str] = Counter()
    for i, doc in enumerate(docs, 1):
        published = await ls.analyse_now(doc)
        for f in published.findings if published is not None else ():
            counts[f.kind] += 1
            if isinstance(f.item, Promise) and f.item.risk == "high":
                counts["highRisk"] += 1
        if token is not None:
            name = doc.path.name if doc.path is not None else doc.uri
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(
                message=f"{i}/{len(docs)}: {name}", percentage=int(100 * i / max(1, len(docs)))))
    total = sum(v for k, v in counts.items() if k != "highRisk")
    if token is not None:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(
            message=f"{len(docs)} Dokumente geprüft, {total} Hinweise"))
    return {"documents": len(docs), "findings": total, **{k: counts[k] for k in sorted(counts)}}


async def open_promises_command(ls: VersprochenServer, uri: str) -> list[dict[str, Any]]:
    """The tracker's open promises for the recipients in the document's To/An line."""
    doc = ls.docs.get(uri)
    published = await ls.fresh(doc) if doc is not None else None
    if published is None:
        return []
    return [
        {"id": p.promise_id, "quote": p.quote, "recipients": list(p.recipients), "subject": p.subject,
         "deadlineText": p.deadline_text, "due": p.due.isoformat() if p.due is not None else None,
         "dueText": due_words(p.due) if p.due is not None else None, "overdue": p.overdue, "risk": p.risk}
        for p in published.open_promises
    ]


def register_commands(ls: VersprochenServer) -> None:
    """Register the workspace commands on the server."""
    ls.command(CHECK_ALL)(check_all_command)
    ls.command(ACCEPT_WORD)(accept_word_command)
    ls.command(DISABLE_RULE)(disable_rule_command)
    ls.command(ENABLE_RULES)(enable_rules_command)
    ls.command(OPEN_PROMISES)(open_promises_command)

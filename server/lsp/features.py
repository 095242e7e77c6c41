"""LSP handlers: lifecycle, document sync, configuration and hover; `build_server` wires them up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from server.config import CONFIG_NAME
from server.lsp.actions import code_actions, register_commands
from server.lsp.convert import to_lsp_hover
from server.lsp.documents import Document, classify
from server.lsp.early import EarlyEngine
from server.lsp.positions import Encoding
from server.lsp.server import VersprochenServer
from server.lsp.settings import SECTION, parse_settings, to_wire

log = logging.getLogger(__name__)
# A client that has not answered workspace/configuration by then never will; documents do not wait that
# long (SETTINGS_TIMEOUT) but are re-checked when a late answer arrives.
PULL_TIMEOUT = 10.0
ENCODINGS: dict[str, Encoding] = {"utf-8": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}


def initialize(ls: VersprochenServer, params: types.InitializeParams) -> None:
    """Remember root, encoding and settings; the engine keeps loading in the background."""
    ls.encoding = ENCODINGS.get(str(ls.workspace.position_encoding or "utf-16"), "utf-16")
    root_uri = params.root_uri or (params.workspace_folders[0].uri if params.workspace_folders else None)
    root_path = to_fs_path(root_uri) if root_uri else params.root_path
    ls.root = Path(root_path) if root_path else None
    # Settings first (they name extra rule folders), then the engine for this root and those settings;
    # the build started at process start is reused when nothing differs.
    ls.apply_settings(*parse_settings(params.initialization_options))
    ls.start_engine()
    if not ls.supports("workspace.configuration"):
        ls.settings_ready.set()


async def initialized(ls: VersprochenServer, params: types.InitializedParams) -> None:
    """Ask the client for the `versprochen` settings section (didOpen waits for the answer)."""
    ls.ready_task = asyncio.ensure_future(announce_ready(ls))
    if ls.supports("workspace.did_change_watched_files.dynamic_registration"):
        await watch_config_files(ls)
    if ls.supports("workspace.configuration"):
        await pull_settings(ls)
    ls.settings_ready.set()


async def watch_config_files(ls: VersprochenServer) -> None:
    """Ask the editor to report changes to versprochen.toml, so edits to it apply without typing."""
    watcher = types.FileSystemWatcher(glob_pattern=f"**/{CONFIG_NAME}")
    try:
        await asyncio.wait_for(ls.client_register_capability_async(types.RegistrationParams(registrations=[
            types.Registration(id="versprochen-config", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                               register_options=types.DidChangeWatchedFilesRegistrationOptions(
                                   watchers=[watcher]))])), PULL_TIMEOUT)
    except Exception as exc:  # refused or unanswered: configs are still re-read on every analysis
        log.info("file watching not available: %s", exc)


def did_change_watched_files(ls: VersprochenServer, params: types.DidChangeWatchedFilesParams) -> None:
    """A versprochen.toml changed: reload it, rebuild the rules if needed, re-check open documents."""
    ls.projects.forget()
    ls.forget_told()
    ls.start_engine()
    ls.recheck_all()


async def announce_ready(ls: VersprochenServer) -> None:
    """Log to the client's output when the engine is ready (or tell the user why it is not)."""
    engine = await ls.host.engine()
    ls.report_engine_errors()
    if engine is None:
        return
    seconds = time.monotonic() - ls.started
    ls.window_log_message(types.LogMessageParams(
        type=types.MessageType.Info,
        message=f"versprochen: Prüfung bereit ({len(engine.lexicon.rules)} Regeln, nach {seconds:.1f} s)"))


async def pull_settings(ls: VersprochenServer) -> None:
    """Fetch the settings by workspace/configuration; a missing answer keeps the current ones."""
    try:
        result = await asyncio.wait_for(ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])), PULL_TIMEOUT)
    except Exception as exc:  # timeout or a client error: stay with what we have
        log.info("workspace/configuration failed: %s", exc)
        return
    raw = result[0] if result else None
    if raw is None:
        return
    settings, errors = parse_settings(raw)
    ls.apply_settings(settings, errors)


async def did_change_configuration(ls: VersprochenServer, params: types.DidChangeConfigurationParams) -> None:
    """New settings: pulled when the client supports it, else taken from the notification."""
    ls.forget_told()
    if ls.supports("workspace.configuration"):
        await pull_settings(ls)
    elif mentions_our_settings(params.settings):
        ls.apply_settings(*parse_settings(params.settings))
    ls.settings_ready.set()


def mentions_our_settings(raw: Any) -> bool:
    """Whether pushed settings are meant for us: Neovim pushes `{}` (or another server's settings) on init,
    which must not reset the initializationOptions to the defaults."""
    if not isinstance(raw, dict):
        return False
    return SECTION in raw or any(key in raw for key in to_wire())


def did_open(ls: VersprochenServer, params: types.DidOpenTextDocumentParams) -> None:
    """Track the document and analyse it."""
    item = params.text_document
    doc = Document(uri=item.uri, language_id=item.language_id, version=item.version, text=item.text,
                   encoding=ls.encoding)
    doc.kind = classify(doc.suffix, doc.language_id, doc.text)
    old = ls.docs.get(item.uri)
    if old is not None:
        old.closed = True
    ls.docs[item.uri] = doc
    ls.schedule(doc)


def did_change(ls: VersprochenServer, params: types.DidChangeTextDocumentParams) -> None:
    """Apply incremental (or full) edits and schedule an analysis of the newest version."""
    doc = ls.docs.get(params.text_document.uri)
    if doc is None:
        log.warning("change for a document that is not open: %s", params.text_document.uri)
        return
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            r = change.range
            doc.apply((r.start.line, r.start.character), (r.end.line, r.end.character), change.text)
        else:
            doc.apply(None, None, change.text)
    doc.version = params.text_document.version
    if doc.kind == "ignored" or doc.kind == "text":
        doc.kind = classify(doc.suffix, doc.language_id, doc.text)
    ls.schedule(doc)


def did_close(ls: VersprochenServer, params: types.DidCloseTextDocumentParams) -> None:
    """Forget the document and clear its diagnostics."""
    doc = ls.docs.pop(params.text_document.uri, None)
    if doc is None:
        return
    doc.closed = True
    if doc.task is not None:
        doc.task.cancel()
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=doc.uri, diagnostics=[]))


async def hover(ls: VersprochenServer, params: types.HoverParams) -> types.Hover | None:
    """Reason, deadline and suggestions for the finding under the cursor (the narrowest one)."""
    doc = ls.docs.get(params.text_document.uri)
    if doc is None:
        return None
    published = await ls.fresh(doc)
    if published is None:
        return None
    offset = published.index.offset(params.position.line, params.position.character)
    hits = [f for f in published.findings if f.start <= offset < f.end or f.start == offset == f.end]
    if not hits:
        return None
    best = min(hits, key=lambda f: f.end - f.start)
    return to_lsp_hover(best, published.index, ls.host.rules(), ls.markdown_hover)


def shutdown(ls: VersprochenServer, params: Any) -> None:
    """Stop background work before exit."""
    for doc in ls.docs.values():
        if doc.task is not None:
            doc.task.cancel()
    with contextlib.suppress(Exception):
        ls.stop()


def build_server(early: EarlyEngine | None = None) -> VersprochenServer:
    """A server with every handler and command registered; the engine starts loading at once."""
    ls = VersprochenServer(early)
    ls.feature(types.INITIALIZE)(initialize)
    ls.feature(types.INITIALIZED)(initialized)
    ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(did_change_watched_files)
    ls.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    ls.feature(types.TEXT_DOCUMENT_HOVER)(hover)
    ls.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix]))(code_actions)
    ls.feature(types.SHUTDOWN)(shutdown)
    register_commands(ls)
    # Start with the working directory's project config; initialize rebuilds only if the root differs.
    ls.start_engine()
    return ls

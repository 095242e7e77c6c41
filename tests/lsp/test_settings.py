"""Settings end to end: initializationOptions, bad values, changes at run time, waiting for the config."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CLIENTS, Session, fresh_workspace, start_session

pytestmark = pytest.mark.asyncio(loop_scope="module")

TEXT = "Wir liefern garantiert bis Freitag. Das Meeting legen wir fest.\n"
OPTIONS = {"severity": {"highRiskPromise": "error", "jargon": "laut"}, "maxDocumentChars": "viel"}


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=CLIENTS)
async def configured(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Session]:
    """A server started with initializationOptions that contain good and bad values."""
    root = fresh_workspace(tmp_path_factory, request.param)
    async with start_session(request.param, root, init_options=OPTIONS) as s:
        yield s


def severities(session: Session, uri: str, diagnostics: Any) -> dict[str, types.DiagnosticSeverity | None]:
    """Severity by range text."""
    return {session.span(uri, d.range): d.severity for d in diagnostics}


async def test_initialization_options(configured: Session) -> None:
    """Good values apply, each bad one is reported in German and falls back to its default."""
    uri = configured.uri("a.txt")
    published = await configured.open(uri, TEXT)
    found = severities(configured, uri, published.diagnostics)
    assert found["Wir liefern garantiert bis Freitag"] == types.DiagnosticSeverity.Error
    assert found["Meeting"] == types.DiagnosticSeverity.Information
    messages = [m.message for m in configured.client.messages]
    assert any("severity.jargon" in m and "laut" in m for m in messages), messages
    assert any("maxDocumentChars" in m for m in messages), messages
    assert all(m.type == types.MessageType.Warning for m in configured.client.messages
               if "Einstellung" in m.message)


async def test_configuration_change(configured: Session) -> None:
    """didChangeConfiguration (pulled by VS Code, pushed by Neovim 0.7) re-checks open documents."""
    uri = configured.uri("b.txt")
    await configured.open(uri, TEXT)
    new = {"severity": {"jargon": "off", "highRiskPromise": "hint"}, "enable": {"deadlines": False}}
    mark = len(configured.recorder.events)
    if configured.is_vscode:
        configured.client.set_configuration({"versprochen": new})
        configured.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    else:
        configured.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"versprochen": new}))
    published = await configured.wait_until(lambda e: e.uri == uri, after=mark)
    found = severities(configured, uri, published.diagnostics)
    assert "Meeting" not in found
    assert found["Wir liefern garantiert bis Freitag"] == types.DiagnosticSeverity.Hint


async def test_did_open_waits_for_the_configuration(workspace: Path) -> None:
    """A document opened before the client answered workspace/configuration is published with the answer."""
    release = asyncio.Event()
    asked = asyncio.Event()

    async def configuration(client: LanguageClient, params: types.ConfigurationParams) -> list[Any]:
        asked.set()
        await release.wait()
        return [{"severity": {"highRiskPromise": "error"}} for _ in params.items]

    ready = asyncio.Event()

    def log_message(client: LanguageClient, params: types.LogMessageParams) -> None:
        if "bereit" in params.message:
            ready.set()

    features = {types.WORKSPACE_CONFIGURATION: configuration, types.WINDOW_LOG_MESSAGE: log_message}
    async with start_session(CLIENTS[0], workspace, features=features) as session:
        await asyncio.wait_for(asked.wait(), 30)
        await asyncio.wait_for(ready.wait(), 60)  # the engine is loaded: only the settings are missing
        uri = session.uri("wartet.txt")
        session.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="plaintext", version=1, text=TEXT)))
        session.texts[uri] = TEXT
        # A server that did not wait would publish with the defaults within this window.
        await asyncio.sleep(0.3)
        assert all(e.uri != uri for e in session.recorder.events)
        release.set()
        published = await session.wait_for(uri, 1)
        found = severities(session, uri, published.diagnostics)
        assert found["Wir liefern garantiert bis Freitag"] == types.DiagnosticSeverity.Error



async def test_config_file_is_watched(configured: Session) -> None:
    """Where the client can watch files (VS Code), the server asks to be told about versprochen.toml."""
    registrations = getattr(configured.client, "registrations", [])
    watched = [r for r in registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    if not configured.is_vscode:
        assert not watched  # Neovim 0.7 offers no dynamic registration: configs are re-read per analysis
        return
    assert len(watched) == 1
    options = watched[0].register_options
    patterns = [w["globPattern"] if isinstance(w, dict) else w.glob_pattern for w in (
        options["watchers"] if isinstance(options, dict) else options.watchers)]
    assert patterns == ["**/versprochen.toml"]

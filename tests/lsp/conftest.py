"""End-to-end fixtures: one real server over stdio per test module and client, plus helpers to drive it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from server.lsp.positions import LineIndex

# Neovim 0.7 is what Debian ships (no workspace/configuration); VS Code pulls settings.
CLIENTS = ("visual_studio_code", "neovim@v0.7.0")
WAIT = 30.0
SERVER = [sys.executable, "-m", "server.lsp"]


@dataclass
class Published:
    """One publishDiagnostics notification as received."""

    uri: str
    version: int | None
    diagnostics: Sequence[types.Diagnostic]


@dataclass
class Recorder:
    """Every publishDiagnostics in order, with a condition to wait on."""

    events: list[Published] = field(default_factory=list)
    changed: asyncio.Condition | None = None


def make_client(recorder: Recorder, extra: dict[str, Any] | None = None) -> LanguageClient:
    """pytest-lsp's test client, also recording each publishDiagnostics with its version."""
    client = LanguageClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features.update(extra or {})

    async def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        recorder.events.append(Published(params.uri, params.version, params.diagnostics))
        if recorder.changed is not None:
            async with recorder.changed:
                recorder.changed.notify_all()

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish

    def register_capability(client: LanguageClient, params: types.RegistrationParams) -> None:
        setattr(client, "registrations", [*getattr(client, "registrations", []), *params.registrations])  # noqa: B010

    # Like VS Code: accept dynamic registrations (the server asks to watch versprochen.toml).
    features.setdefault(types.CLIENT_REGISTER_CAPABILITY, register_capability)
    register_lsp_features(client, features)
    converter = client.protocol._converter

    # lsprotocol 2025 reads every object with a "command" key as a Command, also a CodeAction whose
    # "command" is a nested Command object (spec-conform, and what VS Code reads as a CodeAction).
    def code_action_or_command(obj: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(types.Command | types.CodeAction, code_action_or_command)
    return client


class Session:
    """A started server and client with helpers that wait for events (never for a fixed time)."""

    def __init__(self, client: LanguageClient, recorder: Recorder, name: str, root: Path) -> None:
        self.client = client
        self.recorder = recorder
        self.name = name
        self.root = root
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self._counter = 0

    @property
    def is_vscode(self) -> bool:
        """The VS Code capability set is in use."""
        return self.name.startswith("visual_studio_code")

    def uri(self, name: str) -> str:
        """A fresh file URI in the workspace (unique per call so tests never share a document)."""
        self._counter += 1
        stem, dot, suffix = name.rpartition(".")
        return (self.root / f"{stem}-{self._counter}{dot}{suffix}").as_uri()

    async def wait_until(self, test: Callable[[Published], bool], after: int = 0,
                         timeout: float = WAIT) -> Published:
        """The first publishDiagnostics (from event number `after` on) that passes `test`."""
        assert self.recorder.changed is not None

        def found() -> Published | None:
            return next((e for e in self.recorder.events[after:] if test(e)), None)

        async with self.recorder.changed:
            await asyncio.wait_for(self.recorder.changed.wait_for(lambda: found() is not None), timeout)
        result = found()
        assert result is not None
        return result

    async def wait_for(self, uri: str, version: int | None, timeout: float = WAIT) -> Published:
        """The diagnostics published for `uri` at `version` (any version when None)."""
        return await self.wait_until(
            lambda e: e.uri == uri and (version is None or e.version == version), timeout=timeout)

    async def open(self, uri: str, text: str, language: str = "plaintext") -> Published:
        """didOpen and wait for the diagnostics of version 1."""
        self.texts[uri] = text
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))
        return await self.wait_for(uri, 1)

    def change(self, uri: str, edits: Sequence[tuple[tuple[int, int], tuple[int, int], str]]) -> int:
        """Send incremental edits ((line, char), (line, char), text) and mirror them; returns the version."""
        text = self.texts[uri]
        changes: list[types.TextDocumentContentChangeEvent] = []
        for start, end, new in edits:
            index = LineIndex(text)
            a, b = sorted((index.offset(*start), index.offset(*end)))
            text = text[:a] + new + text[b:]
            changes.append(types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(*start), types.Position(*end)), text=new))
        self.texts[uri] = text
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]), changes))
        return self.versions[uri]

    def close(self, uri: str) -> None:
        """didClose."""
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            types.TextDocumentIdentifier(uri=uri)))

    def position_of(self, uri: str, needle: str, shift: int = 0) -> types.Position:
        """The LSP position (UTF-16) of the first occurrence of `needle` plus `shift` characters."""
        text = self.texts[uri]
        offset = text.index(needle) + shift
        line, char = LineIndex(text).position(offset)
        return types.Position(line, char)

    def span(self, uri: str, rng: types.Range) -> str:
        """The mirrored document text inside an LSP range."""
        index = LineIndex(self.texts[uri])
        return self.texts[uri][index.offset(rng.start.line, rng.start.character):
                               index.offset(rng.end.line, rng.end.character)]

    def apply_edit(self, uri: str, edit: types.WorkspaceEdit) -> str:
        """The document text after applying a WorkspaceEdit (changes or documentChanges) to the mirror."""
        edits: list[types.TextEdit] = []
        if edit.document_changes:
            for change in edit.document_changes:
                assert isinstance(change, types.TextDocumentEdit)
                assert change.text_document.uri == uri
                assert change.text_document.version == self.versions[uri]
                edits += [e for e in change.edits if isinstance(e, types.TextEdit)]
        else:
            assert edit.changes is not None
            edits = list(edit.changes[uri])
        text = self.texts[uri]
        index = LineIndex(text)
        spans = sorted(((index.offset(e.range.start.line, e.range.start.character),
                         index.offset(e.range.end.line, e.range.end.character), e.new_text) for e in edits),
                       reverse=True)
        for a, b, new in spans:
            text = text[:a] + new + text[b:]
        return text

    async def code_actions(self, uri: str, rng: types.Range) -> list[types.CodeAction]:
        """textDocument/codeAction for a range, code actions only."""
        result = await self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=rng,
            context=types.CodeActionContext(diagnostics=[])))
        return [a for a in result or [] if isinstance(a, types.CodeAction)]

    async def command(self, name: str, *arguments: Any) -> Any:
        """workspace/executeCommand."""
        return await self.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=name, arguments=list(arguments)))


def diagnostics_by_code(published: Published, code: str) -> list[types.Diagnostic]:
    """The diagnostics with one rule id."""
    return [d for d in published.diagnostics if d.code == code]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty workspace folder for this module's server."""
    return tmp_path_factory.mktemp("workspace")


def fresh_workspace(factory: pytest.TempPathFactory, name: str) -> Path:
    """An empty workspace folder of its own (sessions must not see each other's versprochen.toml)."""
    return factory.mktemp("ws-" + name.replace("@", "-").replace(".", "-"))


def server_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: the real one, with data and config dirs moved into the test's folder."""
    env = dict(os.environ)
    env.update({"XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
                "HOME": str(home)})
    env.update(extra or {})
    return env


@contextlib.asynccontextmanager
async def start_session(name: str, root: Path, init_options: dict[str, Any] | None = None,
                        configuration: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                        features: dict[str, Any] | None = None,
                        args: Sequence[str] = ()) -> AsyncIterator[Session]:
    """Start the server (with extra command-line `args`), initialize it as client `name` would, yield the
    session, shut it down."""
    recorder = Recorder(changed=asyncio.Condition())
    client = make_client(recorder, features)
    if configuration is not None:
        client.set_configuration(configuration)
    await client.start_io(*SERVER, *args, env=server_env(root.parent, env), cwd=str(root))
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(name),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="workspace")],
        initialization_options=init_options,
    ))
    session = Session(client, recorder, name, root)
    try:
        yield session
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 15)
        except (TimeoutError, RuntimeError):
            pass
        finally:
            # A server that did not exit after shutdown/exit is killed, so a failing test never hangs.
            if client._server is not None and client._server.returncode is None:
                client._server.kill()
            await asyncio.wait_for(client.stop(), 15)  # type: ignore[no-untyped-call]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=CLIENTS)
async def session(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Session]:
    """One server per test module and client capability set, each in a workspace of its own."""
    async with start_session(request.param, fresh_workspace(tmp_path_factory, request.param)) as s:
        yield s

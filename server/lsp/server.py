"""The language server: state on a LanguageServer subclass, analysis scheduling and publishing."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import stat
import threading
import time
from collections.abc import Generator
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCProtocol, LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from server import __version__
from server.config import ProjectConfig
from server.lsp.analysis import EngineHost, Job, LexiconKey, analyse, lexicon_key
from server.lsp.convert import Options, Published
from server.lsp.documents import Document
from server.lsp.early import EarlyEngine
from server.lsp.positions import Encoding
from server.lsp.project import ProjectConfigs
from server.lsp.settings import Settings
from server.lsp.tracker import TrackerView, resolve_path

log = logging.getLogger(__name__)
# Per-version timings (`versprochen lsp --log-level info`).
timing = logging.getLogger("versprochen.timing")
# Coalesce keystrokes: wait this long after an edit before analysing the newest version.
DEBOUNCE_SECONDS = 0.004
# How long didOpen may wait for the client's answer to workspace/configuration.
SETTINGS_TIMEOUT = 2.0
# How long hover and code actions wait for the analysis of the current version.
FRESH_TIMEOUT = 5.0


class VersprochenProtocol(LanguageServerProtocol):
    """pygls's protocol minus its document store: ours splits lines as LSP does and clamps bad ranges."""

    def send_serialized_notification(self, method: str, params_json: str) -> None:
        """Send a notification whose params are already JSON text (ASCII, as json.dumps writes it)."""
        if self.writer is None:
            return
        body = f'{{"jsonrpc": "{JsonRPCProtocol.VERSION}", "method": "{method}", "params": {params_json}}}'
        data = body.encode("utf-8")
        # stdout and TCP writers write synchronously (only pygls's websocket writer returns an awaitable).
        self.writer.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Generator[
            Any, Any, None]:
        """Hand the document to our handler only."""
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Generator[
            Any, Any, None]:
        """Hand the edits to our handler only."""
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Generator[
            Any, Any, None]:
        """Hand the close to our handler only."""
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class VersprochenServer(LanguageServer):
    """All server state: documents, settings, the engine host, project configs and the tracker view."""

    protocol: VersprochenProtocol

    def __init__(self, early: EarlyEngine | None = None) -> None:
        super().__init__("versprochen", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=VersprochenProtocol, max_workers=2)
        self.docs: dict[str, Document] = {}
        self.settings = Settings()
        self.settings_ready = asyncio.Event()
        self.host = EngineHost(early.wait_ready if early is not None else None)
        self.projects = ProjectConfigs()
        self.tracker = TrackerView()
        self.root: Path | None = None
        self.encoding: Encoding = "utf-16"
        self.debounce = DEBOUNCE_SECONDS
        self._told: set[str] = set()
        self.started = time.monotonic()
        self.ready_task: asyncio.Future[None] | None = None
        # The child forked at start (early.py): answers analyses only until the own engine is built.
        self.early = early
        self._own_built: asyncio.Future[Any] | None = None
        self._early_retiring = False

    # --- client capabilities -------------------------------------------------------------------------
    def supports(self, path: str) -> bool:
        """Whether the client declared a capability (dotted snake_case path)."""
        try:
            return bool(get_capability(self.client_capabilities, path, False))
        except AttributeError:
            return False

    @property
    def markdown_hover(self) -> bool:
        """The client renders Markdown in hovers."""
        formats = get_capability(self.client_capabilities, "text_document.hover.content_format", []) or []
        return types.MarkupKind.Markdown in formats

    # --- configuration -------------------------------------------------------------------------------
    def start_engine(self) -> None:
        """Build (or rebuild) the engine for the current lexicon settings, in the background."""
        self.host.load(self.lexicon_key())
        early, first = self.early, self.host.first
        if early is not None and first is not None and not self._early_retiring:
            # Off the engine thread: the child's exit is waited for and must not delay the first analysis.
            self._early_retiring = True
            first.add_done_callback(lambda _: threading.Thread(
                target=early.stop, name="versprochen-early-stop", daemon=True).start())

    def root_config(self) -> ProjectConfig:
        """The config of the workspace root (or the working directory before initialize)."""
        config = self.projects.config_for(self.root or Path.cwd())
        for message in list(self.projects.errors.values()):
            self.tell(message, types.MessageType.Warning)
        return config

    def lexicon_key(self) -> LexiconKey:
        """Rule folders (project + settings) and disabled rules the engine is built from."""
        config = self.root_config()
        base = self.root or Path.cwd()
        extra = tuple(base / Path(p).expanduser() for p in self.settings.lexicon.extra_folders)
        return lexicon_key(config, extra)

    def apply_settings(self, settings: Settings, errors: list[str]) -> None:
        """Take new settings: tell the user about bad values, rebuild what depends on them, re-check."""
        for error in errors:
            self.tell(f"versprochen: Einstellung {error}", types.MessageType.Warning)
        changed = settings != self.settings
        self.settings = settings
        config = self.root_config()
        self.tracker.configure(resolve_path(settings.tracker.path, config.tracker_path, self.root))
        if changed:
            self.start_engine()
            self.recheck_all()

    def options_for(self, doc: Document) -> Options:
        """Settings, project config and per-document choices for converting findings."""
        folder = Path(doc.path).parent if doc.path is not None else self.root
        config = self.projects.config_for(folder)
        for message in list(self.projects.errors.values()):
            self.tell(message, types.MessageType.Warning)
        rules = self.host.rules()
        return Options(
            settings=self.settings,
            severity_overrides=dict(config.severity),
            accepted=frozenset(a.casefold() for a in config.accepted),
            disabled=frozenset(doc.disabled_rules) | frozenset(config.disabled_rules),
            rules=rules,
            related_information=self.supports("text_document.publish_diagnostics.related_information"),
            data_support=self.supports("text_document.publish_diagnostics.data_support"),
        )

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        """Show a message to the user once (settings are re-read often; repeating is noise)."""
        if message in self._told:
            return
        if self.protocol.writer is None:  # before the connection exists: say it once it does
            log.warning("%s", message)
            return
        self._told.add(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def forget_told(self) -> None:
        """Allow messages to be shown again (after the user changed the settings)."""
        self._told.clear()

    # --- analysis ------------------------------------------------------------------------------------
    def schedule(self, doc: Document) -> None:
        """Analyse the document soon; edits arriving meanwhile are folded into one run."""
        doc.fresh.clear()
        doc.edited.set()
        if doc.kind == "ignored":
            doc.fresh.set()
            return
        if doc.task is None or doc.task.done():
            doc.task = asyncio.ensure_future(self._analysis_loop(doc))

    def recheck_all(self) -> None:
        """Re-analyse every open document (settings, config or rules changed)."""
        for doc in list(self.docs.values()):
            self.schedule(doc)

    def job(self, doc: Document) -> Job:
        """The analysis job for the document's current version."""
        # The project's rule folders or disabled rules changed on disk: rebuild (no-op when unchanged).
        if self.host.load(self.lexicon_key()):
            log.info("rules changed, rebuilding the engine")
        sent = doc.published.sent if doc.published is not None else None
        return Job(uri=doc.uri, version=doc.version, text=doc.text, kind=doc.kind, encoding=self.encoding,
                   options=self.options_for(doc), max_chars=self.settings.max_document_chars,
                   reference_time=self.settings.reference_time, sent_hint=sent, tracker=self.tracker.open_for,
                   index=doc.index, cache=doc.cache)

    async def _analysis_loop(self, doc: Document) -> None:
        """Debounce, analyse the newest version on the engine thread, publish unless it went stale."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.settings_ready.wait(), SETTINGS_TIMEOUT)
        while not doc.closed:
            await asyncio.sleep(self.debounce)
            doc.edited.clear()
            job = self.job(doc)
            started = time.perf_counter()
            early = await self.analyse_early(doc, job)
            if doc.closed:
                return
            if early is not None:
                await self.edited_or_built(doc)
            if doc.edited.is_set():
                continue  # edited or re-checked while the child answered: the newest state is next
            try:
                published = await self.host.run(partial(analyse, job=job))
            except Exception:
                log.exception("analysis of %s failed", doc.uri)
                self.tell("versprochen: Die Prüfung ist fehlgeschlagen (Details im Protokoll).",
                          types.MessageType.Error)
                published = None
            self.report_engine_errors()
            if doc.closed or self.docs.get(doc.uri) is not doc:
                return
            if doc.version != job.version or doc.edited.is_set():
                continue  # stale: a newer version (or a re-check with new settings) is waiting
            if published is not None:
                analysed = time.perf_counter()
                # The same diagnostics as the child's are not sent again (only hover and actions need them).
                self.publish(doc, published, send=early is None or published.payload != early)
                timing.info("%s v%d: %d findings, analysis %.1f ms, publish %.1f ms", doc.uri, job.version,
                            len(published.findings), 1000 * (analysed - started),
                            1000 * (time.perf_counter() - analysed))
            doc.fresh.set()
            return

    async def analyse_early(self, doc: Document, job: Job) -> str | None:
        """While the own engine is being built: the child's diagnostics for `job`, published; else None."""
        early, first = self.early, self.host.first
        if early is None or first is None or first.done() or not early.usable or len(job.text) > job.max_chars:
            return None
        if self._own_built is None:
            self._own_built = asyncio.wrap_future(first)
        started = time.perf_counter()
        asked = asyncio.ensure_future(asyncio.to_thread(early.analyse, job, self.lexicon_key(),
                                                        self.tracker.path))
        done, _ = await asyncio.wait({asked, self._own_built}, return_when=asyncio.FIRST_COMPLETED)
        reply = asked.result() if asked in done else None
        if reply is None or doc.closed or doc.version != job.version or reply.version != job.version:
            return None
        self.protocol.send_serialized_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, reply.payload)
        timing.info("%s v%d: %d findings from the early engine in %.1f ms", doc.uri, job.version,
                    reply.findings, 1000 * (time.perf_counter() - started))
        return reply.payload

    async def edited_or_built(self, doc: Document) -> None:
        """Wait until the document changes again or the own engine is built, whichever comes first."""
        if self._own_built is None or self._own_built.done():
            return
        edited = asyncio.ensure_future(doc.edited.wait())
        try:
            await asyncio.wait({edited, self._own_built}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            edited.cancel()

    def report_engine_errors(self) -> None:
        """Show rule-file problems found while building the engine."""
        while self.host.errors:
            self.tell(self.host.errors.pop(0), types.MessageType.Error)

    def publish(self, doc: Document, published: Published, send: bool = True) -> None:
        """Send the diagnostics of one analysed version and remember what they came from."""
        doc.published = published
        if len(doc.text) > self.settings.max_document_chars and not doc.oversize_told:
            doc.oversize_told = True
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=(f"versprochen: {doc.path.name if doc.path else doc.uri} ist sehr groß "
                         f"({len(doc.text):,} Zeichen); geprüft werden nur die ersten "
                         f"{self.settings.max_document_chars:,} Zeichen.").replace(",", ".")))
        elif len(doc.text) <= self.settings.max_document_chars:
            doc.oversize_told = False
        if send:
            self.protocol.send_serialized_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
                                                       published.payload)

    async def fresh(self, doc: Document) -> Published | None:
        """The published state for the document's current version (waits briefly for a running analysis)."""
        if doc.kind == "ignored":
            return None
        if doc.fresh.is_set() and doc.published is not None and doc.published.version == doc.version:
            return doc.published
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(doc.fresh.wait(), FRESH_TIMEOUT)
        published = doc.published
        return published if published is not None and published.version == doc.version else None

    async def analyse_now(self, doc: Document) -> Published | None:
        """Analyse and publish one document right away (the checkAll command)."""
        if doc.kind == "ignored":
            return None
        job = self.job(doc)
        published = await self.host.run(partial(analyse, job=job))
        if published is not None and not doc.closed and doc.version == job.version:
            self.publish(doc, published)
            doc.fresh.set()
        return published

    def start_stdio(self, stdin: BinaryIO, stdout: BinaryIO) -> None:
        """Serve over stdio, reading with the event loop (pygls hops to a thread for every header line)."""
        try:
            # Pipes and sockets can be read by the event loop; a regular file (stdin < file) cannot.
            pipe_like = not stat.S_ISREG(os.fstat(stdin.fileno()).st_mode)
        except (OSError, ValueError, io.UnsupportedOperation):
            pipe_like = False
        if not pipe_like:
            self.start_io(stdin, stdout)
            return
        self.protocol.set_writer(StdoutWriter(stdout))
        try:
            asyncio.run(self._serve(stdin))
        except (KeyboardInterrupt, SystemExit, BrokenPipeError):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    async def _serve(self, stdin: BinaryIO) -> None:
        """The message loop on an asyncio pipe reader."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 26)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
        try:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                await run_async(stop_event=threading.Event(), reader=reader, protocol=self.protocol,
                                logger=log, error_handler=self.report_server_error)
        finally:
            if self.early is not None:  # a request in flight must not hold up asyncio.run's executor shutdown
                self.early.abandon()

    def stop(self) -> None:
        """Release the engine thread, the early engine's child and the tracker."""
        if self.early is not None:
            self.early.stop()
        self.host.shutdown()
        self.tracker.close()

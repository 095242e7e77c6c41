"""The engine in its own worker thread: built in the background, then every analysis runs there."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lexicon import Rule
from server.engine.types import Analysis, Delivery, Promise, Severity
from server.lsp.convert import (
    NOTICE_RULE,
    TRACKER_RULE,
    Finding,
    OpenPromise,
    Options,
    Published,
    collect_findings,
)
from server.lsp.documents import Kind, is_raw_mime, mask_markdown, parse_date_header
from server.lsp.positions import Encoding, LineIndex
from server.lsp.wire import DiagnosticCache, payload

if TYPE_CHECKING:
    from server.config import ProjectConfig
    from server.engine.engine import Engine

log = logging.getLogger(__name__)
T = TypeVar("T")
# (extra rule folders, disabled rules): what the engine's lexicon is built from.
LexiconKey = tuple[tuple[Path, ...], tuple[str, ...]]
TrackerLookup = Callable[[Sequence[str], datetime], list[OpenPromise]]
# Tests and benchmarks only: seconds the first engine build is held back (a slow machine, made repeatable).
DELAY_VARIABLE = "VERSPROCHEN_LSP_ENGINE_DELAY"


def lexicon_key(config: ProjectConfig, extra: tuple[Path, ...] = ()) -> LexiconKey:
    """What the engine is built from: the project's rule folders plus `extra`, and its disabled rules."""
    return (tuple(config.lexicon_dirs) + extra, tuple(sorted(config.disabled_rules)))


@dataclass(frozen=True, slots=True)
class Job:
    """One document version to analyse, with everything the worker thread needs."""

    uri: str
    version: int
    text: str
    kind: Kind
    encoding: Encoding
    options: Options
    max_chars: int
    reference_time: str = "dateHeader"
    sent_hint: datetime | None = None
    tracker: TrackerLookup | None = field(default=None, compare=False)
    # The document's line table for `text`, kept up to date edit by edit (rebuilt here when missing).
    index: LineIndex | None = field(default=None, compare=False)
    # The document's diagnostic cache (only ever used on the engine thread).
    cache: DiagnosticCache | None = field(default=None, compare=False)


class EngineHost:
    """Owns the engine and the single thread it runs on (its paragraph cache is not thread-safe)."""

    def __init__(self, gate: Callable[[], object] | None = None) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="versprochen-engine")
        # Called before the first build (the early engine's child finishing its own first; bounded).
        self._gate = gate
        self._stopping = threading.Event()
        self._future: Future[Engine | None] | None = None
        self._key: LexiconKey | None = None
        self._good: Engine | None = None
        # The first build: until it is done the server has no engine of its own (see early.py).
        self.first: Future[Engine | None] | None = None
        # German messages for the user about rule files that could not be loaded.
        self.errors: list[str] = []

    def load(self, key: LexiconKey) -> bool:
        """Start building an engine for `key` unless it is the current one; True if a build started."""
        if key == self._key and self._future is not None:
            return False
        self._key = key
        self._future = self._executor.submit(self._build, key)
        if self.first is None:
            self.first = self._future
        return True

    def built(self) -> bool:
        """Whether the first build has finished (with an engine or without)."""
        return self.first is not None and self.first.done()

    def _build(self, key: LexiconKey) -> Engine | None:
        """Build the engine; on bad rule files fall back to the built-in lexicon (and say so)."""
        from lexicon import LexiconError, load_lexicon
        from server.engine.engine import Engine

        dirs, disabled = key
        if self._good is None:
            if self._gate is not None:
                self._gate()
            hold_back(os.environ.get(DELAY_VARIABLE, ""), self._stopping)
            if self._stopping.is_set() or key != self._key:
                return None  # shut down meanwhile, or other rules are wanted now (their build is queued)
        try:
            engine = Engine(load_lexicon(dirs, disabled=disabled))
        except LexiconError as exc:
            self.errors.append(f"versprochen: Regeln nicht geladen: {exc}. Es gelten die eingebauten Regeln.")
            try:
                engine = self._good or Engine(load_lexicon(disabled=disabled))
            except Exception as inner:
                log.exception("engine build failed")
                self.errors.append(f"versprochen: Die Prüfung kann nicht starten: {inner}")
                return self._good
        except Exception as exc:
            log.exception("engine build failed")
            self.errors.append(f"versprochen: Die Prüfung kann nicht starten: {exc}")
            return self._good
        rebuilt = self._good is not None
        self._good = engine
        settle_heap(rebuilt)
        log.info("engine built (%d rules)", len(engine.lexicon.rules))
        return engine

    async def engine(self) -> Engine | None:
        """The current engine once built (None if it could not be built)."""
        if self._future is None:
            return None
        return await asyncio.wrap_future(self._future)

    def rules(self) -> Mapping[str, Rule]:
        """The rules of the engine built last (empty before the first build)."""
        return self._good.lexicon.rules if self._good is not None else {}

    async def run(self, fn: Callable[[Engine], T]) -> T | None:
        """Run `fn(engine)` on the engine thread after any pending build; None if there is no engine."""
        future = self._future
        if future is None:
            return None

        def call() -> T | None:
            engine = future.result()
            return None if engine is None else fn(engine)

        return await asyncio.wrap_future(self._executor.submit(call))

    def shutdown(self) -> None:
        """Stop the worker thread (pending jobs are dropped)."""
        self._stopping.set()
        self._executor.shutdown(wait=False, cancel_futures=True)


def hold_back(delay: str, stopping: threading.Event) -> None:
    """Wait `delay` seconds or until `stopping` (the test knob DELAY_VARIABLE; unreadable values are ignored)."""
    try:
        seconds = float(delay) if delay else 0.0
    except ValueError:
        return
    if 0 < seconds <= 60:
        stopping.wait(seconds)


def settle_heap(rebuilt: bool) -> None:
    """Exempt the engine's objects (spaCy's vocabulary and tables, the lexicon) from garbage collection.

    A full collection walks every tracked object; with the engine's ~200,000 among them, one every few dozen
    keystrokes on a long draft took 50-180 ms. Frozen objects are still freed by reference counting; after a
    rebuild the previous engine is collected first, so its reference cycles are not kept for good.
    """
    if rebuilt:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def reference_time(engine: Engine, text: str, job: Job) -> tuple[Analysis, datetime]:
    """Analyse with the Date header's time (or now), re-running once when the header disagrees."""
    now = datetime.now().replace(second=0, microsecond=0)
    sent = now if job.reference_time == "now" else (job.sent_hint or now)
    analysis = engine.analyze(text, sent)
    if job.reference_time == "dateHeader":
        header = parse_date_header(analysis.mail.headers.get("date"))
        wanted = (header or now).replace(second=0, microsecond=0)
        if wanted != analysis.sent:
            analysis = engine.analyze(text, wanted)
    return analysis, analysis.sent


def analyse(engine: Engine, job: Job) -> Published:
    """Analyse one document version and convert the findings to diagnostics (runs on the engine thread)."""
    text = job.text
    options = job.options
    if options.rules is not engine.lexicon.rules:
        # A job made before the engine was built has no rules yet; messages must come from this engine's.
        options = replace(options, rules=engine.lexicon.rules)
    checked = text[: job.max_chars]
    if job.kind == "markdown":
        checked = mask_markdown(checked)
    decoded = decode_mime(checked) if job.kind == "mail" and is_raw_mime(checked) else None
    analysis, sent = reference_time(engine, decoded if decoded is not None else checked, job)
    open_promises: list[OpenPromise] = []
    recipients = analysis.mail.recipients()
    if job.tracker is not None and recipients:
        open_promises = job.tracker(recipients, sent)
    redeemed = redeeming(analysis.deliveries, open_promises)
    findings = collect_findings(analysis, options, open_promises, redeemed)
    if decoded is not None:
        findings = remap(findings, decoded, text)
    if len(text) > job.max_chars:
        limit = f"{job.max_chars:,}".replace(",", ".")
        findings.append(Finding("notice", job.max_chars, min(len(text), job.max_chars + 1), NOTICE_RULE,
                                "information", note=f"Das Dokument ist zu groß: geprüft wurden nur die ersten "
                                f"{limit} Zeichen (Einstellung maxDocumentChars)."))
    index = job.index if job.index is not None and job.index.text is text else LineIndex(text, job.encoding)
    cache = job.cache if job.cache is not None else DiagnosticCache(job.uri)
    diagnostics = cache.texts(findings, index, options)
    # Serialised here, on the engine thread: for a long draft that is milliseconds off the event loop.
    return Published(job.version, text, index, sent, analysis, tuple(findings), tuple(diagnostics),
                     tuple(open_promises), payload(job.uri, job.version, diagnostics))


def redeeming(deliveries: Sequence[Delivery], open_promises: Sequence[OpenPromise]) -> dict[int, tuple[
        OpenPromise, ...]]:
    """Which deliveries (by index) hand over something still open in the tracker."""
    if not open_promises:
        return {}
    from server.engine.deliveries import match_deliveries

    out: dict[int, tuple[OpenPromise, ...]] = {}
    for i, delivery in enumerate(deliveries):
        if delivery.phrased or delivery.matches is not None:
            continue
        hits = []
        for p in open_promises:
            stand_in = Promise(0, 0, p.quote, "explicit", "medium", TRACKER_RULE, "", "",
                               Severity.INFORMATION, object=p.object)
            matched = match_deliveries([replace(delivery, matches=None)], [stand_in])
            if matched and matched[0].matches is not None:
                hits.append(p)
        if hits:
            out[i] = tuple(hits)
    return out


def decode_mime(raw: str) -> str | None:
    """The body text of a raw MIME message (None when the MIME helper is missing or fails)."""
    try:
        from server.engine.mime import parse_message
    except ImportError:
        return None
    try:
        parsed: Any = parse_message(raw.encode("utf-8", "surrogateescape"))
    except Exception:
        log.exception("MIME decoding failed")
        return None
    date = getattr(getattr(parsed, "headers", None), "date", None)
    fields = (("An", _addresses(parsed, "to")), ("Betreff", _field(parsed, "subject")),
              ("Datum", date.strftime("%d.%m.%Y %H:%M") if isinstance(date, datetime) else ""))
    header = "".join(f"{k}: {v}\n" for k, v in fields if v)
    body = str(getattr(parsed, "body", "") or "")
    return (header + "\n" + body) if header else body


def _field(parsed: Any, name: str) -> str:
    headers = getattr(parsed, "headers", None)
    value = headers.get(name) if isinstance(headers, dict) else getattr(headers, name, None)
    return value if isinstance(value, str) else ""


def _addresses(parsed: Any, name: str) -> str:
    headers = getattr(parsed, "headers", None)
    value = headers.get(name) if isinstance(headers, dict) else getattr(headers, name, None)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def remap(findings: list[Finding], decoded: str, raw: str) -> list[Finding]:
    """Findings in decoded MIME text placed on the same words in the raw text (else on the first line)."""
    out: list[Finding] = []
    first_line = raw.find("\n")
    fallback = (0, first_line if first_line > 0 else min(len(raw), 1))
    cursor = 0
    for f in findings:
        words = decoded[f.start:f.end]
        pattern = r"\s+".join(re.escape(w) for w in words.split()) if words.strip() else None
        match = re.compile(pattern).search(raw, cursor) if pattern else None
        if match is None and pattern:
            match = re.compile(pattern).search(raw)
        if match is not None:
            cursor = match.start()
            out.append(f._replace(start=match.start(), end=match.end(), exact=False))
        else:
            out.append(f._replace(start=fallback[0], end=fallback[1], exact=False))
    return out

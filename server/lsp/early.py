"""The early engine: a child forked at start builds the engine on the second core and answers first analyses.

Importing pygls and lsprotocol (~0.7 s CPU) and building the engine (~1.2 s) run one after the other in one
process (GIL). So `versprochen lsp` forks before it imports pygls, while it has no threads: the child builds
the engine (the project config of the working directory, no extra folders, as the server's first build) and
answers analysis jobs over a pipe with the finished publishDiagnostics JSON (plain text, cheap to send). The
server uses it only until its own engine is built, then closes the pipe; the child exits and is reaped.
Every failure (no fork, the child dead, late or with other rules) means: wait for the own engine.
This module imports only the standard library at the top: it runs before anything heavy is loaded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from server.engine.engine import Engine
    from server.lsp.analysis import Job, LexiconKey
    from server.lsp.tracker import TrackerView

log = logging.getLogger(__name__)
# VERSPROCHEN_LSP_EARLY=0 switches the early engine off.
SWITCH = "VERSPROCHEN_LSP_EARLY"
OFF = ("0", "false", "no", "off")
# The longest one request may take in all (the child may still be building its engine).
REQUEST_TIMEOUT = 10.0
# How long the server's own first build waits for the child's engine (then both build at once).
READY_WAIT = 4.0
# How long a stop waits for the child to exit before it is killed.
EXIT_TIMEOUT = 2.0
# Pipe waits are cut into slices so a stop interrupts a request quickly.
SLICE = 0.05
FRAME = struct.Struct("!I")


class Reply(NamedTuple):
    """The child's answer to one job: the publishDiagnostics params as JSON text."""

    version: int
    payload: str
    findings: int


def switched_off() -> bool:
    """Whether the environment switches the early engine off."""
    return os.environ.get(SWITCH, "").strip().lower() in OFF


class EarlyEngine:
    """The parent's handle on the child: one request at a time, every wait bounded, stop is idempotent."""

    def __init__(self, pid: int, to_child: int, from_child: int) -> None:
        self.pid = pid
        self._to = to_child
        self._from = from_child
        self._lock = threading.Lock()  # one request on the pipes at a time
        self._stop_lock = threading.Lock()  # a second stop returns only once the child is reaped
        self._stopping = threading.Event()
        self._closed = False
        self._reaped = False
        self._buffer = bytearray()
        self._key: LexiconKey | None = None
        self.usable = True
        self.answered = 0
        # The child's peak resident set in KB (from wait4), once it is reaped.
        self.peak_rss_kb: int | None = None

    @classmethod
    def start(cls) -> EarlyEngine | None:
        """Fork the child (None when switched off, impossible here, or the process already has threads)."""
        if switched_off() or not hasattr(os, "fork") or threading.active_count() != 1:
            return None
        try:
            requests_r, requests_w = os.pipe()
            replies_r, replies_w = os.pipe()
        except OSError:
            return None
        for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            pid = os.fork()
        except OSError:
            for fd in (requests_r, requests_w, replies_r, replies_w):
                os.close(fd)
            return None
        if pid == 0:  # the child: never returns
            child_main(requests_r, replies_w, (requests_w, replies_r))
        os.close(requests_r)
        os.close(replies_w)
        os.set_blocking(requests_w, False)  # a child still building reads nothing: writes wait in select
        return cls(pid, requests_w, replies_r)

    def analyse(self, job: Job, key: LexiconKey, tracker_path: Path | None) -> Reply | None:
        """The child's diagnostics for `job`; None unless it answers in time with an engine for `key`.

        Blocking: call it on a worker thread. A timeout leaves the pipe out of step, so the child is not
        asked again after one.
        """
        if not self.usable or self._stopping.is_set():
            return None
        deadline = time.monotonic() + REQUEST_TIMEOUT
        with self._lock:
            if self._closed or not self.usable:
                return None
            try:
                if self._key is None:
                    self._hello(deadline)
                if self._key != key:
                    return None  # other rules than the child's: only the own engine can answer
                self._send(pickle.dumps(request(job, tracker_path), pickle.HIGHEST_PROTOCOL), deadline)
                answer = self._receive(deadline)
            except (OSError, EOFError, TimeoutError, pickle.UnpicklingError, ValueError, TypeError) as exc:
                log.info("early engine not used any more: %s", exc or type(exc).__name__)
                self.usable = False
                return None
        if isinstance(answer, Reply):
            self.answered += 1
            return answer
        log.info("early engine could not analyse %s: %s", job.uri, answer)
        return None

    def wait_ready(self) -> bool:
        """Wait (READY_WAIT at most) until the child has built its engine; False if it has not or cannot.

        The server's own first build waits for this: both builds at once cost a busy machine more than they
        gain (the child's answers serve the editor meanwhile). Blocking: called on the engine thread.
        """
        if not self._lock.acquire(timeout=READY_WAIT):
            return False
        try:
            if self._key is None and self.usable and not self._closed:
                self._hello(time.monotonic() + READY_WAIT)
        except TimeoutError:
            return False  # not ready yet: a partial message stays buffered, the child may still be used
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as exc:
            log.info("early engine not used: %s", exc or type(exc).__name__)
            self.usable = False
        finally:
            self._lock.release()
        return self._key is not None

    def _hello(self, deadline: float) -> None:
        """Read the child's first message: which lexicon key its engine was built from."""
        hello = self._receive(deadline)
        if not (isinstance(hello, tuple) and len(hello) == 2 and hello[0] == "ready"):
            raise EOFError("no engine in the child")
        self._key = hello[1]

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(FRAME.pack(len(data)) + data)
        while view:
            self._wait(deadline, write=True)
            try:
                written = os.write(self._to, view)
            except BlockingIOError:
                continue
            view = view[written:]

    def _receive(self, deadline: float) -> Any:
        while True:
            if len(self._buffer) >= FRAME.size:
                (size,) = FRAME.unpack_from(self._buffer)
                if len(self._buffer) >= FRAME.size + size:
                    data = bytes(self._buffer[FRAME.size:FRAME.size + size])
                    del self._buffer[:FRAME.size + size]
                    return pickle.loads(data)
            self._wait(deadline, write=False)
            chunk = os.read(self._from, 1 << 20)
            if not chunk:
                raise EOFError("the child has gone")
            self._buffer += chunk

    def _wait(self, deadline: float, write: bool) -> None:
        """Until the pipe is ready; TimeoutError at the deadline or when a stop was asked for."""
        while True:
            if self._stopping.is_set():
                raise TimeoutError("stopping")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the child did not answer in time")
            fd = self._to if write else self._from
            ready = select.select([], [fd], [], min(SLICE, left)) if write else select.select(
                [fd], [], [], min(SLICE, left))
            if ready[0] or ready[1]:
                return

    def abandon(self) -> None:
        """Make a request in flight give up (within SLICE); the child is not used any more."""
        self._stopping.set()

    def stop(self) -> None:
        """Close the pipes (the child sees EOF and exits), wait for it, kill it if it lingers, reap it."""
        self._stopping.set()
        with self._stop_lock:
            if self._reaped:
                return
            if self._lock.acquire(timeout=REQUEST_TIMEOUT):  # a request in flight ends within SLICE
                try:
                    if not self._closed:
                        self._closed = True
                        for fd in (self._to, self._from):
                            with contextlib.suppress(OSError):
                                os.close(fd)
                finally:
                    self._lock.release()
            self._reap()
            self._reaped = True
        rss = f"{self.peak_rss_kb / 1024:.0f} MB" if self.peak_rss_kb is not None else "unknown"
        log.info("early engine stopped after %d answers; its peak RSS %s", self.answered, rss)

    def _reap(self) -> None:
        deadline = time.monotonic() + EXIT_TIMEOUT
        try:
            while time.monotonic() < deadline:
                pid, _, usage = os.wait4(self.pid, os.WNOHANG)
                if pid == self.pid:
                    self.peak_rss_kb = usage.ru_maxrss
                    return
                time.sleep(0.01)
            log.warning("early engine did not exit: killed")
            os.kill(self.pid, signal.SIGKILL)
            _, _, usage = os.wait4(self.pid, 0)
            self.peak_rss_kb = usage.ru_maxrss
        except ChildProcessError:  # reaped already (or SIGCHLD ignored)
            return


def request(job: Job, tracker_path: Path | None) -> tuple[Any, ...]:
    """The job as plain data for the child: no callables, caches or rule objects."""
    options = dataclasses.replace(job.options, rules={})
    return (job.uri, job.version, job.text, job.kind, job.encoding, options, job.max_chars,
            job.reference_time, job.sent_hint, tracker_path)


def child_main(requests: int, replies: int, parents_ends: tuple[int, ...]) -> None:
    """The child's whole life: off the LSP channel, build the engine, answer until EOF, os._exit."""
    code = 1
    try:
        # The LSP's stdin and stdout belong to the parent alone; stderr may log.
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.close(devnull)
        for fd in parents_ends:
            os.close(fd)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is for the parent
        code = serve(requests, replies)
    except BaseException as exc:  # whatever happens, the child leaves only by os._exit
        with contextlib.suppress(BaseException):
            log.info("early engine ended: %r", exc)
    finally:
        os._exit(code)


def serve(requests: int, replies: int) -> int:
    """Build the engine, tell the parent which rules it has, then answer jobs until the pipe closes."""
    started = time.monotonic()
    gc.disable()  # importing spaCy and building the engine make no garbage worth collecting
    from lexicon import load_lexicon
    from server.config import find_config, load_config
    from server.engine.engine import Engine
    from server.lsp.analysis import lexicon_key
    from server.lsp.tracker import TrackerView

    path = find_config(Path.cwd())
    key = lexicon_key(load_config(path) if path is not None else _default_config())
    engine = Engine(load_lexicon(key[0], disabled=key[1]))
    gc.freeze()  # a short life: no collections walking the engine's objects
    gc.enable()
    write_frame(replies, ("ready", key))
    log.info("early engine ready after %.2f s", time.monotonic() - started)
    tracker = TrackerView()
    while (message := read_frame(requests)) is not None:
        try:
            answer: Any = answer_job(engine, tracker, message)
        except Exception as exc:
            answer = repr(exc)
        write_frame(replies, answer)
    tracker.close()
    return 0


def _default_config() -> Any:
    from server.config import ProjectConfig

    return ProjectConfig()


def answer_job(engine: Engine, tracker: TrackerView, message: tuple[Any, ...]) -> Reply:
    """Analyse one job exactly as the server's engine thread would."""
    from server.lsp.analysis import Job, analyse

    uri, version, text, kind, encoding, options, max_chars, reference_time, sent_hint, tracker_path = message
    tracker.configure(tracker_path)
    job = Job(uri=uri, version=version, text=text, kind=kind, encoding=encoding, options=options,
              max_chars=max_chars, reference_time=reference_time,
              sent_hint=sent_hint if isinstance(sent_hint, datetime) else None,
              tracker=tracker.open_for if tracker_path is not None else None)
    published = analyse(engine, job)
    return Reply(version, published.payload, len(published.findings))


def write_frame(fd: int, value: Any) -> None:
    """One length-prefixed pickle (blocking: the child's side)."""
    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    view = memoryview(FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def read_frame(fd: int) -> Any:
    """One length-prefixed pickle (blocking); None at EOF."""
    head = _read_exactly(fd, FRAME.size)
    if head is None:
        return None
    (size,) = FRAME.unpack(head)
    data = _read_exactly(fd, size)
    return None if data is None else pickle.loads(data)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = os.read(fd, size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)

"""Start-up, serving and orderly shutdown of the proxy (engine first, then the listening socket)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import weakref
from collections.abc import Callable

from smtp_proxy.handler import ProxyHandler, ProxySMTP
from smtp_proxy.pool import AnalyzerFactory, ExtractionPool, QueueLimits
from smtp_proxy.recorder import Store, StoreFactory, TrackerRecorder
from smtp_proxy.relay import UpstreamRelay, close_idle
from smtp_proxy.settings import ProxySettings

log = logging.getLogger(__name__)

# Seconds a shutdown waits for messages being relayed right now before closing connections.
SHUTDOWN_GRACE = 30.0
# Seconds a shutdown then gives queued analyses of relayed mail to finish (their promises are recorded).
DRAIN_LIMIT = 30.0

# A picklable `job(store)`: it runs where the tracker's write connection lives.
TrackerJob = Callable[[Store], object]


class ProxyServer:
    """One running proxy: extraction workers, upstream relay, tracker recorder and the SMTP listener."""

    def __init__(self, settings: ProxySettings, analyzer_factory: AnalyzerFactory,
                 store_factory: StoreFactory | None, *, reminder: TrackerJob | None = None) -> None:
        self.settings = settings
        processes = settings.workers > 0
        # With worker processes each worker records what it analysed; workers=0 keeps all in here.
        limits = QueueLimits(max_jobs=settings.queue_max, max_bytes=settings.queue_bytes,
                             budget=settings.extract_budget, nice=settings.worker_nice)
        self.pool = ExtractionPool(analyzer_factory, workers=settings.workers, budget=settings.extract_budget,
                                   store_factory=store_factory if processes else None,
                                   tag_wait=settings.tag_wait, limits=limits)
        self.relay = UpstreamRelay(settings.upstream_host, settings.upstream_port, timeout=settings.timeout,
                                   pool_size=settings.pool_size, local_hostname=settings.hostname)
        self.recorder = TrackerRecorder(store_factory) if store_factory is not None and not processes else None
        self.handler = ProxyHandler(self.relay, self.pool, self.recorder)
        self.reminder = reminder
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[ProxySMTP] = weakref.WeakSet()
        self._tasks: list[asyncio.Task[None]] = []

    def _session(self) -> ProxySMTP:
        session = ProxySMTP(
            self.handler, allow=self.settings.allow, data_size_limit=self.settings.max_size,
            enable_SMTPUTF8=True, decode_data=False, hostname=self.settings.hostname,
            ident="versprochen", timeout=self.settings.client_timeout, loop=asyncio.get_running_loop())
        self._sessions.add(session)
        return session

    @property
    def port(self) -> int:
        """The port actually listened on."""
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Build the engine and open the tracker, then listen; errors surface before any mail is taken."""
        await self.pool.start()
        if self.recorder is not None:
            await self.recorder.open()
        self._server = await asyncio.get_running_loop().create_server(
            self._session, host=self.settings.listen_host, port=self.settings.listen_port)
        if self.reminder is not None and self.settings.remind_every:
            self._tasks.append(asyncio.create_task(self._remind_loop(self.settings.remind_every)))
        log.info("versprochen proxy lauscht auf %s:%d, Upstream %s:%d", self.settings.listen_host,
                 self.port, self.settings.upstream_host, self.settings.upstream_port)

    async def _remind_loop(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.run_tracker_job(self.reminder)
            except Exception:
                log.exception("Erinnerungslauf fehlgeschlagen")

    async def run_tracker_job(self, job: TrackerJob | None) -> None:
        """Run `job(store)` where the tracker's write connection lives (a worker or our thread)."""
        if job is None or self.pool.run_in_tracker(job):
            return
        if self.recorder is not None:
            await self.recorder.run(job)

    async def stop(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Stop listening, let messages in flight finish, then close everything."""
        for task in self._tasks:
            task.cancel()
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.handler.idle.wait(), timeout=grace)
        for session in list(self._sessions):
            # Clients mid-transaction got no 250, so they keep the message and retry.
            if session.transport is not None:
                session.transport.close()
        await close_idle(self.relay)
        if not await self.pool.sync(DRAIN_LIMIT if grace > 0 else 0.0):
            log.error("Beim Beenden noch %d Analysen offen", self.pool.backlog)
        if self.recorder is not None:
            await self.recorder.close()
        await self.pool.close()
        if self.recorder is None:
            self.handler.stats["recorded"], self.handler.stats["record_failed"] = self.pool.recorded
        else:
            self.handler.stats["recorded"] = self.recorder.recorded
            self.handler.stats["record_failed"] = self.recorder.failures
        log.info("versprochen proxy beendet: %s", dict(self.handler.stats))

    async def serve_until_signal(self) -> None:
        """Run until SIGTERM or SIGINT, then stop in order."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start()
            await stop.wait()
        finally:
            await self.stop(grace=SHUTDOWN_GRACE if self._server is not None else 0)

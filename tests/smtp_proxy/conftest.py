"""Fixtures for the proxy tests: a capturing upstream with injectable faults, proxies on free ports."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from smtp_proxy.recorder import default_store_factory
from smtp_proxy.server import ProxyServer
from smtp_proxy.settings import ProxySettings
from tests.smtp_proxy.support import (
    CaptureHandler,
    FakeAnalyzer,
    ProxyFactory,
    RunningProxy,
    UpstreamController,
    free_port,
)


@pytest.fixture(scope="module")
def upstream() -> Iterator[UpstreamController]:
    """A capturing upstream on a free port, shared by a test module."""
    controller = UpstreamController(CaptureHandler(), hostname="127.0.0.1", port=free_port(),
                                    enable_SMTPUTF8=True, data_size_limit=None, server_hostname="upstream")
    controller.start()
    yield controller
    controller.handler.release.set()
    controller.stop()


@pytest.fixture(autouse=True)
def _reset_upstream(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with a healthy, empty upstream."""
    yield
    if "upstream" in request.fixturenames:
        handler: CaptureHandler = request.getfixturevalue("upstream").handler
        handler.release.set()
        handler.messages.clear()
        handler.mode = "ok"
        handler.refuse_rcpt.clear()
        handler.refuse_mail = None
        handler.release = threading.Event()


@pytest.fixture(scope="module")
def make_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyFactory]:
    """Start proxies (thread-mode extraction with a FakeAnalyzer unless told otherwise); stops them all."""
    running: list[RunningProxy] = []

    def make(upstream_port: int, *, analyzer: Any = None, db: Path | None = None,
             tracker: bool = True, reminder: Any = None, **overrides: Any) -> RunningProxy:
        settings = replace(ProxySettings(listen_port=free_port(), upstream_port=upstream_port, workers=0,
                                         timeout=5.0, extract_budget=2.0), **overrides)
        path = db or tmp_path_factory.mktemp("tracker") / "tracker.sqlite3"
        fake = analyzer if analyzer is not None else FakeAnalyzer()
        # A class or function is used as the factory itself (picklable, for worker processes).
        factory: Any = fake if isinstance(fake, type) or not hasattr(fake, "analyze") else (lambda: fake)
        store = default_store_factory(path) if tracker else None
        proxy = RunningProxy(ProxyServer(settings, factory, store, reminder=reminder))
        running.append(proxy)
        return proxy

    yield make
    for proxy in running:
        proxy.stop()

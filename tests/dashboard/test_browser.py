"""Real browser: headless Chromium (Debian's) driven by Playwright logs in, marks a promise kept, reopens it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server.tracker.store import TrackerStore

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Flags that keep Chromium off the (closed) network and free of first-run work; see the machine notes.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.is_file() and not shutil.which("chromium"),
                       reason="Chromium missing: apt-get install chromium chromium-driver"),
]


def test_mark_kept_and_reopen_in_a_real_browser(served: tuple[str, list[str]], db: tuple[Path, dict[str, int]]) -> None:
    base, _cmd = served
    path, ids = db
    pid = ids["soon"]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM if CHROMIUM.is_file() else shutil.which("chromium")),
                                     headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(base + "/")
            # Not logged in: the dashboard sends us to the login form and back.
            assert "/login" in page.url
            page.fill("input[name=token]", "geheim-browser-1")
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            assert page.locator("tbody.urgency-0 tr.group").inner_text().startswith("überfällig")
            page.click(f'button[data-action="kept"][data-id="{pid}"]')
            page.wait_for_url(f"{base}/promise/{pid}?done=kept")
            assert f"Zusage {pid} ist jetzt gehalten." in page.locator("p.ok").inner_text()
            assert page.locator("table.history td.by").last.inner_text() == "pruefer"
            page.screenshot(path=str(ARTIFACTS / "dashboard_kept.png"), full_page=True)
            # A mis-click is undone on the same page: the kept promise offers "wieder öffnen".
            page.fill("form[action$='/reopen'] input[name=note]", "versehentlich")
            page.click(f'button[data-action="reopen"][data-id="{pid}"]')
            page.wait_for_url(f"{base}/promise/{pid}?done=open")
            assert f"Zusage {pid} ist jetzt wieder offen." in page.locator("p.ok").inner_text()
            assert "wieder offen" in page.locator("table.history tr.reopened").inner_text()
            assert page.locator(f'button[data-action="kept"][data-id="{pid}"]').count() == 1
            page.goto(base + "/")
            page.screenshot(path=str(ARTIFACTS / "dashboard_index.png"), full_page=True)
            # The CSP blocks nothing the pages need: no console errors (a violation would be one).
            assert errors == []
        finally:
            browser.close()
    with TrackerStore(path, read_only=True) as store:
        promise = store.get(pid)
        assert promise is not None and promise.state == "open"
        kept, reopened = store.history(pid)[-2:]
        assert (kept.old_state, kept.new_state, kept.by) == ("open", "kept", "pruefer")
        assert (reopened.old_state, reopened.new_state, reopened.by, reopened.note) == (
            "kept", "open", "pruefer", "versehentlich")

"""The dashboard's "wieder öffnen" action: shown only on settled promises, POST + CSRF, history entry."""

from __future__ import annotations

import re

import jinja2
import pytest
from starlette.testclient import TestClient

from server.dashboard.security import Tokens
from server.tracker.store import TrackerStore
from tests.dashboard.conftest import make_client
from tests.dashboard.test_actions import csrf_of, post

REOPEN_BUTTON = 'data-action="reopen"'


@pytest.mark.parametrize("role", ["kept", "broken"])
def test_reopen_sets_open_again_and_shows_it_in_the_history(client: TestClient, store: TrackerStore,
                                                            ids: dict[str, int], role: str) -> None:
    pid = ids[role]
    before = store.history(pid)
    page = f"/promise/{pid}"
    # The evidence field is ignored: reopening has none of its own.
    response = post(client, f"{page}/reopen", {"note": "Kunde hat nichts erhalten", "evidence": "<x@y>"}, page)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"{page}?done=open"  # type: ignore[attr-defined]
    promise = store.get(pid)
    assert promise is not None and promise.state == "open"
    history = store.history(pid)
    assert history[:-1] == before  # the settled entry (who, evidence, note) stays as it was
    last = history[-1]
    assert (last.old_state, last.new_state, last.by, last.note, last.evidence) == (
        role, "open", "testerin", "Kunde hat nichts erhalten", None)
    html = client.get(response.headers["location"]).text  # type: ignore[attr-defined]
    assert f"Zusage {pid} ist jetzt wieder offen." in html
    # Its deadline passed before the dashboard's NOW: overdue again.
    assert f"<h1>Zusage {pid}: überfällig</h1>" in html
    row = re.search(r'<tr class="reopened">(.*?)</tr>', html, re.S)
    assert row is not None
    assert "wieder offen" in row.group(1) and "testerin" in row.group(1)
    assert "Kunde hat nichts erhalten" in row.group(1)
    # Active again: the usual actions are back, the reopen button is gone.
    assert f'data-action="kept" data-id="{pid}"' in html and REOPEN_BUTTON not in html


def test_reopen_button_only_where_allowed(client: TestClient, store: TrackerStore, ids: dict[str, int]) -> None:
    store.set_state(ids["later"], "cancelled", by="eva")
    store.set_state(ids["timed"], "postponed", by="eva", new_due="2026-12-03")
    for role in ("kept", "broken", "later"):
        html = client.get(f"/promise/{ids[role]}").text
        assert f'{REOPEN_BUTTON} data-id="{ids[role]}"' in html, role
        assert f'action="/promise/{ids[role]}/reopen"' in html and 'name="csrf"' in html
        assert 'data-action="kept"' not in html
    for role in ("soon", "overdue", "vague", "timed"):
        html = client.get(f"/promise/{ids[role]}").text
        assert REOPEN_BUTTON not in html and 'data-action="kept"' in html, role
    assert REOPEN_BUTTON not in client.get("/").text


@pytest.mark.parametrize(("role", "message"), [
    ("soon", "ist bereits offen; nur eine gehaltene, gebrochene oder abgesagte Zusage lässt sich wieder öffnen"),
    ("timed", "ist verschoben und damit noch offen"),
])
def test_reopen_of_an_active_promise_is_refused(client: TestClient, store: TrackerStore, ids: dict[str, int],
                                                role: str, message: str) -> None:
    pid = ids[role]
    if role == "timed":
        store.set_state(pid, "postponed", by="eva", new_due="2026-12-03")
    before = store.history(pid)
    response = post(client, f"/promise/{pid}/reopen", {})
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert message in response.text  # type: ignore[attr-defined]
    assert store.history(pid) == before


@pytest.mark.parametrize("csrf", [None, "falsch"])
def test_reopen_without_valid_csrf_is_rejected(client: TestClient, store: TrackerStore, ids: dict[str, int],
                                               csrf: str | None) -> None:
    client.get(f"/promise/{ids['kept']}")
    response = client.post(f"/promise/{ids['kept']}/reopen", data={} if csrf is None else {"csrf": csrf})
    assert response.status_code == 403 and "Sicherheitsprüfung" in response.text
    assert store.get(ids["kept"]).state == "kept"  # type: ignore[union-attr]
    assert store.history(ids["kept"])[-1].new_state == "kept"


def test_reopen_needs_login_and_records_the_tokens_name(store: TrackerStore, env: jinja2.Environment,
                                                        ids: dict[str, int]) -> None:
    secured = make_client(store, env, tokens=Tokens.parse(["anna:geheim-anna-123"]))
    pid = ids["broken"]
    assert secured.post(f"/promise/{pid}/reopen", data={}).status_code == 401
    csrf = csrf_of(secured.get("/login").text)
    secured.post("/login", data={"csrf": csrf, "token": "geheim-anna-123", "next": "/"})
    response = secured.post(f"/promise/{pid}/reopen",
                            data={"csrf": csrf_of(secured.get(f"/promise/{pid}").text)})
    assert response.status_code == 303
    assert (store.get(pid).state, store.history(pid)[-1].by) == ("open", "anna")  # type: ignore[union-attr]

"""Dashboard actions: each state change lands in the history with the dashboard user; CSRF and tokens."""

from __future__ import annotations

import re

import jinja2
import pytest
from starlette.testclient import TestClient

from server.dashboard.security import SESSION_COOKIE, SessionSigner, Tokens, parse_token
from server.tracker.store import TrackerStore
from tests.dashboard.conftest import make_client


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def post(client: TestClient, url: str, data: dict[str, str], page: str = "/") -> object:
    """Load `page` for a CSRF token, then post the form with it."""
    token = csrf_of(client.get(page).text)
    return client.post(url, data={"csrf": token, **data})


@pytest.mark.parametrize(("action", "state", "label"), [
    ("kept", "kept", "gehalten"), ("broken", "broken", "gebrochen"), ("cancel", "cancelled", "abgesagt"),
])
def test_action_changes_state_and_records_history(client: TestClient, store: TrackerStore, ids: dict[str, int],
                                                  action: str, state: str, label: str) -> None:
    pid = ids["soon"]
    response = post(client, f"/promise/{pid}/{action}", {"note": "per Telefon", "evidence": "<x@firma.de>"})
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/promise/{pid}?done={state}"  # type: ignore[attr-defined]
    assert store.get(pid).state == state  # type: ignore[union-attr]
    last = store.history(pid)[-1]
    assert (last.old_state, last.new_state, last.by, last.note) == ("open", state, "testerin", "per Telefon")
    assert last.evidence == "<x@firma.de>"
    page = client.get(response.headers["location"]).text  # type: ignore[attr-defined]
    assert f"Zusage {pid} ist jetzt {label}." in page


def test_postpone_records_new_due_and_shows_draft(client: TestClient, store: TrackerStore,
                                                  ids: dict[str, int]) -> None:
    pid = ids["soon"]
    response = post(client, f"/promise/{pid}/postpone", {"date": "2026-12-02", "note": "Lieferant"})
    assert response.status_code == 200  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    promise = store.get(pid)
    assert promise is not None and (promise.state, promise.due) == ("postponed", "2026-12-02")
    last = store.history(pid)[-1]
    assert (last.new_state, last.new_due, last.by, last.note) == ("postponed", "2026-12-02", "testerin",
                                                                  "Lieferant")
    draft = re.search(r'<textarea class="draft"[^>]*>(.*?)</textarea>', html, re.S)
    assert draft is not None
    text = draft.group(1)
    # The draft names the old deadline it cannot keep and the new one.
    assert "Betreff: Re: Angebot Küche" in text and "Guten Tag Anna Kunde," in text
    assert "Diesen Termin (Freitag, 27. November 2026) kann ich leider nicht halten." in text
    assert "Mittwoch, 2. Dezember 2026" in text and text.rstrip().endswith("Max Muster")


@pytest.mark.parametrize("date", ["", "morgen", "31.02.2026"])
def test_postpone_with_bad_date_changes_nothing(client: TestClient, store: TrackerStore, ids: dict[str, int],
                                                date: str) -> None:
    response = post(client, f"/promise/{ids['soon']}/postpone", {"date": date})
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert store.get(ids["soon"]).state == "open"  # type: ignore[union-attr]


def test_closed_promise_refuses_change(client: TestClient, store: TrackerStore, ids: dict[str, int]) -> None:
    response = post(client, f"/promise/{ids['kept']}/broken", {})
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert "ist gehalten und kann nicht" in response.text  # type: ignore[attr-defined]
    assert store.get(ids["kept"]).state == "kept"  # type: ignore[union-attr]


def test_unknown_action_and_promise(client: TestClient) -> None:
    assert post(client, "/promise/1/explode", {}).status_code == 404  # type: ignore[attr-defined]
    assert post(client, "/promise/999/kept", {}).status_code == 404  # type: ignore[attr-defined]


@pytest.mark.parametrize("csrf", [None, "", "falsch"])
def test_post_without_valid_csrf_is_rejected(client: TestClient, store: TrackerStore, ids: dict[str, int],
                                             csrf: str | None) -> None:
    client.get("/")  # a session exists, but the form does not carry its token
    data = {} if csrf is None else {"csrf": csrf}
    response = client.post(f"/promise/{ids['soon']}/kept", data=data)
    assert response.status_code == 403
    assert "Sicherheitsprüfung" in response.text
    assert store.get(ids["soon"]).state == "open"  # type: ignore[union-attr]
    assert len(store.history(ids["soon"])) == 1


def test_csrf_token_of_another_session_is_rejected(client: TestClient, store: TrackerStore,
                                                   ids: dict[str, int]) -> None:
    victim = TestClient(client.app, follow_redirects=False)
    stolen = csrf_of(client.get("/").text)
    victim.get("/")
    response = victim.post(f"/promise/{ids['soon']}/kept", data={"csrf": stolen})
    assert response.status_code == 403
    assert store.get(ids["soon"]).state == "open"  # type: ignore[union-attr]


def test_forged_session_cookie_is_ignored(client: TestClient, store: TrackerStore, ids: dict[str, int]) -> None:
    forged = SessionSigner(b"k" * 32)
    from server.dashboard.security import Session

    session = Session(csrf="bekannt", issued=10**10)
    client.cookies.set(SESSION_COOKIE, forged.dumps(session))
    response = client.post(f"/promise/{ids['soon']}/kept", data={"csrf": "bekannt"})
    assert response.status_code == 403


@pytest.fixture
def secured(store: TrackerStore, env: jinja2.Environment) -> TestClient:
    """A dashboard that requires a token; `anna:…` records as anna, the bare one as the default user."""
    return make_client(store, env, tokens=Tokens.parse(["anna:geheim-anna-123", "nur-ein-token-456"]))


def test_token_required_redirects_pages_and_refuses_actions(secured: TestClient, ids: dict[str, int]) -> None:
    response = secured.get("/?state=open")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F%3Fstate%3Dopen"
    assert secured.get("/calendar.ics").status_code == 401
    assert secured.post(f"/promise/{ids['soon']}/kept", data={}).status_code == 401


def test_login_with_named_token_records_that_name(secured: TestClient, store: TrackerStore,
                                                  ids: dict[str, int]) -> None:
    csrf = csrf_of(secured.get("/login").text)
    wrong = secured.post("/login", data={"csrf": csrf, "token": "falsch", "next": "/"})
    assert wrong.status_code == 401 and "Das Token stimmt nicht." in wrong.text
    ok = secured.post("/login", data={"csrf": csrf, "token": "geheim-anna-123", "next": "/?state=open"})
    assert ok.status_code == 303 and ok.headers["location"] == "/?state=open"
    html = secured.get("/").text
    assert "Angemeldet als <strong>anna</strong>" in html
    assert secured.post(f"/promise/{ids['soon']}/kept", data={"csrf": csrf_of(html)}).status_code == 303
    assert store.history(ids["soon"])[-1].by == "anna"


def test_login_refuses_open_redirect_and_missing_csrf(secured: TestClient) -> None:
    csrf = csrf_of(secured.get("/login").text)
    assert secured.post("/login", data={"token": "nur-ein-token-456"}).status_code == 403
    response = secured.post("/login", data={"csrf": csrf, "token": "nur-ein-token-456",
                                            "next": "//evil.example/"})
    assert response.headers["location"] == "/"


def test_bearer_token_works_for_feeds(secured: TestClient) -> None:
    response = secured.get("/calendar.ics", headers={"Authorization": "Bearer nur-ein-token-456"})
    assert response.status_code == 200 and response.text.startswith("BEGIN:VCALENDAR")


def test_logout_ends_the_session(secured: TestClient) -> None:
    csrf = csrf_of(secured.get("/login").text)
    secured.post("/login", data={"csrf": csrf, "token": "nur-ein-token-456"})
    page = secured.get("/")
    assert page.status_code == 200
    secured.post("/logout", data={"csrf": csrf_of(page.text)})
    assert secured.get("/").status_code == 303


@pytest.mark.parametrize(("spec", "expected"), [
    ("anna:geheim-anna", ("anna", "geheim-anna")), ("geheimnis:mit:doppelpunkt", ("geheimnis", "mit:doppelpunkt")),
    ("ohne-namen-123", ("", "ohne-namen-123")),
])
def test_parse_token(spec: str, expected: tuple[str, str]) -> None:
    assert parse_token(spec) == expected


def test_short_token_is_refused() -> None:
    with pytest.raises(ValueError, match="zu kurz"):
        parse_token("anna:kurz")

"""Dashboard pages over a seeded tracker: ordering, filters, escaping, security headers, charts, ledger."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from starlette.testclient import TestClient

from tests.dashboard.seed import HOSTILE


def row_ids(html: str) -> list[int]:
    """The promise ids in table order."""
    return [int(m) for m in re.findall(r'<tr id="p(\d+)"', html)]


def test_index_lists_overdue_then_due_soon_then_later(client: TestClient, ids: dict[str, int]) -> None:
    html = client.get("/").text
    order = row_ids(html)
    assert order[0] == ids["overdue"]
    # Due soon (Thursday 08:00, Friday) before later and undated ones; closed promises last.
    assert order.index(ids["timed"]) < order.index(ids["soon"]) < order.index(ids["later"])
    assert order.index(ids["later"]) < order.index(ids["vague"]) < order.index(ids["kept"])
    assert "1 überfällig" in html and "2 bald fällig" in html


@pytest.mark.parametrize(("query", "expected"), [
    ("state=kept", {"kept"}),
    ("state=broken", {"broken"}),
    ("state=active&owner=eva@firma.de", {"timed", "later"}),
    ("customer=bob@bau.de", {"timed", "later", "vague"}),
    ("customer=@kunde.de&state=open", {"overdue", "soon", "hostile"}),
    ("due_from=26.11.2026&due_to=2026-11-30", {"timed", "soon", "hostile"}),
    ("text=angebot", {"soon"}),
])
def test_filters(client: TestClient, ids: dict[str, int], query: str, expected: set[str]) -> None:
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert set(row_ids(response.text)) == {ids[k] for k in expected}


@pytest.mark.parametrize("query", ["state=bogus", "due_from=nächste+Woche"])
def test_bad_filter_is_a_message_not_a_crash(client: TestClient, query: str) -> None:
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert 'class="error"' in response.text


def test_hostile_text_is_escaped_everywhere(client: TestClient, ids: dict[str, int]) -> None:
    pages = ["/", f"/promise/{ids['hostile']}", "/ledger?customer=evil@kunde.de", "/digest", "/ledger",
             "/stats"]
    for url in pages:
        html = client.get(url).text
        assert "<script>" not in html and "<img src=x" not in html and "<b>Kunde</b>" not in html, url
    detail = client.get(f"/promise/{ids['hostile']}").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Wir liefern &amp; montieren" in detail
    assert "&lt;i&gt;Betreff&lt;/i&gt;" in detail


def test_security_headers(client: TestClient) -> None:
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "'unsafe-inline'" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_pages_have_no_inline_script_or_style(client: TestClient, ids: dict[str, int]) -> None:
    for url in ["/", f"/promise/{ids['soon']}", "/stats", "/ledger?customer=anna@kunde.de", "/digest"]:
        html = client.get(url).text
        assert "<script" not in html and "<style" not in html and " style=" not in html, url


def test_promise_page_shows_history(client: TestClient, ids: dict[str, int]) -> None:
    html = client.get(f"/promise/{ids['kept']}").text
    assert "Zusage 2: gehalten" in html
    assert "Telefonat geführt" in html and '<td class="by">max</td>' in html
    # A closed promise offers no actions.
    assert f'action="/promise/{ids["kept"]}/broken"' not in html


def test_unknown_promise_is_404(client: TestClient) -> None:
    response = client.get("/promise/999")
    assert response.status_code == 404 and "Keine Zusage mit der Nummer 999" in response.text


def test_stats_charts_are_valid_svg(client: TestClient) -> None:
    html = client.get("/stats").text
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) == 2
    weekly, customers = (ET.fromstring(s) for s in svgs)
    ns = "{http://www.w3.org/2000/svg}"
    # Kept on 17.11. and broken on 20.11. both fall in KW 47: one bar of height > 0 each.
    bars = [r for r in weekly.iter(f"{ns}rect") if r.find(f"{ns}title") is not None
            and int(r.get("height", "0")) > 0]
    assert sorted(b.find(f"{ns}title").text for b in bars) == ["KW 47: 1 gebrochen", "KW 47: 1 gehalten"]  # type: ignore[union-attr]
    assert "Anna Kunde: 1 gehalten, 1 gebrochen" in (customers.find(f"{ns}desc").text or "")  # type: ignore[union-attr]


def test_ledger_page_is_printable(client: TestClient) -> None:
    html = client.get("/ledger?customer=anna@kunde.de").text
    assert "Unsere Zusagen an Anna Kunde" in html
    assert "Nicht eingehalten (1)" in html and "Eingehalten (1)" in html and "Noch offen (2)" in html
    css = client.get("/static/dashboard.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "@media print" in css.text and ".no-print" in css.text


def test_customer_list_links_to_ledgers(client: TestClient) -> None:
    html = client.get("/ledger").text
    assert "/ledger?customer=anna%40kunde.de" in html and "/ledger?customer=bob%40bau.de" in html


def test_digest_page(client: TestClient) -> None:
    html = client.get("/digest?week=2026-11-18").text
    assert "Wochenbericht KW 47" in html and "Diese Woche gebrochen (1)" in html
    assert client.get("/digest?week=Quatsch").status_code == 400


def test_rebinding_host_is_refused(store: object, env: object) -> None:
    from tests.dashboard.conftest import make_client

    with make_client(store, env, allowed_hosts=["127.0.0.1", "localhost"]) as c:  # type: ignore[arg-type]
        assert c.get("http://evil.example/").status_code == 400
        assert c.get("http://127.0.0.1/").status_code == 200


def test_hostile_quote_is_in_the_raw_database(client: TestClient, ids: dict[str, int]) -> None:
    # Escaping happens on output only: the stored text stays exactly what was written.
    board = client.app.state.dashboard  # type: ignore[attr-defined]
    assert board.store.get(ids["hostile"]).quote == HOSTILE


def test_unusable_database_is_503_not_a_traceback(client: TestClient) -> None:
    client.app.state.dashboard.store.close()  # type: ignore[attr-defined]
    response = client.get("/")
    assert response.status_code == 503
    assert response.text.startswith("Tracker-Datenbank nicht verfügbar") and "Traceback" not in response.text

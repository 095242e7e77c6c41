"""The dashboard's Starlette app: pages, actions (POST + CSRF), charts, ledger, digest and calendar feed."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from server.dashboard import charts, ledger, views
from server.dashboard.drafts import postponement_draft
from server.dashboard.ics import calendar_bytes
from server.dashboard.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    SecurityHeaders,
    Session,
    SessionSigner,
    Tokens,
    csrf_ok,
)
from server.tracker.command import KIND_LABELS, RISK_LABELS
from server.tracker.dates import now_local, parse_user_date
from server.tracker.models import (
    ACTIVE_STATES,
    REOPENABLE,
    STATE_LABELS,
    InvalidTransition,
    PromiseNotFound,
    TrackerError,
)
from server.tracker.store import TrackerStore

ACTIONS = {"kept": "kept", "broken": "broken", "cancel": "cancelled", "postpone": "postponed", "reopen": "open"}
ACTION_LABELS = {"kept": "gehalten", "broken": "gebrochen", "cancel": "absagen", "postpone": "verschieben",
                 "reopen": "wieder öffnen"}
# The confirmation after an action: "Zusage 3 ist jetzt …".
DONE_LABELS = {**STATE_LABELS, "open": "wieder offen"}
MAX_ROWS = 300
MAX_NOTE = 2000
Handler = Callable[["Dashboard", Request, Session], Awaitable[Response]]


def guarded(handler: Handler) -> Callable[[Dashboard, Request], Awaitable[Response]]:
    """Load the session, demand a login when tokens are set, run the handler, store a changed session."""
    @functools.wraps(handler)
    async def wrapper(self: Dashboard, request: Request) -> Response:
        session = self.signer.loads(request.cookies.get(SESSION_COOKIE)) or Session.new()
        if self.tokens.required and session.user is None:
            auth = request.headers.get("authorization", "")
            name = self.tokens.check(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
            if name is None:
                return self.login_required(request, session)
            session.user = name  # an API client: valid for this request only, nothing stored
        response = await handler(self, request, session)
        return self.with_session(response, session)
    return wrapper


def posted(handler: Handler) -> Handler:
    """Reject a POST whose form lacks the session's CSRF token (403) before the handler runs."""
    @functools.wraps(handler)
    async def wrapper(self: Dashboard, request: Request, session: Session) -> Response:
        form = await request.form()
        if not csrf_ok(session, str(form.get(CSRF_FIELD) or "")):
            return self.page(session, "dashboard/error.html.j2", status=403, title="Sicherheitsprüfung",
                             message="Die Sicherheitsprüfung (CSRF) ist fehlgeschlagen. Bitte die Seite neu "
                                     "laden und die Aktion wiederholen.")
        request.state.form = {k: str(v) for k, v in form.items()}
        return await handler(self, request, session)
    return wrapper


@dataclass
class Dashboard:
    """The dashboard's state: the store, the templates, who acts, the accepted tokens."""

    store: TrackerStore
    env: jinja2.Environment
    user: str
    tokens: Tokens = field(default_factory=Tokens)
    clock: Callable[[], datetime] = now_local
    signer: SessionSigner = field(default_factory=SessionSigner)
    feed_cache: tuple[object, bytes] | None = None

    # ----- plumbing
    def actor(self, session: Session) -> str:
        """The name recorded in the history: the token's name, else the configured user."""
        return session.user or self.user

    def page(self, session: Session, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a dashboard template with the session's CSRF token and the user."""
        html = self.env.get_template(name).render(
            csrf=session.csrf, csrf_field=CSRF_FIELD, user=self.actor(session), login=self.tokens.required,
            state_labels=STATE_LABELS, **context)
        return HTMLResponse(html, status_code=status)

    def with_session(self, response: Response, session: Session) -> Response:
        """Set the signed session cookie when the session is new or changed."""
        if session.dirty:
            response.set_cookie(SESSION_COOKIE, self.signer.dumps(session), max_age=SESSION_MAX_AGE,
                                httponly=True, samesite="strict", path="/")
        return response

    def login_required(self, request: Request, session: Session) -> Response:
        """A redirect to the login form for pages, 401 for everything else."""
        if request.method == "GET" and request.url.path != "/calendar.ics":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response: Response = RedirectResponse("/login?" + _query({"next": target}), status_code=303)
        else:
            response = Response("Anmeldung nötig\n", status_code=401, media_type="text/plain; charset=utf-8",
                                headers={"WWW-Authenticate": 'Bearer realm="versprochen"'})
        return self.with_session(response, session)

    def error(self, session: Session, status: int, message: str) -> HTMLResponse:
        """An error page with a German message."""
        return self.page(session, "dashboard/error.html.j2", status=status, title="Fehler", message=message)

    # ----- login
    async def login_form(self, request: Request) -> Response:
        """GET /login."""
        session = self.signer.loads(request.cookies.get(SESSION_COOKIE)) or Session.new()
        return self.with_session(self.page(session, "dashboard/login.html.j2", next=_next(request.query_params
                                                                                              .get("next"))),
                                 session)

    async def login(self, request: Request) -> Response:
        """POST /login: check the CSRF field and the token, then remember the user in the session."""
        session = self.signer.loads(request.cookies.get(SESSION_COOKIE)) or Session.new()
        form = await request.form()
        target = _next(str(form.get("next") or ""))
        if not csrf_ok(session, str(form.get(CSRF_FIELD) or "")):
            return self.with_session(self.error(session, 403, "Sicherheitsprüfung fehlgeschlagen. Bitte die "
                                                              "Anmeldeseite neu laden."), session)
        name = self.tokens.check(str(form.get("token") or ""))
        if name is None:
            response = self.page(session, "dashboard/login.html.j2", status=401, next=target,
                                 message="Das Token stimmt nicht.")
            return self.with_session(response, session)
        # A fresh CSRF token after login, so a token planted before login is worthless.
        fresh = Session.new()
        fresh.user = name
        return self.with_session(RedirectResponse(target, status_code=303), fresh)

    @guarded
    @posted
    async def logout(self, request: Request, session: Session) -> Response:
        """POST /logout."""
        response = RedirectResponse("/login" if self.tokens.required else "/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ----- pages
    @guarded
    async def index(self, request: Request, session: Session) -> Response:
        """GET /: promises, overdue and due soon first, with filters and counts."""
        try:
            filters = views.parse_filters(request.query_params)
        except ValueError as exc:
            filters, error = views.Filters(), str(exc)
        else:
            error = ""
        now = self.clock()

        def load() -> tuple[list[views.Row], list[views.Row]]:
            everything = views.select_rows(self.store, views.Filters(), now)
            return views.select_rows(self.store, filters, now, everything), everything

        rows, everything = await run_in_threadpool(load)
        return self.page(session, "dashboard/index.html.j2", status=400 if error else 200, error=error,
                         rows=rows[:MAX_ROWS], total=len(rows), max_rows=MAX_ROWS, filters=filters,
                         counts=views.count_rows(everything), urgency_labels=views.URGENCY_LABELS,
                         query=_query(filters.query()), action_labels=ACTION_LABELS, states=STATE_LABELS)

    @guarded
    async def promise(self, request: Request, session: Session) -> Response:
        """GET /promise/{id}: details, history and the action forms."""
        promise_id = int(request.path_params["id"])
        found = await run_in_threadpool(self.store.get, promise_id)
        if found is None:
            return self.error(session, 404, f"Keine Zusage mit der Nummer {promise_id}.")
        history = await run_in_threadpool(self.store.history, promise_id)
        done = request.query_params.get("done", "")
        return self.page(session, "dashboard/promise.html.j2", row=views.make_row(found, self.clock()),
                         history=history, action_labels=ACTION_LABELS, kind_labels=KIND_LABELS,
                         risk_labels=RISK_LABELS,
                         done=DONE_LABELS.get(done, ""), active=found.state in ACTIVE_STATES,
                         reopenable=found.state in REOPENABLE)

    @guarded
    @posted
    async def act(self, request: Request, session: Session) -> Response:
        """POST /promise/{id}/{action}: kept, broken, cancel, postpone or reopen, recorded in the history."""
        promise_id, action = int(request.path_params["id"]), request.path_params["action"]
        if action not in ACTIONS:
            return self.error(session, 404, f"Unbekannte Aktion „{action}“.")
        form: dict[str, str] = request.state.form
        note = form.get("note", "").strip()[:MAX_NOTE] or None
        # Reopening withdraws a state; it has no evidence of its own (the old state's stays in the history).
        evidence = (form.get("evidence", "").strip()[:MAX_NOTE] or None) if action != "reopen" else None
        new_due = None
        if action == "postpone":
            try:
                new_due = parse_user_date(form.get("date", ""))
            except ValueError as exc:
                return self.error(session, 400, f"Neues Datum fehlt oder ist ungültig: {exc}")
        before = await run_in_threadpool(self.store.get, promise_id)
        if before is None:
            return self.error(session, 404, f"Keine Zusage mit der Nummer {promise_id}.")
        try:
            after = await run_in_threadpool(functools.partial(
                self.store.set_state, promise_id, ACTIONS[action], by=self.actor(session), evidence=evidence,
                note=note, new_due=new_due))
        except (InvalidTransition, PromiseNotFound) as exc:
            return self.error(session, 409, str(exc))
        except TrackerError as exc:
            return self.error(session, 503, f"Tracker-Datenbank nicht verfügbar: {exc}")
        if action != "postpone":
            return RedirectResponse(f"/promise/{promise_id}?done={after.state}", status_code=303)
        assert after.due is not None
        draft = postponement_draft(self.env, before, after.due)
        return self.page(session, "dashboard/postponed.html.j2", row=views.make_row(after, self.clock()),
                         draft=draft)

    @guarded
    async def stats(self, request: Request, session: Session) -> Response:
        """GET /stats: kept vs. broken per week and per customer as server-side SVG."""
        settled = await run_in_threadpool(self.store.list, state=("kept", "broken"))
        weekly = views.weekly_outcomes(settled, self.clock().date())
        customers = views.customer_outcomes(settled)
        return self.page(session, "dashboard/stats.html.j2", weekly=weekly, customers=customers,
                         weekly_svg=charts.weekly_chart(weekly), customer_svg=charts.customer_chart(customers))

    @guarded
    async def ledger_page(self, request: Request, session: Session) -> Response:
        """GET /ledger?customer=…: the printable customer ledger (without a customer: the customer list)."""
        customer = request.query_params.get("customer", "").strip()
        now = self.clock()
        if not customer:
            everything = await run_in_threadpool(views.select_rows, self.store, views.Filters(), now)
            return self.page(session, "dashboard/customers.html.j2", counts=views.count_rows(everything))
        data = await run_in_threadpool(ledger.build_ledger, self.store, customer, now)
        return self.page(session, "dashboard/ledger.html.j2", ledger=data)

    @guarded
    async def digest(self, request: Request, session: Session) -> Response:
        """GET /digest?week=DATE: the weekly team digest."""
        now = self.clock()
        try:
            day = date.fromisoformat(parse_user_date(request.query_params["week"])[:10]) \
                if request.query_params.get("week") else now.date()
        except ValueError as exc:
            return self.error(session, 400, str(exc))
        data = await run_in_threadpool(ledger.build_digest, self.store, day, now)
        return self.page(session, "dashboard/digest.html.j2", digest=data)

    @guarded
    async def calendar(self, request: Request, session: Session) -> Response:
        """GET /calendar.ics: open promises with a due date as an iCalendar feed."""
        active = await run_in_threadpool(self.store.list, state=ACTIVE_STATES)
        base_url = str(request.base_url)
        # Building events is slow in icalendar (~1.5 ms each); calendar clients poll, the data rarely changes.
        key = (base_url, tuple((p.id, p.state, p.due, p.updated) for p in active))
        if self.feed_cache is None or self.feed_cache[0] != key:
            body = await run_in_threadpool(calendar_bytes, active, base_url=base_url)
            self.feed_cache = (key, body)
        body = self.feed_cache[1]
        return Response(body, media_type="text/calendar; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="zusagen.ics"'})

    async def stylesheet(self, request: Request) -> Response:
        """GET /static/dashboard.css (a team's template folder may override it)."""
        assert self.env.loader is not None
        source, _name, _uptodate = self.env.loader.get_source(self.env, "dashboard/dashboard.css")
        return Response(source, media_type="text/css; charset=utf-8")


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def _next(target: str | None) -> str:
    """A same-site path to go to after login (never another host: no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def _tracker_unavailable(request: Request, exc: Exception) -> Response:
    """A database that is locked, gone or broken is a 503 with the tracker's German message, no traceback."""
    return Response(f"Tracker-Datenbank nicht verfügbar: {exc}\n", status_code=503,
                    media_type="text/plain; charset=utf-8")


def create_app(store: TrackerStore, *, user: str, tokens: Tokens | None = None,
               env: jinja2.Environment | None = None, allowed_hosts: list[str] | None = None,
               clock: Callable[[], datetime] = now_local, signer: SessionSigner | None = None) -> Starlette:
    """The dashboard app over an open store; `allowed_hosts` guards a loopback server against DNS rebinding."""
    if env is None:
        from templates import make_environment

        env = make_environment()
    board = Dashboard(store=store, env=env, user=user, tokens=tokens or Tokens(), clock=clock,
                      signer=signer or SessionSigner())
    routes = [
        Route("/", board.index), Route("/promise/{id:int}", board.promise),
        Route("/promise/{id:int}/{action:str}", board.act, methods=["POST"]),
        Route("/stats", board.stats), Route("/ledger", board.ledger_page), Route("/digest", board.digest),
        Route("/calendar.ics", board.calendar), Route("/static/dashboard.css", board.stylesheet),
        Route("/login", board.login_form, methods=["GET"]), Route("/login", board.login, methods=["POST"]),
        Route("/logout", board.logout, methods=["POST"]),
    ]
    middleware = [Middleware(SecurityHeaders)]
    if allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={TrackerError: _tracker_unavailable})
    app.state.dashboard = board
    return app


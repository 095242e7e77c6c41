"""Dashboard security: access tokens, a signed session cookie carrying the CSRF token, security headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "versprochen_session"
SESSION_MAX_AGE = 12 * 3600
CSRF_FIELD = "csrf"
TOKEN_NAME = re.compile(r"^[\w.@+-]{1,64}$")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# No inline script or style anywhere: the pages need none, so an injected one cannot run.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: only this machine can connect."""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def parse_token(spec: str) -> tuple[str, str]:
    """(user name, secret) from `NAME:SECRET`, or ("", SECRET) for a bare secret; ValueError if unusable."""
    name, sep, secret = spec.partition(":")
    if not sep or not TOKEN_NAME.match(name):
        name, secret = "", spec
    if len(secret) < 8:
        raise ValueError("Token zu kurz: mindestens 8 Zeichen, z. B. aus „openssl rand -hex 16“")
    return name, secret


@dataclass(frozen=True)
class Tokens:
    """The accepted access tokens; each maps to the user name recorded in the history ("" = default user)."""

    by_secret: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Tokens:
        """Tokens from `--token` values (`NAME:SECRET` or `SECRET`)."""
        return cls(dict((secret, name) for name, secret in map(parse_token, specs)))

    @property
    def required(self) -> bool:
        """True when a token is needed to use the dashboard."""
        return bool(self.by_secret)

    def check(self, given: str) -> str | None:
        """The user name for a presented token (compared in constant time), or None."""
        found = None
        for secret, name in self.by_secret.items():
            if hmac.compare_digest(secret.encode(), given.encode()):
                found = name
        return found


@dataclass
class Session:
    """What the signed cookie carries: the CSRF token, and once logged in with a token, who it is."""

    csrf: str
    user: str | None = None  # None: not logged in; "" logged in with an unnamed token
    issued: int = 0
    dirty: bool = False

    @classmethod
    def new(cls) -> Session:
        """A fresh session with a random CSRF token (sent to the browser with the next response)."""
        return cls(csrf=secrets.token_urlsafe(32), issued=int(time.time()), dirty=True)


class SessionSigner:
    """HMAC-SHA256-signed cookie values; the key lives only in this process (restart = log in again)."""

    def __init__(self, key: bytes | None = None) -> None:
        """Sign with `key` (default: 32 random bytes)."""
        self.key = key or secrets.token_bytes(32)

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self.key, payload, hashlib.sha256).hexdigest()

    def dumps(self, session: Session) -> str:
        """The cookie value for a session."""
        data = {"c": session.csrf, "u": session.user, "i": session.issued}
        payload = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")
        return payload.decode() + "." + self._sign(payload)

    def loads(self, value: str | None) -> Session | None:
        """The session in a cookie value, or None when missing, forged, malformed or expired."""
        if not value or "." not in value:
            return None
        payload_text, _dot, signature = value.rpartition(".")
        payload = payload_text.encode()
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
            session = Session(csrf=str(data["c"]), user=data["u"], issued=int(data["i"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.user is not None and not isinstance(session.user, str):
            return None
        if time.time() - session.issued > SESSION_MAX_AGE:
            return None
        return session


def csrf_ok(session: Session, submitted: str | None) -> bool:
    """True when the form's CSRF field equals the session's token."""
    return bool(submitted) and hmac.compare_digest(session.csrf.encode(), str(submitted).encode())


class SecurityHeaders:
    """ASGI middleware adding CSP and the other security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _v in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""CSRF protection of the pages' forms, bound to the session.

Litestar's own middleware (a double-submit cookie) accepts any token it signed together with
its cookie, so a pair taken from one session works in another browser whose cookie can be
set. Here a signed-in browser's token is derived from its session (a keyed digest of the
session's own digest): it works for that session only, and changes when the session does
(sign-in, MFA). Before sign-in there is no session to bind to, so the sign-in form keeps the
double-submit cookie. Templates read the token as Litestar's (`csrf_input`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from registry.runtime import RequestContext, runtime_of

COOKIE = "registry_csrf"
FIELD = "_csrf_token"
HEADER = "x-csrftoken"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Paths whose clients are programs, not browsers with our forms: no CSRF token there (the JSON
# API requires application/json instead, see registry.edge).
NOT_FORMS = ("/api/", "/calendar/", "/schema", "/static/")
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
REFUSED = "CSRF token verification failed"


def _key(secret_key: bytes) -> bytes:
    return hmac.new(secret_key, b"registry/csrf/v2", hashlib.sha256).digest()


def session_token(secret_key: bytes, session: bytes) -> str:
    """The only token a signed-in session's forms are accepted with."""
    return hmac.new(_key(secret_key), b"session:" + session, hashlib.sha256).hexdigest()


def _signed(secret_key: bytes, nonce: str) -> str:
    return nonce + hmac.new(_key(secret_key), b"anonymous:" + nonce.encode(), hashlib.sha256).hexdigest()


def _anonymous_token(secret_key: bytes, cookie: str | None) -> str | None:
    """The sign-in form's token: the cookie's, if we signed it."""
    if cookie is None or len(cookie) != 128:
        return None
    return cookie if hmac.compare_digest(_signed(secret_key, cookie[:64]), cookie) else None


class SessionCSRFMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def should_bypass_for_scope(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        return path.startswith(NOT_FORMS) or path in PROBES

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        runtime = runtime_of(scope["litestar_app"].state)
        ctx: RequestContext = scope["state"]["ctx"]
        request: Request[Any, Any, Any] = Request(scope, receive)
        key = runtime.settings.secret_key
        cookie = request.cookies.get(COOKIE)
        new_cookie: str | None = None
        if ctx.user is not None:
            token = session_token(key, ctx.user.session)
        else:
            token = _anonymous_token(key, cookie) or ""
            if not token:
                token = new_cookie = _signed(key, secrets.token_hex(32))
        if request.method not in SAFE:
            given = request.headers.get(HEADER)
            if given is None and request.content_type[0] in FORMS:
                value = (await request.form()).get(FIELD)
                given = value if isinstance(value, str) else None
            # A new anonymous token was made just now: nothing sent can match it.
            if given is None or new_cookie is not None or not hmac.compare_digest(given, token):
                raise PermissionDeniedException(REFUSED)
        ScopeState.from_scope(scope).csrf_token = token
        if new_cookie is None:
            await next_app(scope, receive, send)
            return
        cookie_header = Cookie(
            key=COOKIE,
            value=new_cookie,
            path="/",
            secure=runtime.settings.cookie_secure,
            httponly=True,
            samesite="strict",
        ).to_header(header="")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie_header)
            await send(message)

        await next_app(scope, receive, send_with_cookie)

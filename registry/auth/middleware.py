"""Per request: one pooled connection, the caller's session, and the request context."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from registry.auth import sessions
from registry.runtime import RequestContext, runtime_of


class SessionMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    # Liveness, metrics and the OpenAPI document need no database and no session.
    exclude_path_pattern = ("^/healthz$", "^/metrics$", "^/schema")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        runtime = runtime_of(scope["litestar_app"].state)
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        now = runtime.clock.now()
        client = scope.get("client")
        async with runtime.db_pool().acquire() as conn:
            token = connection.cookies.get(sessions.COOKIE)
            user = await sessions.authenticate(conn, runtime, token, now) if token else None
            state = scope["state"]
            state["db"] = conn
            state["ctx"] = RequestContext(
                now=now, ip=client[0] if client else None, request_id=state.get("request_id", ""), user=user
            )
            await next_app(scope, receive, send)

"""Per request: one pooled connection, the caller's session, and the request context."""

from __future__ import annotations

import asyncio
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

    def __init__(self) -> None:
        self._admission: asyncio.Semaphore | None = None

    def _admit(self, pool_max_size: int) -> asyncio.Semaphore:
        # A request holds its pooled connection throughout and may need one more at a time:
        # failures and refusals are audited on a connection of their own, so the rollback
        # cannot erase them. Admitting at most half the pool at once keeps that second
        # connection available; otherwise a burst of failed sign-ins that holds every
        # connection waits for itself forever.
        if self._admission is None:
            self._admission = asyncio.Semaphore(max(1, pool_max_size // 2))
        return self._admission

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        runtime = runtime_of(scope["litestar_app"].state)
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        client = scope.get("client")
        async with self._admit(runtime.settings.pool_max_size), runtime.db_pool().acquire() as conn:
            now = runtime.clock.now()
            token = connection.cookies.get(sessions.COOKIE)
            user = await sessions.authenticate(conn, runtime, token, now) if token else None
            state = scope["state"]
            state["db"] = conn
            state["ctx"] = RequestContext(
                now=now, ip=client[0] if client else None, request_id=state.get("request_id", ""), user=user
            )
            await next_app(scope, receive, send)

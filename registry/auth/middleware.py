"""Per request: the caller's session and the request context; afterwards, the writes that
must outlive the request's transaction.

A signed-in request borrows one pooled connection (registry.db.pool.RequestConnection): its
session is checked on it, a handler that takes the request's connection runs on it, and the
deferred writes (failed attempts, refusals) run on it once the handler's transaction has
ended, before the answer leaves. For any other handler (one that hashes a password, for one)
it is given back before the handler runs. A request never waits for a second connection while
holding a first, so no burst of requests can exhaust the pool against itself; and its body has
arrived whole before it borrows (registry.edge), so no slow upload holds one either."""

from __future__ import annotations

import asyncpg
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from registry.auth import sessions
from registry.db.pool import TAKES_CONNECTION, RequestConnection, lost_is_unavailable
from registry.db.pool import connection as pooled
from registry.runtime import Deferred, RequestContext, Runtime, runtime_of


class SessionMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    # Routes that need no database and no session (liveness, metrics, the OpenAPI document)
    # say so with this key in their opt.
    exclude_opt_key = "no_session"

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        runtime = runtime_of(scope["litestar_app"].state)
        client = scope.get("client")
        now = runtime.clock.now()
        token = session_token(scope)
        state = scope["state"]
        lease = RequestConnection(runtime, state)
        try:
            user = None
            if token:
                conn = await lease.borrow()
                with lost_is_unavailable(conn):
                    user = await sessions.authenticate(conn, runtime, token, now)
                if scope["route_handler"].opt.get(TAKES_CONNECTION):
                    lease.lend()
                else:
                    await lease.give_back()
            ctx = RequestContext(
                now=now, ip=client[0] if client else None, request_id=state.get("request_id", ""), user=user
            )
            state["ctx"] = ctx

            async def send_after_deferred(message: Message) -> None:
                if message["type"] == "http.response.start":
                    if ctx.deferred:
                        await _run_deferred(runtime, ctx, lease)
                    await lease.give_back()
                await send(message)

            await next_app(scope, receive, send_after_deferred)
        finally:
            await lease.give_back()


def session_token(scope: Scope) -> str | None:
    """The session cookie's value, read from the raw Cookie headers: for a token of ours
    (URL-safe characters, never quoted) what Litestar's cookie map would hold, without building
    the request's header and cookie maps on every request. Sent twice, the first non-empty value
    counts (Litestar's map read the first Cookie header only and kept its last value)."""
    for name, value in scope["headers"]:
        if name == b"cookie":
            for pair in value.decode("latin-1").split(";"):
                key, _, found = pair.partition("=")
                if key.strip() == sessions.COOKIE and (token := found.strip()):
                    return token
    return None


async def _run_deferred(runtime: Runtime, ctx: RequestContext, lease: RequestConnection) -> None:
    """Each deferred write in a transaction of its own: on the request's connection if it is
    still fit, else (once that one is given back) on another."""
    actions = list(ctx.deferred)
    ctx.deferred.clear()
    conn = lease.fit()
    if conn is not None:
        await _each_in_transaction(conn, actions)
        return
    await lease.give_back()
    async with pooled(runtime) as fresh:
        await _each_in_transaction(fresh, actions)


async def _each_in_transaction(conn: asyncpg.Connection, actions: list[Deferred]) -> None:
    for action in actions:
        async with conn.transaction():
            await action(conn)

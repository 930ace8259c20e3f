"""Per request: the caller's session and the request context; afterwards, the writes that
must outlive the request's transaction.

No connection is held across the request: one is borrowed to check the session, the handler's
transaction borrows its own, and the deferred writes (failed attempts, refusals) borrow one
after that transaction has ended. A request never waits for a second connection while holding
a first, so no burst of requests can exhaust the pool against itself."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from registry.auth import sessions
from registry.db.pool import connection as pooled
from registry.runtime import RequestContext, Runtime, runtime_of


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
        user = None
        if token:
            async with pooled(runtime) as conn:
                user = await sessions.authenticate(conn, runtime, token, now)
        state = scope["state"]
        ctx = RequestContext(
            now=now, ip=client[0] if client else None, request_id=state.get("request_id", ""), user=user
        )
        state["ctx"] = ctx

        async def send_after_deferred(message: Message) -> None:
            if message["type"] == "http.response.start" and ctx.deferred:
                await _run_deferred(runtime, ctx)
            await send(message)

        await next_app(scope, receive, send_after_deferred)


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


async def _run_deferred(runtime: Runtime, ctx: RequestContext) -> None:
    actions = list(ctx.deferred)
    ctx.deferred.clear()
    async with pooled(runtime) as conn:
        for action in actions:
            async with conn.transaction():
                await action(conn)

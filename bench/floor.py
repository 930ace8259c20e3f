"""The floor of the registry's read and list: the work a signed-in, audited read of one persona,
or a page of the personas list, cannot skip, served on bare Litestar with nothing else around it.

    REGISTRY_DATABASE_URL=... REGISTRY_SECRET_KEY=... uvicorn bench.floor:app --factory

The registry's own paths, so each bench case asks the floor what it asks the registry:

GET /api/personas/{id}  the session checked (`registry.auth.sessions.authenticate`, its one
                        statement) and the persona read with `registry.personas.identity.get`:
                        the registry's own read, its audit event written by the read's
                        statement, the identity decrypted.
GET /api/personas       the session checked, then `registry.lifecycle.listing.page`: one keyset
                        page of what the caller may see (need-to-know), each active or approved
                        persona's gate judged (`?status=` filters, as on the registry).
GET /page               answers 200 (the bench waits for it before measuring)

Each on one pooled connection, the answer encoded by msgspec. No middleware, no dependency
injection, no permission check, no response headers beyond Litestar's: set beside the bare app
(`bench/bare.py`) and the registry, it shows how much of each request's cost is the work itself
and how much the registry's HTTP layers add around it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
import msgspec
from litestar import Litestar, Request, Response, get
from litestar.datastructures import State

from registry.app import build_runtime
from registry.auth import sessions
from registry.db.pool import create_pool
from registry.errors import NotFound
from registry.lifecycle import listing
from registry.personas import identity
from registry.personas.routes import Status
from registry.runtime import RequestContext
from registry.settings import Settings

Work = Callable[[asyncpg.Connection, RequestContext], Awaitable[object]]


async def _signed_in(request: Request[None, None, State], work: Work) -> Response[bytes]:
    """`work` for the session's user, on the connection the session was checked on."""
    state = request.app.state
    runtime = state.runtime
    now = runtime.clock.now()
    token = request.cookies.get(sessions.COOKIE, "")
    async with state.pool.acquire() as conn:
        user = await sessions.authenticate(conn, runtime, token, now)
        if user is None:
            return Response(b'{"detail":"sign in"}', status_code=401, media_type="application/json")
        ctx = RequestContext(now=now, ip=request.client.host if request.client else None, request_id="", user=user)
        try:
            answer = await work(conn, ctx)
        except NotFound:
            return Response(b'{"detail":"not found"}', status_code=404, media_type="application/json")
    return Response(msgspec.json.encode(answer), media_type="application/json")


@get("/api/personas/{persona_id:uuid}")
async def read(request: Request[None, None, State], persona_id: UUID) -> Response[bytes]:
    runtime = request.app.state.runtime
    return await _signed_in(request, lambda conn, ctx: identity.get(conn, runtime, ctx, persona_id))


@get("/api/personas")
async def listed(request: Request[None, None, State], status: Status = None) -> Response[bytes]:
    runtime = request.app.state.runtime
    return await _signed_in(
        request,
        lambda conn, ctx: listing.page(conn, runtime, ctx, status=status, investigation_id=None, cursor=None, limit=50),
    )


@get("/page")
async def page() -> dict[str, bool]:
    return {"ok": True}


def app() -> Litestar:
    settings = Settings.from_env()
    url = settings.database_url
    if url is None:
        raise SystemExit("Set REGISTRY_DATABASE_URL: the floor serves the database the registry does.")

    @asynccontextmanager
    async def lifespan(application: Litestar) -> AsyncIterator[None]:
        application.state.runtime = build_runtime(settings)
        application.state.pool = await create_pool(url, 2, settings.pool_max_size)
        try:
            yield
        finally:
            await application.state.pool.close()

    return Litestar([read, listed, page], lifespan=[lifespan])

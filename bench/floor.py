"""The floor of the registry's read: the work a signed-in, audited read of one persona cannot
skip, served on bare Litestar with nothing else around it.

    REGISTRY_DATABASE_URL=... REGISTRY_SECRET_KEY=... uvicorn bench.floor:app --factory

GET /fetch/{id}   the session checked (`registry.auth.sessions.authenticate`, its one
                  statement) and the persona read with `registry.personas.identity.get`: the
                  registry's own read, its audit event written by the read's statement,
                  the identity decrypted; on one pooled connection, the answer encoded by msgspec.
GET /page         answers 200 (the bench waits for it before measuring)

No middleware, no dependency injection, no permission check, no response headers beyond
Litestar's: set beside the bare fetch (`bench/bare.py`) and the registry, it shows how much of
the read's cost is the work itself and how much the registry's HTTP layers add around it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import msgspec
from litestar import Litestar, Request, Response, get
from litestar.datastructures import State

from registry.app import build_runtime
from registry.auth import sessions
from registry.db.pool import create_pool
from registry.errors import NotFound
from registry.personas import identity
from registry.runtime import RequestContext
from registry.settings import Settings


@get("/fetch/{persona_id:uuid}")
async def fetch(request: Request[None, None, State], state: State, persona_id: UUID) -> Response[bytes]:
    runtime = state.runtime
    now = runtime.clock.now()
    token = request.cookies.get(sessions.COOKIE, "")
    async with state.pool.acquire() as conn:
        user = await sessions.authenticate(conn, runtime, token, now)
        if user is None:
            return Response(b'{"detail":"sign in"}', status_code=401, media_type="application/json")
        ctx = RequestContext(now=now, ip=request.client.host if request.client else None, request_id="", user=user)
        try:
            detail = await identity.get(conn, runtime, ctx, persona_id)
        except NotFound:
            return Response(b'{"detail":"not found"}', status_code=404, media_type="application/json")
    return Response(msgspec.json.encode(detail), media_type="application/json")


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

    return Litestar([fetch, page], lifespan=[lifespan])

"""The bare app the registry is measured against: Litestar + asyncpg on the same database and
the same pool size, no session, no need-to-know, no audit, no decryption.

    BARE_DATABASE_URL=... BARE_POOL_SIZE=20 uvicorn bench.bare:app --factory

GET /fetch/{id}   one persona by primary key (the columns the registry's read selects)
GET /page         a 50-row keyset page of the department's personas, newest first (?status= to
                  filter, as the registry's list)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar, Response, get
from litestar.datastructures import State

FETCH = """
SELECT p.id, p.codename, p.status, p.investigation_id, p.handler_id, p.identity, p.approved_at,
       p.approval_expires_at, p.created_at
  FROM personas p WHERE p.id = $1
"""
# The department's (root unit's) personas: the walk of the unit's index (personas_unit_page,
# personas_unit_status_page) that the registry's unit-wide list makes, without need-to-know.
PAGE = """
SELECT p.id, p.codename, p.status, p.investigation_id, p.approval_expires_at, p.created_at
  FROM personas p WHERE p.unit_id = (SELECT u.id FROM units u WHERE u.parent_id IS NULL){where}
 ORDER BY p.created_at DESC, p.id DESC LIMIT 50
"""


def _row(record: asyncpg.Record) -> dict[str, Any]:
    out = dict(record)
    if isinstance(out.get("identity"), bytes):
        out["identity"] = out["identity"].hex()
    return out


@get("/fetch/{persona_id:uuid}")
async def fetch(state: State, persona_id: UUID) -> Response[dict[str, Any]]:
    pool: asyncpg.Pool = state.pool
    async with pool.acquire() as conn:
        row = await conn.fetchrow(FETCH, persona_id)
    if row is None:
        return Response({"detail": "not found"}, status_code=404)
    return Response(_row(row))


@get("/page")
async def page(state: State, status: str | None = None) -> dict[str, list[dict[str, Any]] | datetime | None]:
    pool: asyncpg.Pool = state.pool
    async with pool.acquire() as conn:
        if status is None:
            rows = await conn.fetch(PAGE.format(where=""))
        else:
            rows = await conn.fetch(PAGE.format(where=" AND p.status = $1"), status)
    return {"items": [_row(r) for r in rows], "next": rows[-1]["created_at"] if rows else None}


def app() -> Litestar:
    url = os.environ["BARE_DATABASE_URL"]
    size = int(os.environ.get("BARE_POOL_SIZE", "20"))

    @asynccontextmanager
    async def lifespan(application: Litestar) -> AsyncIterator[None]:
        application.state.pool = await asyncpg.create_pool(url, min_size=2, max_size=size)
        try:
            yield
        finally:
            await application.state.pool.close()

    return Litestar([fetch, page], lifespan=[lifespan])

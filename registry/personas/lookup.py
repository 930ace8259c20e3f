"""The one way to fetch a persona the caller may see: outside need-to-know it does not exist."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from registry.errors import NotFound
from registry.personas import repo
from registry.runtime import RequestContext, Runtime

NOT_FOUND = "No such persona, or it is outside your need-to-know."


async def visible_persona(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID
) -> asyncpg.Record:
    row = await repo.get_visible(conn, persona_id, ctx.me.id, runtime.permissions.unit_wide_roles)
    if row is None:
        raise NotFound(NOT_FOUND)
    return row

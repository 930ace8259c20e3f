"""The platform catalog: the sites personas may be used on."""

from __future__ import annotations

import asyncpg
import msgspec

from registry.audit.service import record
from registry.errors import Conflict
from registry.platforms import repo
from registry.platforms.schemas import PlatformCreate, PlatformList, PlatformOut
from registry.runtime import RequestContext


async def create(conn: asyncpg.Connection, ctx: RequestContext, data: PlatformCreate) -> PlatformOut:
    row = await repo.insert(conn, data.name.strip(), data.url, data.tos_url, ctx.now)
    if row is None:
        raise Conflict(f"A platform named {data.name!r} is already in the catalog.", field="name")
    await record(
        conn, ctx, "platform.create", target_type="platform", target_id=row["id"], details={"name": row["name"]}
    )
    return msgspec.convert(dict(row), PlatformOut)


async def list_all(conn: asyncpg.Connection) -> PlatformList:
    return PlatformList(items=[msgspec.convert(dict(r), PlatformOut) for r in await repo.list_all(conn)])

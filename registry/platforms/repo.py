"""SQL for the platform catalog."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def insert(conn: asyncpg.Connection, name: str, url: str, tos_url: str, now: datetime) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        INSERT INTO platforms (name, url, tos_url, created_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT DO NOTHING
        RETURNING id, name, url, tos_url
        """,
        name,
        url,
        tos_url,
        now,
    )


async def list_all(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch("SELECT id, name, url, tos_url FROM platforms ORDER BY lower(name)")
    return rows


async def exists(conn: asyncpg.Connection, platform_id: UUID) -> bool:
    found: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM platforms WHERE id = $1)", platform_id)
    return found

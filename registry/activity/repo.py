"""SQL for the activity log (append-only in the database)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def usable(conn: asyncpg.Connection, persona_id: UUID, platform_id: UUID, equipment_id: UUID) -> asyncpg.Record:
    """Whether the device is assigned to the persona now and the persona has an authorized account
    on the platform."""
    row: asyncpg.Record = await conn.fetchrow(
        """
        SELECT EXISTS (SELECT 1 FROM equipment_assignments
                        WHERE persona_id = $1 AND equipment_id = $3 AND released_at IS NULL) AS device_assigned,
               EXISTS (SELECT 1 FROM platform_accounts
                        WHERE persona_id = $1 AND platform_id = $2 AND status = 'authorized') AS account_authorized
        """,
        persona_id,
        platform_id,
        equipment_id,
    )
    return row


async def insert(
    conn: asyncpg.Connection,
    *,
    activity_id: UUID,
    persona_id: UUID,
    occurred_at: datetime,
    platform_id: UUID,
    equipment_id: UUID,
    summary: bytes,
    me: UUID,
    now: datetime,
    warming: bool = False,
) -> None:
    await conn.execute(
        """
        INSERT INTO activity_log (id, persona_id, occurred_at, platform_id, equipment_id, summary, recorded_by,
                                  recorded_at, warming)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        activity_id,
        persona_id,
        occurred_at,
        platform_id,
        equipment_id,
        summary,
        me,
        now,
        warming,
    )


_ENTRY = """
    SELECT a.id, a.persona_id, a.occurred_at, pl.name AS platform, e.asset_tag, a.summary, a.warming,
           u.username AS recorded_by, a.recorded_at
      FROM activity_log a
      JOIN platforms pl ON pl.id = a.platform_id
      JOIN equipment e ON e.id = a.equipment_id
      JOIN users u ON u.id = a.recorded_by
"""


async def get(conn: asyncpg.Connection, activity_id: UUID) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(f"{_ENTRY} WHERE a.id = $1", activity_id)
    return row


async def for_persona(conn: asyncpg.Connection, persona_id: UUID, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"{_ENTRY} WHERE a.persona_id = $1 ORDER BY a.occurred_at DESC, a.id DESC LIMIT $2", persona_id, limit
    )
    return rows


async def for_personas_since(
    conn: asyncpg.Connection, persona_ids: list[UUID], since: datetime, limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""{_ENTRY} WHERE a.persona_id = ANY($1::uuid[]) AND a.occurred_at >= $2
            ORDER BY a.occurred_at DESC, a.id DESC LIMIT $3""",
        persona_ids,
        since,
        limit,
    )
    return rows

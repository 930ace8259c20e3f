"""SQL for the platform catalog."""

from __future__ import annotations

from datetime import date, datetime
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


_REVIEW = """
    tr.id AS review_id, tr.reviewed_on, tr.tos_version, tr.prohibits_false_identity, tr.prohibits_automation,
    tr.risk, tr.notes, ru.username AS reviewed_by
"""
_CURRENT = """
    LEFT JOIN LATERAL (SELECT * FROM tos_reviews WHERE platform_id = pl.id
                        ORDER BY reviewed_on DESC, created_at DESC LIMIT 1) tr ON true
    LEFT JOIN users ru ON ru.id = tr.reviewed_by
"""


async def list_all(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every platform with its current (latest) terms-of-service review."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT pl.id, pl.name, pl.url, pl.tos_url, {_REVIEW} FROM platforms pl {_CURRENT} ORDER BY lower(pl.name)"
    )
    return rows


async def get(conn: asyncpg.Connection, platform_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT pl.id, pl.name, pl.url, pl.tos_url, {_REVIEW} FROM platforms pl {_CURRENT} WHERE pl.id = $1",
        platform_id,
    )


async def reviews(conn: asyncpg.Connection, platform_id: UUID | None) -> list[asyncpg.Record]:
    """Every review (of one platform, or all), newest first as the current one is chosen."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT tr.platform_id, {_REVIEW}
          FROM tos_reviews tr LEFT JOIN users ru ON ru.id = tr.reviewed_by
         WHERE $1::uuid IS NULL OR tr.platform_id = $1
         ORDER BY tr.platform_id, tr.reviewed_on DESC, tr.created_at DESC
        """,
        platform_id,
    )
    return rows


async def add_review(
    conn: asyncpg.Connection,
    platform_id: UUID,
    *,
    reviewed_on: date,
    tos_version: str,
    prohibits_false_identity: bool,
    prohibits_automation: bool,
    risk: str,
    notes: str,
    me: UUID,
    now: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO tos_reviews (platform_id, reviewed_on, tos_version, prohibits_false_identity,
                                 prohibits_automation, risk, notes, reviewed_by, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        platform_id,
        reviewed_on,
        tos_version,
        prohibits_false_identity,
        prohibits_automation,
        risk,
        notes,
        me,
        now,
    )


async def has_live_account(conn: asyncpg.Connection, persona_id: UUID, platform_id: UUID) -> bool:
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM platform_accounts
                        WHERE persona_id = $1 AND platform_id = $2 AND status IN ('requested', 'authorized'))
        """,
        persona_id,
        platform_id,
    )
    return found


async def acknowledge(
    conn: asyncpg.Connection, persona_id: UUID, review_id: UUID, handler_id: UUID, now: datetime
) -> datetime:
    """Idempotent: acknowledging the same review twice keeps the first time."""
    at: datetime = await conn.fetchval(
        """
        INSERT INTO tos_acknowledgements (persona_id, tos_review_id, handler_id, acknowledged_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (persona_id, tos_review_id, handler_id)
        DO UPDATE SET acknowledged_at = tos_acknowledgements.acknowledged_at
        RETURNING acknowledged_at
        """,
        persona_id,
        review_id,
        handler_id,
        now,
    )
    return at


async def exists(conn: asyncpg.Connection, platform_id: UUID) -> bool:
    found: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM platforms WHERE id = $1)", platform_id)
    return found

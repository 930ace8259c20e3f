"""SQL for the internal-affairs listing of one officer. Deliberately outside need-to-know: the
designated investigator sees codenames and dates of every persona the officer touched."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def officer(conn: asyncpg.Connection, user_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT id, username, display_name FROM users WHERE id = $1", user_id)


async def personas(conn: asyncpg.Connection, user_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        WITH touched AS (
            SELECT p.id, 'requested' AS part FROM personas p WHERE p.requested_by = $1
            UNION SELECT p.id, 'handled' FROM personas p WHERE p.handler_id = $1
            UNION SELECT h.persona_id, 'received_by_handover' FROM persona_history h
                   WHERE h.action = 'handover' AND h.details->>'to_user_id' = $1::text
            UNION SELECT h.persona_id, 'handed_over' FROM persona_history h
                   WHERE h.action = 'handover' AND h.details->>'from_user_id' = $1::text
            UNION SELECT h.persona_id, 'approved' FROM persona_history h
                   WHERE h.action IN ('approve', 'renew') AND h.actor_id = $1
        )
        SELECT p.codename, i.case_number, p.status, p.created_at,
               array_agg(DISTINCT t.part ORDER BY t.part) AS parts,
               (SELECT coalesce(jsonb_agg(jsonb_build_object('action', h.action, 'at', h.at) ORDER BY h.at, h.id), '[]')
                  FROM persona_history h
                 WHERE h.persona_id = p.id
                   AND (h.actor_id = $1 OR h.details->>'to_user_id' = $1::text
                        OR h.details->>'from_user_id' = $1::text)) AS dates
          FROM touched t
          JOIN personas p ON p.id = t.id
          JOIN investigations i ON i.id = p.investigation_id
         GROUP BY p.id, i.case_number
         ORDER BY p.created_at, p.codename
        """,
        user_id,
    )
    return rows


async def accounts(conn: asyncpg.Connection, user_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        WITH touched AS (
            SELECT a.id, 'requested' AS part FROM platform_accounts a WHERE a.requested_by = $1
            UNION SELECT a.id, 'of_a_persona_handled' FROM platform_accounts a
                   JOIN personas p ON p.id = a.persona_id WHERE p.handler_id = $1
            UNION SELECT a.id, 'authorized' FROM platform_accounts a WHERE a.authorized_by = $1
        )
        SELECT p.codename, pl.name AS platform, a.status, a.created_at, a.authorized_at,
               array_agg(DISTINCT t.part ORDER BY t.part) AS parts
          FROM touched t
          JOIN platform_accounts a ON a.id = t.id
          JOIN personas p ON p.id = a.persona_id
          JOIN platforms pl ON pl.id = a.platform_id
         GROUP BY a.id, p.codename, pl.name
         ORDER BY a.created_at, p.codename
        """,
        user_id,
    )
    return rows

"""SQL for investigations; every read filters by need-to-know (registry.access)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from registry.access import in_chain, investigation_visible

_SUMMARY = (
    "i.id, i.case_number, i.title, i.status, i.authorized_until, i.unit_id,"
    " (SELECT un.name FROM units un WHERE un.id = i.unit_id) AS unit_name"
)


async def insert(
    conn: asyncpg.Connection, fields: dict[str, str], opened_by: UUID, unit_id: UUID, now: datetime
) -> asyncpg.Record | None:
    """None when the case number is already registered."""
    return await conn.fetchrow(
        """
        INSERT INTO investigations (case_number, title, purpose, necessity, proportionality,
                                    collateral_intrusion, opened_by, created_at, unit_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (case_number) DO NOTHING
        RETURNING id, status
        """,
        fields["case_number"],
        fields["title"],
        fields["purpose"],
        fields["necessity"],
        fields["proportionality"],
        fields["collateral_intrusion"],
        opened_by,
        now,
        unit_id,
    )


async def get_visible(
    conn: asyncpg.Connection, investigation_id: UUID, me: UUID, unit_roles: list[str], wide_roles: list[str]
) -> asyncpg.Record | None:
    """`unit_roles`: the unit chain's roles; `wide_roles`: roles that see every investigation."""
    return await conn.fetchrow(
        f"""
        SELECT i.*, o.username AS opened_by_name, a.username AS authorized_by_name,
               (SELECT un.name FROM units un WHERE un.id = i.unit_id) AS unit_name,
               {in_chain("i.unit_id", "$2", "$3")} AS in_chain,
               (SELECT username FROM users WHERE id = i.refused_by) AS refused_by_name,
               coalesce((SELECT jsonb_agg(jsonb_build_object('user_id', u.id, 'username', u.username,
                                                             'display_name', u.display_name)
                                          ORDER BY u.username)
                           FROM investigation_members m JOIN users u ON u.id = m.user_id
                          WHERE m.investigation_id = i.id), '[]') AS members
          FROM investigations i
          JOIN users o ON o.id = i.opened_by
          LEFT JOIN users a ON a.id = i.authorized_by
         WHERE i.id = $1 AND {investigation_visible("i", "$2", "$3", "$4")}
        """,
        investigation_id,
        me,
        unit_roles,
        wide_roles,
    )


async def list_visible(
    conn: asyncpg.Connection, me: UUID, unit_roles: list[str], wide_roles: list[str]
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_SUMMARY} FROM investigations i
         WHERE {investigation_visible("i", "$1", "$2", "$3")}
         ORDER BY i.created_at DESC, i.id DESC
         LIMIT 500
        """,
        me,
        unit_roles,
        wide_roles,
    )
    return rows


async def add_member(
    conn: asyncpg.Connection, investigation_id: UUID, user_id: UUID, added_by: UUID, now: datetime
) -> bool:
    row = await conn.fetchrow(
        """
        INSERT INTO investigation_members (investigation_id, user_id, added_by, added_at)
        SELECT $1, u.id, $3, $4 FROM users u WHERE u.id = $2 AND u.active
        ON CONFLICT DO NOTHING
        RETURNING user_id
        """,
        investigation_id,
        user_id,
        added_by,
        now,
    )
    return row is not None


async def non_members(conn: asyncpg.Connection, investigation_id: UUID) -> list[asyncpg.Record]:
    """Active users not yet on the investigation's team, by name: whom its team can take."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT u.id AS user_id, u.username, u.display_name FROM users u
         WHERE u.active
           AND NOT EXISTS (SELECT 1 FROM investigation_members m WHERE m.investigation_id = $1 AND m.user_id = u.id)
         ORDER BY u.display_name, u.username
        """,
        investigation_id,
    )
    return rows


async def user_exists(conn: asyncpg.Connection, user_id: UUID) -> bool:
    found: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND active)", user_id)
    return found


async def authorize(
    conn: asyncpg.Connection, investigation_id: UUID, me: UUID, now: datetime, until: datetime, note: str | None
) -> asyncpg.Record | None:
    """Guarded: only by someone other than the opener. Renewing an authorization is the same
    step taken again."""
    return await conn.fetchrow(
        """
        UPDATE investigations
           SET status = 'authorized', authorized_by = $2, authorized_at = $3, authorized_until = $4,
               authorization_note = $5
         WHERE id = $1 AND opened_by <> $2 AND status <> 'refused'
        RETURNING id, status, authorized_until
        """,
        investigation_id,
        me,
        now,
        until,
        note,
    )


async def refuse(
    conn: asyncpg.Connection, investigation_id: UUID, me: UUID, now: datetime, reason: str
) -> asyncpg.Record | None:
    """Guarded: only by someone other than the opener, only while not currently authorized."""
    return await conn.fetchrow(
        """
        UPDATE investigations
           SET status = 'refused', refused_by = $2, refused_at = $3, refusal_reason = $4
         WHERE id = $1 AND opened_by <> $2 AND status <> 'refused'
           AND (authorized_until IS NULL OR authorized_until <= $3)
        RETURNING id, status
        """,
        investigation_id,
        me,
        now,
        reason,
    )


async def awaiting_authorization(
    conn: asyncpg.Connection, me: UUID, unit_roles: list[str], wide_roles: list[str], now: datetime
) -> list[asyncpg.Record]:
    """Investigations without a current authorization; whether the caller opened each."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_SUMMARY}, o.display_name AS opened_by, (i.opened_by = $1) AS own,
               coalesce(i.authorized_until, i.created_at) AS waiting_since
          FROM investigations i JOIN users o ON o.id = i.opened_by
         WHERE {investigation_visible("i", "$1", "$2", "$4")}
           AND (i.authorized_until IS NULL OR i.authorized_until <= $3) AND i.status <> 'refused'
         ORDER BY waiting_since, i.id
         LIMIT 500
        """,
        me,
        unit_roles,
        now,
        wide_roles,
    )
    return rows

"""SQL for user accounts."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

_COLUMNS = """
    id, username, display_name, email, roles, active, locked_at,
    totp_secret IS NOT NULL AS mfa_enrolled, created_at
"""


async def insert(
    conn: asyncpg.Connection,
    username: str,
    display_name: str,
    roles: list[str],
    password_hash: str,
    now: datetime,
    email: str | None = None,
) -> asyncpg.Record | None:
    """None if the username is taken."""
    return await conn.fetchrow(
        f"""
        INSERT INTO users (username, display_name, roles, password_hash, created_at, updated_at, email)
        VALUES ($1, $2, $3, $4, $5, $5, $6)
        ON CONFLICT (username) DO NOTHING
        RETURNING {_COLUMNS}
        """,
        username,
        display_name,
        roles,
        password_hash,
        now,
        email,
    )


async def get(conn: asyncpg.Connection, user_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id)


async def list_all(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(f"SELECT {_COLUMNS} FROM users ORDER BY username")
    return rows


async def update(
    conn: asyncpg.Connection,
    user_id: UUID,
    roles: list[str] | None,
    active: bool | None,
    display_name: str | None,
    now: datetime,
    email: str | None = None,
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        UPDATE users SET roles = coalesce($2, roles), active = coalesce($3, active),
                         display_name = coalesce($4, display_name), email = coalesce($6, email), updated_at = $5
         WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        user_id,
        roles,
        active,
        display_name,
        now,
        email,
    )


async def unlock(conn: asyncpg.Connection, user_id: UUID, now: datetime) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        UPDATE users SET failed_attempts = 0, locked_at = NULL, updated_at = $2 WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        user_id,
        now,
    )


async def reset_mfa(conn: asyncpg.Connection, user_id: UUID, now: datetime) -> asyncpg.Record | None:
    await conn.execute("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
    return await conn.fetchrow(
        f"""
        UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL, updated_at = $2
         WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        user_id,
        now,
    )

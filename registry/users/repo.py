"""SQL for user accounts."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from registry.access import member_units

_COLUMNS = """
    id, username, display_name, email, roles, active, locked_at,
    totp_secret IS NOT NULL AS mfa_enrolled, created_at, password_change_required, mfa_vouched
"""
# What is waiting on a second person: roles proposed, and the enrollment gate's state.
_FULL = f"""
    {_COLUMNS},
    coalesce((SELECT array_agg(DISTINCT r ORDER BY r) FROM role_grants g, unnest(g.roles) r
               WHERE g.user_id = users.id AND g.status = 'pending'), '{{}}') AS pending_roles,
    (SELECT CASE WHEN e.confirmed_at IS NULL THEN 'awaiting_confirmation' ELSE 'code_issued' END
       FROM enrollment_gates e WHERE e.user_id = users.id) AS enrollment_gate,
    ARRAY(SELECT x.unit_id FROM {member_units("users.id")} x(unit_id) ORDER BY 1) AS unit_ids
"""


async def insert(
    conn: asyncpg.Connection,
    username: str,
    display_name: str,
    roles: list[str],
    password_hash: str,
    now: datetime,
    email: str | None = None,
    *,
    temporary: bool = False,
) -> UUID | None:
    """None if the username is taken. `temporary`: an administrator chose the password, so it
    must be replaced at first sign-in and the authenticator enrolled with it is not vouched for."""
    user_id: UUID | None = await conn.fetchval(
        """
        INSERT INTO users (username, display_name, roles, password_hash, created_at, updated_at, email,
                           password_change_required, mfa_vouched)
        VALUES ($1, $2, $3, $4, $5, $5, $6, $7, NOT $7)
        ON CONFLICT (username) DO NOTHING
        RETURNING id
        """,
        username,
        display_name,
        roles,
        password_hash,
        now,
        email,
        temporary,
    )
    return user_id


async def get(conn: asyncpg.Connection, user_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_FULL} FROM users WHERE id = $1", user_id)


async def list_all(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(f"SELECT {_FULL} FROM users ORDER BY username")
    return rows


async def update(
    conn: asyncpg.Connection,
    user_id: UUID,
    roles: list[str] | None,
    active: bool | None,
    display_name: str | None,
    now: datetime,
    email: str | None = None,
) -> bool:
    """False if there is no such user."""
    found = await conn.fetchval(
        """
        UPDATE users SET roles = coalesce($2, roles), active = coalesce($3, active),
                         display_name = coalesce($4, display_name), email = coalesce($6, email), updated_at = $5
         WHERE id = $1
        RETURNING true
        """,
        user_id,
        roles,
        active,
        display_name,
        now,
        email,
    )
    return found is True


async def unlock(conn: asyncpg.Connection, user_id: UUID, now: datetime) -> bool:
    found = await conn.fetchval(
        "UPDATE users SET failed_attempts = 0, locked_at = NULL, updated_at = $2 WHERE id = $1 RETURNING true",
        user_id,
        now,
    )
    return found is True


async def reset_mfa(conn: asyncpg.Connection, user_id: UUID, now: datetime) -> bool:
    await conn.execute("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
    found = await conn.fetchval(
        """
        UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL, updated_at = $2
         WHERE id = $1
        RETURNING true
        """,
        user_id,
        now,
    )
    return found is True


async def set_roles(conn: asyncpg.Connection, user_id: UUID, roles: list[str], now: datetime) -> None:
    await conn.execute("UPDATE users SET roles = $2, updated_at = $3 WHERE id = $1", user_id, roles, now)


# Enrollment gates (migration 0008): the password alone never enrolls behind one.


async def close_enrollment(
    conn: asyncpg.Connection, user_id: UUID, reason: str, requested_by: UUID | None, now: datetime
) -> None:
    """Put (back) a gate waiting for a second person in front of the user's enrollment."""
    await conn.execute(
        """
        INSERT INTO enrollment_gates (user_id, reason, requested_by, requested_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (user_id) DO UPDATE
           SET reason = $2, requested_by = $3, requested_at = $4,
               confirmed_by = NULL, confirmed_at = NULL, code_hash = NULL, expires_at = NULL
        """,
        user_id,
        reason,
        requested_by,
        now,
    )


async def issue_enrollment_code(
    conn: asyncpg.Connection,
    user_id: UUID,
    reason: str,
    confirmed_by: UUID,
    now: datetime,
    code_hash: bytes,
    expires_at: datetime,
) -> None:
    """The second person's confirmation: the gate now opens with this code (a new one
    replaces any earlier, which stops working)."""
    await conn.execute(
        """
        INSERT INTO enrollment_gates (user_id, reason, requested_at, confirmed_by, confirmed_at, code_hash, expires_at)
        VALUES ($1, $2, $4, $3, $4, $5, $6)
        ON CONFLICT (user_id) DO UPDATE
           SET confirmed_by = $3, confirmed_at = $4, code_hash = $5, expires_at = $6
        """,
        user_id,
        reason,
        confirmed_by,
        now,
        code_hash,
        expires_at,
    )


async def enrollment_gate(conn: asyncpg.Connection, user_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT reason, requested_by, confirmed_at FROM enrollment_gates WHERE user_id = $1", user_id
    )


# Role grants (migration 0008).

_GRANT = """
    g.id, g.user_id, u.username, g.roles, g.status, g.proposed_at, g.decided_at, g.proposed_by, g.decided_by,
    (SELECT username FROM users p WHERE p.id = g.proposed_by) AS proposed_by_name,
    (SELECT username FROM users d WHERE d.id = g.decided_by) AS decided_by_name
"""


async def propose_grant(
    conn: asyncpg.Connection, user_id: UUID, roles: list[str], proposed_by: UUID | None, now: datetime
) -> UUID:
    grant_id: UUID = await conn.fetchval(
        "INSERT INTO role_grants (user_id, roles, proposed_by, proposed_at) VALUES ($1, $2, $3, $4) RETURNING id",
        user_id,
        roles,
        proposed_by,
        now,
    )
    return grant_id


async def supersede_grants(conn: asyncpg.Connection, user_id: UUID, now: datetime) -> list[UUID]:
    rows = await conn.fetch(
        """
        UPDATE role_grants SET status = 'superseded', decided_at = $2
         WHERE user_id = $1 AND status = 'pending'
        RETURNING id
        """,
        user_id,
        now,
    )
    return [r["id"] for r in rows]


async def grant(conn: asyncpg.Connection, grant_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_GRANT} FROM role_grants g JOIN users u ON u.id = g.user_id WHERE g.id = $1", grant_id
    )


async def pending_grants(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_GRANT} FROM role_grants g JOIN users u ON u.id = g.user_id
         WHERE g.status = 'pending' ORDER BY g.proposed_at, g.id
        """
    )
    return rows


async def confirm_grant(conn: asyncpg.Connection, grant_id: UUID, me: UUID, now: datetime) -> UUID | None:
    """The second person's confirmation, settled by the database: only a pending grant, never
    to its confirmer, never by its proposer. The grantee's id, or None."""
    user_id: UUID | None = await conn.fetchval(
        """
        UPDATE role_grants SET status = 'confirmed', decided_by = $2, decided_at = $3
         WHERE id = $1 AND status = 'pending' AND user_id <> $2 AND proposed_by IS DISTINCT FROM $2
        RETURNING user_id
        """,
        grant_id,
        me,
        now,
    )
    return user_id


async def own_email(conn: asyncpg.Connection, user_id: UUID) -> str | None:
    email: str | None = await conn.fetchval("SELECT email FROM users WHERE id = $1", user_id)
    return email


async def set_email(conn: asyncpg.Connection, user_id: UUID, email: str | None, now: datetime) -> None:
    await conn.execute("UPDATE users SET email = $2, updated_at = $3 WHERE id = $1", user_id, email, now)

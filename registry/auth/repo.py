"""SQL for sign-in, MFA and sessions."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def user_for_login(conn: asyncpg.Connection, username: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT id, username, password_hash, active, locked_at, totp_secret IS NOT NULL AS enrolled
          FROM users WHERE username = $1
        """,
        username,
    )


async def user_mfa(conn: asyncpg.Connection, user_id: UUID) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT id, username, totp_secret, totp_pending FROM users WHERE id = $1", user_id
    )
    return row


async def record_success(conn: asyncpg.Connection, user_id: UUID, now: datetime) -> None:
    """A full sign-in starts the count of consecutive failures afresh. A lock placed while this
    attempt was in flight (by attempts sent alongside it) stands: only an unlocked row is reset.
    (The attempt's own reservation found the account unlocked, and cleared a lock that had
    lifted by itself, so any lock seen here was placed since.)"""
    await conn.execute(
        "UPDATE users SET failed_attempts = 0, updated_at = $2 WHERE id = $1 AND locked_at IS NULL", user_id, now
    )


async def update_password_hash(conn: asyncpg.Connection, user_id: UUID, password_hash: str) -> None:
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def password_hash(conn: asyncpg.Connection, user_id: UUID) -> str:
    value: str = await conn.fetchval("SELECT password_hash FROM users WHERE id = $1", user_id)
    return value


async def set_password(
    conn: asyncpg.Connection, user_id: UUID, password_hash: str, now: datetime, *, change_required: bool
) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $2, password_change_required = $3, updated_at = $4 WHERE id = $1",
        user_id,
        password_hash,
        change_required,
        now,
    )


async def reserve_address_attempt(
    conn: asyncpg.Connection, address: str, now: datetime, window_started_before: datetime, limit: int
) -> bool:
    """Take one of an address's `limit` failed sign-ins for this window before a password is
    checked (a success gives it back): one statement, so a burst cannot slip under the limit.
    A window that has run out starts afresh. False: the address has used them all."""
    reserved = await conn.fetchval(
        """
        INSERT INTO signin_address_attempts AS a (address, window_started_at, failures)
        VALUES ($1, $2, 1)
        ON CONFLICT (address) DO UPDATE
           SET window_started_at = CASE WHEN a.window_started_at <= $3 THEN $2 ELSE a.window_started_at END,
               failures = CASE WHEN a.window_started_at <= $3 THEN 1 ELSE a.failures + 1 END
         WHERE a.window_started_at <= $3 OR a.failures < $4
        RETURNING true
        """,
        address,
        now,
        window_started_before,
        limit,
    )
    return reserved is True


async def release_address_attempt(conn: asyncpg.Connection, address: str) -> None:
    await conn.execute(
        "UPDATE signin_address_attempts SET failures = greatest(failures - 1, 0) WHERE address = $1", address
    )


async def enrollment_gate(conn: asyncpg.Connection, user_id: UUID) -> asyncpg.Record | None:
    """The gate in front of the user's enrollment, if any (see migration 0008)."""
    return await conn.fetchrow(
        "SELECT reason, confirmed_at, code_hash, expires_at FROM enrollment_gates WHERE user_id = $1", user_id
    )


async def mfa_vouched(conn: asyncpg.Connection, user_id: UUID) -> bool:
    value: bool = await conn.fetchval("SELECT mfa_vouched FROM users WHERE id = $1", user_id)
    return value


async def open_enrollment_gate(conn: asyncpg.Connection, user_id: UUID) -> None:
    """The enrollment went through with the gate's code: the gate is spent."""
    await conn.execute("DELETE FROM enrollment_gates WHERE user_id = $1", user_id)


async def reserve_attempt(
    conn: asyncpg.Connection,
    user_id: UUID,
    now: datetime,
    lock_lifted_before: datetime | None,
    threshold: int,
) -> asyncpg.Record | None:
    """Take one of the account's `threshold` attempts before a password or code is checked,
    counting it as a failure until it proves otherwise: one guarded statement, so concurrent
    guesses cannot all slip under the limit.

    A lock that has lifted by itself starts the count afresh. A locked account, or one whose
    attempts are all taken (finished or still in flight), is refused; it is locked now if it
    was not yet. Returns `reserved`, `failed_attempts` (this attempt's number when reserved)
    and `newly_locked`; None if there is no such user.

    NO KEY UPDATE, not UPDATE: the request whose code is being reserved for may already hold
    a key-share lock on this row (any row it inserted that references the user, such as an
    audit event), and must not wait on its own reservation."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        WITH current AS (
            SELECT id,
                   CASE WHEN locked_at <= $3 THEN 0 ELSE failed_attempts END AS attempts,
                   CASE WHEN locked_at <= $3 THEN NULL ELSE locked_at END AS locked_at
              FROM users WHERE id = $1 FOR NO KEY UPDATE
        ), decided AS (
            SELECT id, attempts, locked_at, locked_at IS NULL AND attempts < $4 AS reserved FROM current
        )
        UPDATE users u
           SET failed_attempts = CASE WHEN d.reserved THEN d.attempts + 1 ELSE d.attempts END,
               locked_at = CASE WHEN d.reserved THEN NULL ELSE coalesce(d.locked_at, $2) END,
               updated_at = $2
          FROM decided d
         WHERE u.id = d.id
        RETURNING d.reserved, u.failed_attempts, NOT d.reserved AND d.locked_at IS NULL AS newly_locked
        """,
        user_id,
        now,
        lock_lifted_before,
        threshold,
    )
    return row


async def release_attempt(conn: asyncpg.Connection, user_id: UUID, now: datetime) -> None:
    """Give back a reserved attempt that succeeded without starting the count afresh (a right
    password, or a code that approves or authorizes): it was no failure."""
    await conn.execute(
        "UPDATE users SET failed_attempts = greatest(failed_attempts - 1, 0), updated_at = $2 WHERE id = $1",
        user_id,
        now,
    )


async def lock_if_exhausted(conn: asyncpg.Connection, user_id: UUID, now: datetime, threshold: int) -> int | None:
    """After a failed attempt (already counted by its reservation): lock the account if its
    consecutive failures have reached the threshold. The count if this locked it, else None."""
    failures: int | None = await conn.fetchval(
        """
        UPDATE users SET locked_at = $2, updated_at = $2
         WHERE id = $1 AND locked_at IS NULL AND failed_attempts >= $3
        RETURNING failed_attempts
        """,
        user_id,
        now,
        threshold,
    )
    return failures


async def consume_totp_step(conn: asyncpg.Connection, user_id: UUID, step: int) -> bool:
    """Accept `step` once: a second request with a code of the same (or an older) step finds
    no row, even when both arrive together (the row lock settles it)."""
    row = await conn.fetchrow(
        """
        UPDATE users SET totp_last_step = $2
         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)
        RETURNING id
        """,
        user_id,
        step,
    )
    return row is not None


async def set_pending_totp(conn: asyncpg.Connection, user_id: UUID, secret: bytes, now: datetime) -> None:
    await conn.execute(
        "UPDATE users SET totp_pending = $2, updated_at = $3 WHERE id = $1 AND totp_secret IS NULL",
        user_id,
        secret,
        now,
    )


async def confirm_totp(
    conn: asyncpg.Connection, user_id: UUID, secret: bytes, step: int, now: datetime, *, vouched: bool = True
) -> bool:
    """`vouched`: enrolled with a code from a second person (or at the console), so the
    authenticator may serve roles that read identities."""
    row = await conn.fetchrow(
        """
        UPDATE users SET totp_secret = $2, totp_pending = NULL, totp_last_step = $3, updated_at = $4,
                         mfa_vouched = $5
         WHERE id = $1 AND totp_secret IS NULL AND totp_pending IS NOT NULL
        RETURNING id
        """,
        user_id,
        secret,
        step,
        now,
        vouched,
    )
    return row is not None


async def replace_recovery_codes(conn: asyncpg.Connection, user_id: UUID, hashes: list[bytes]) -> None:
    await conn.execute("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
    await conn.executemany(
        "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)", [(user_id, h) for h in hashes]
    )


async def use_recovery_code(conn: asyncpg.Connection, user_id: UUID, code_hash: bytes, now: datetime) -> bool:
    row = await conn.fetchrow(
        """
        UPDATE recovery_codes SET used_at = $3
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
        RETURNING user_id
        """,
        user_id,
        code_hash,
        now,
    )
    return row is not None


async def create_session(
    conn: asyncpg.Connection, token_hash: bytes, user_id: UUID, stage: str, now: datetime, ip: str | None
) -> None:
    await conn.execute(
        """
        INSERT INTO sessions (token_hash, user_id, stage, created_at, last_seen_at, ip)
        VALUES ($1, $2, $3, $4, $4, $5)
        """,
        token_hash,
        user_id,
        stage,
        now,
        ip,
    )


async def revoke_session(conn: asyncpg.Connection, token_hash: bytes, now: datetime) -> None:
    await conn.execute(
        "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL", token_hash, now
    )


async def revoke_user_sessions(conn: asyncpg.Connection, user_id: UUID, now: datetime) -> None:
    await conn.execute("UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL", user_id, now)


async def revoke_partial_sessions(conn: asyncpg.Connection, user_id: UUID, now: datetime) -> None:
    """End the user's sign-ins still owing their code; sessions that passed MFA stay."""
    await conn.execute(
        "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND stage = 'password' AND revoked_at IS NULL",
        user_id,
        now,
    )


async def revoke_other_sessions(conn: asyncpg.Connection, user_id: UUID, keep: bytes, now: datetime) -> None:
    await conn.execute(
        "UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND token_hash <> $2 AND revoked_at IS NULL",
        user_id,
        keep,
        now,
    )


async def session_user(
    conn: asyncpg.Connection,
    token_hash: bytes,
    idle_since: datetime,
    created_since: datetime,
    partial_since: datetime,
) -> asyncpg.Record | None:
    """The live session behind a token and its (active) user, in one round trip."""
    return await conn.fetchrow(
        """
        SELECT s.stage, s.last_seen_at, u.id, u.username, u.display_name, u.roles, u.password_change_required
          FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1
           AND s.revoked_at IS NULL
           AND u.active
           AND s.last_seen_at > $2
           AND s.created_at > $3
           AND (s.stage = 'full' OR s.created_at > $4)
        """,
        token_hash,
        idle_since,
        created_since,
        partial_since,
    )


async def touch_session(conn: asyncpg.Connection, token_hash: bytes, now: datetime) -> None:
    await conn.execute("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1", token_hash, now)

"""SQL for the outbox: messages written in the transaction that decided to send them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from registry.access import above


async def enqueue(
    conn: asyncpg.Connection,
    *,
    dedupe_key: str,
    kind: str,
    recipient_id: UUID,
    review_id: UUID | None,
    subject: str,
    body: str,
    now: datetime,
) -> bool:
    """Queue a message once: a second call with the same key changes nothing."""
    status: str = await conn.execute(
        """
        INSERT INTO outbox (dedupe_key, kind, recipient_id, review_id, subject, body, created_at, next_attempt_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
        ON CONFLICT (dedupe_key) DO NOTHING
        """,
        dedupe_key,
        kind,
        recipient_id,
        review_id,
        subject,
        body,
        now,
    )
    return status.endswith(" 1")


async def claim(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Pending messages due for an attempt, locked for this transaction; other instances skip them."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT o.id, o.subject, o.body, o.attempts, u.email,
               u.active AND coalesce(cr.status = 'open', true) AS still_wanted
          FROM outbox o JOIN users u ON u.id = o.recipient_id
          LEFT JOIN conduct_reviews cr ON cr.id = o.review_id
         WHERE o.delivered IS NULL AND o.next_attempt_at <= $1
         ORDER BY o.next_attempt_at
         LIMIT $2
           FOR UPDATE OF o SKIP LOCKED
        """,
        now,
        limit,
    )
    return rows


async def delivered(conn: asyncpg.Connection, message_id: UUID, how: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET delivered = $2, delivered_at = $3, attempts = attempts + 1, last_error = NULL WHERE id = $1",
        message_id,
        how,
        now,
    )


async def failed(conn: asyncpg.Connection, message_id: UUID, error: str, retry_at: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1",
        message_id,
        error,
        retry_at,
    )


async def holders(conn: asyncpg.Connection, roles: Sequence[str], unit_id: UUID | None) -> list[UUID]:
    """Active holders of any of `roles` who belong to unit `unit_id` or a unit above it: the
    chain told about that unit's personas and reviews (None: the whole department)."""
    rows = await conn.fetch(
        f"SELECT id FROM users WHERE active AND roles && $1::text[] AND {above('users.id', '$2')} ORDER BY id",
        list(roles),
        unit_id,
    )
    return [r["id"] for r in rows]

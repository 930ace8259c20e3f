"""SQL for the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

INSERT = """
INSERT INTO audit_event (occurred_at, actor_id, actor, action, target_type, target_id, outcome, ip,
                         request_id, details)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""


async def insert(
    conn: asyncpg.Connection,
    *,
    occurred_at: datetime,
    actor_id: UUID | None,
    actor: str | None,
    action: str,
    target_type: str | None,
    target_id: str | None,
    outcome: str,
    ip: str | None,
    request_id: str | None,
    details: dict[str, Any],
) -> None:
    await conn.execute(
        INSERT, occurred_at, actor_id, actor, action, target_type, target_id, outcome, ip, request_id, details
    )


async def seal(conn: asyncpg.Connection, batch: int = 5000) -> int:
    sealed: int = await conn.fetchval("SELECT audit_seal($1)", batch)
    return sealed


async def page(
    conn: asyncpg.Connection,
    before_id: int | None,
    limit: int,
    *,
    action: str | None = None,
    actor: str | None = None,
    codename: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[asyncpg.Record]:
    """Newest first, keyset by id; each filter optional. A codename matches an event naming the
    persona (`details.codename`, or among `details.codenames`)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, occurred_at, actor_id, actor, action, target_type, target_id, outcome, ip, request_id,
               details, seq, encode(hash, 'hex') AS hash
          FROM audit_event
         WHERE ($1::bigint IS NULL OR id < $1)
           AND ($3::text IS NULL OR action = $3)
           AND ($4::text IS NULL OR actor = $4)
           AND ($5::text IS NULL OR details->>'codename' = $5 OR details->'codenames' ? $5)
           AND ($6::timestamptz IS NULL OR occurred_at >= $6)
           AND ($7::timestamptz IS NULL OR occurred_at <= $7)
         ORDER BY id DESC
         LIMIT $2
        """,
        before_id,
        limit,
        action,
        actor,
        codename,
        start,
        end,
    )
    return rows


async def chain(conn: asyncpg.Connection, chunk: int = 20000) -> AsyncIterator[asyncpg.Record]:
    """Sealed events in chain order with the text their hash covers (inside a transaction)."""
    cursor = conn.cursor(
        """
        SELECT e.id, e.seq, e.prev_hash, e.hash, audit_canonical(e, e.seq) AS canonical
          FROM audit_event e
         WHERE e.seq IS NOT NULL
         ORDER BY e.seq
        """,
        prefetch=chunk,
    )
    async for row in cursor:
        yield row


async def head(conn: asyncpg.Connection) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow("SELECT seq, hash FROM audit_chain_head")
    return row

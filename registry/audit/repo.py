"""SQL for the audit log."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg

# An event's columns, in the order `insert` and `with_event` take their parameters.
_EVENT_COLUMNS = "occurred_at, actor_id, actor, action, target_type, target_id, outcome, ip, request_id, details"
INSERT = f"INSERT INTO audit_event ({_EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
# Their types: parameters of an INSERT ... SELECT take no type from the columns they fill.
_EVENT_TYPES = ("timestamptz", "uuid", "text", "text", "text", "text", "text", "text", "text", "jsonb")
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


@functools.cache
def with_event(read: str, read_args: int, details_from: tuple[tuple[str, str], ...]) -> str:
    """`read` (a SELECT using $1 to $read_args) and, in the same statement, one event for each
    row it returns, the event's values in the next ten parameters in `INSERT`'s order; each
    (key, column) of `details_from` adds the row's `column` to the details under `key`.
    Cached: a call site's statement text stays the same, so asyncpg's prepared statement is reused."""
    for name in (c for pair in details_from for c in pair):
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a plain SQL name: {name!r}")
    values = [f"${read_args + 1 + n}::{kind}" for n, kind in enumerate(_EVENT_TYPES)]
    if details_from:
        pairs = ", ".join(f"'{key}', audited.{column}" for key, column in details_from)
        values[-1] = f"{values[-1]} || jsonb_build_object({pairs})"
    return f"""
        WITH audited AS MATERIALIZED ({read}),
             event AS (INSERT INTO audit_event ({_EVENT_COLUMNS}) SELECT {", ".join(values)} FROM audited)
        SELECT * FROM audited
    """


async def insert(conn: asyncpg.Connection, *event: Any) -> None:
    """One event, its values in `INSERT`'s order (registry.audit.service builds them)."""
    await conn.execute(INSERT, *event)


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

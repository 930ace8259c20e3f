"""SQL for the audit log."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import asyncpg

from registry.audit.schemas import AuditFilter

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


# The log's filters, each optional ($1 action, $2 actor, $3 codename, $4 case number, $5 from,
# $6 to). A codename matches an event naming the persona (`details.codename`, or among
# `details.codenames`); a case number, an event naming the case, about the investigation, or
# about one of its personas.
_FILTERS = """
       ($1::text IS NULL OR e.action = $1)
   AND ($2::text IS NULL OR e.actor = $2)
   AND ($3::text IS NULL OR e.details->>'codename' = $3 OR e.details->'codenames' ? $3)
   AND ($4::text IS NULL OR e.details->>'case_number' = $4
        OR (e.target_type = 'investigation'
            AND e.target_id IN (SELECT id::text FROM investigations WHERE case_number = $4))
        OR EXISTS (SELECT 1 FROM personas p JOIN investigations i ON i.id = p.investigation_id
                    WHERE i.case_number = $4
                      AND (e.details->>'codename' = p.codename
                           OR (e.target_type = 'persona' AND e.target_id = p.id::text))))
   AND ($5::timestamptz IS NULL OR e.occurred_at >= $5)
   AND ($6::timestamptz IS NULL OR e.occurred_at <= $6)
"""


def _filters(f: AuditFilter) -> tuple[Any, ...]:
    return (f.action, f.actor, f.codename, f.case_number, f.start, f.end)


async def page(
    conn: asyncpg.Connection, f: AuditFilter, *, before_id: int | None, after_id: int | None, limit: int
) -> list[asyncpg.Record]:
    """Keyset by id: older than `before_id` newest first, or newer than `after_id` oldest first.
    The first page and the later ones are different statements, so that a later page's plan
    (generic: registry.db.pool) starts its walk at the cursor."""
    newer = after_id is not None
    cursor = after_id if newer else before_id
    bound = "$7::bigint IS NULL" if cursor is None else "e.id > $7" if newer else "e.id < $7"
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT e.id, e.occurred_at, e.actor_id, e.actor, au.display_name AS actor_name, e.action, e.target_type,
               e.target_id, tu.display_name AS target_name, e.outcome, e.ip, e.request_id, e.details, e.seq,
               encode(e.hash, 'hex') AS hash
          FROM audit_event e
          LEFT JOIN users au ON au.id = e.actor_id
          LEFT JOIN users tu ON e.target_type = 'user' AND tu.id::text = e.target_id
         WHERE {_FILTERS}
           AND {bound}
         ORDER BY e.id {"ASC" if newer else "DESC"}
         LIMIT $8
        """,
        *_filters(f),
        cursor,
        limit,
    )
    return rows


async def any_beyond(conn: asyncpg.Connection, f: AuditFilter, event_id: int, *, newer: bool) -> bool:
    """Whether an event of the filtered view is newer (or older) than `event_id`."""
    found: bool = await conn.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM audit_event e WHERE {_FILTERS} AND {'e.id > $7' if newer else 'e.id < $7'})",
        *_filters(f),
        event_id,
    )
    return found


@dataclass(frozen=True)
class Walked:
    events: int
    first_bad: int | None


async def walk(conn: asyncpg.Connection) -> Walked:
    """The sealed chain recomputed in the database (inside a transaction, for one snapshot):
    `events`, how many are sealed, and `first_bad`, the chain position (1, 2, ...) of the
    first whose place, link to the previous event or hash does not match (NULL when none does).

    Two passes. One walks the chain in order for each event's place and link, which is cheap;
    the other recomputes every hash from the stored columns, as `audit_seal()` made it, in any
    order, so PostgreSQL can share it among its parallel workers: it is most of the work (a
    FILTER, so that the planner does not turn `min` into a walk of the seq index). Up
    to the first misplaced event every event sits at the position its seq names (seq is
    unique), so the first bad position is the smaller of the two passes' findings (an event
    whose seq is below 1 is misplaced at position 1 by the first)."""
    placed: asyncpg.Record = await conn.fetchrow(
        """
        WITH c AS (
            SELECT row_number() OVER w AS position, e.seq,
                   e.prev_hash IS DISTINCT FROM lag(e.hash, 1, sha256(''::bytea)) OVER w AS unlinked
              FROM audit_event e
             WHERE e.seq IS NOT NULL
            WINDOW w AS (ORDER BY e.seq)
        )
        SELECT count(*) AS events, min(position) FILTER (WHERE seq <> position OR unlinked) AS first_bad
          FROM c
        """
    )
    altered: int | None = await conn.fetchval(
        """
        SELECT min(e.seq) FILTER (
                   WHERE e.hash IS DISTINCT FROM sha256(e.prev_hash || convert_to(audit_canonical(e, e.seq), 'UTF8')))
          FROM audit_event e
         WHERE e.seq > 0
        """
    )
    found = [p for p in (placed["first_bad"], altered) if p is not None]
    return Walked(events=placed["events"], first_bad=min(found) if found else None)


async def sealed_at_position(conn: asyncpg.Connection, position: int) -> asyncpg.Record:
    """The sealed event at chain position `position` (1, 2, ...), in seq order."""
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT id, seq, prev_hash, hash FROM audit_event WHERE seq IS NOT NULL ORDER BY seq OFFSET $1 - 1 LIMIT 1",
        position,
    )
    return row


async def sealed_at(conn: asyncpg.Connection, seqs: list[int]) -> dict[int, asyncpg.Record]:
    """The sealed events at chain positions `seqs` (id and hash), by position."""
    rows = await conn.fetch("SELECT id, seq, hash FROM audit_event WHERE seq = ANY($1::bigint[])", seqs)
    return {r["seq"]: r for r in rows}


async def head(conn: asyncpg.Connection) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow("SELECT seq, hash FROM audit_chain_head")
    return row

"""SQL for the keyring row and for re-sealing confidential columns under a new key."""

from __future__ import annotations

from datetime import datetime

import asyncpg

# Every column sealed with registry.crypto, as (table, column, context): each value is sealed
# with the associated data "context:id" (its row's id), so a rotation can re-seal it without
# knowing its domain. A new encrypted column must be listed here, or `registry keys rotate`
# leaves it behind (tests/keys/test_rotation.py fails on any bytea column it does not know).
SEALED: tuple[tuple[str, str, str], ...] = (
    ("users", "totp_secret", "users.totp_secret"),
    ("users", "totp_pending", "users.totp_pending"),
    ("personas", "identity", "personas.identity"),
    # A copy of `identity` taken at approval (0005), sealed as it was.
    ("personas", "approved_identity", "personas.identity"),
    ("platform_accounts", "details", "platform_accounts.details"),
    ("activity_log", "summary", "activity_log.summary"),
    ("conduct_reviews", "notes", "conduct_reviews.notes"),
    ("conduct_reviews", "findings", "conduct_reviews.findings"),
    ("conduct_reviews", "actions", "conduct_reviews.actions"),
)


async def get(conn: asyncpg.Connection) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow("SELECT digest_key, index_key_id FROM keyring")
    return row


async def create(conn: asyncpg.Connection, digest_key: bytes, index_key_id: bytes, now: datetime) -> None:
    # Two instances starting at once on a new database: the first one's row stands.
    await conn.execute(
        "INSERT INTO keyring (digest_key, index_key_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        digest_key,
        index_key_id,
        now,
    )


async def set_index_key(conn: asyncpg.Connection, key_id: bytes) -> None:
    await conn.execute("UPDATE keyring SET index_key_id = $1", key_id)


async def set_digest_key(conn: asyncpg.Connection, digest_key: bytes, now: datetime) -> None:
    await conn.execute("UPDATE keyring SET digest_key = $1, rotated_at = $2", digest_key, now)


async def allow_resealing(conn: asyncpg.Connection) -> None:
    """Lets this transaction re-seal append-only rows (the activity log's trigger, 0007)."""
    await conn.execute("SELECT set_config('registry.rekeying', 'on', true)")


async def sample(conn: asyncpg.Connection, table: str, column: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT id, {column} AS sealed FROM {table} WHERE {column} IS NOT NULL LIMIT 1"
    )
    return row


async def stale_batch(
    conn: asyncpg.Connection, table: str, column: str, prefix: bytes, after: object, limit: int
) -> list[asyncpg.Record]:
    """Rows after `after` (by id) whose value is not sealed under `prefix`, locked; rows a
    request holds are skipped (they are picked up by the next pass)."""
    # `table` and `column` come from SEALED only. The first batch and the next ones are two
    # statements, so that each plan (generic: registry.db.pool) starts its walk where the last stopped.
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT id, {column} AS sealed FROM {table}
         WHERE {column} IS NOT NULL AND substring({column} FROM 1 FOR $1) IS DISTINCT FROM $2
           AND {"id > $3" if after is not None else "$3::uuid IS NULL"}
         ORDER BY id
         LIMIT $4
           FOR UPDATE SKIP LOCKED
        """,
        len(prefix),
        prefix,
        after,
        limit,
    )
    return rows


async def count_stale(conn: asyncpg.Connection, table: str, column: str, prefix: bytes) -> int:
    count: int = await conn.fetchval(
        f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL"
        f" AND substring({column} FROM 1 FOR $1) IS DISTINCT FROM $2",
        len(prefix),
        prefix,
    )
    return count


async def reseal(conn: asyncpg.Connection, table: str, column: str, values: list[tuple[object, bytes]]) -> None:
    await conn.executemany(f"UPDATE {table} SET {column} = $2 WHERE id = $1", values)


async def lock_personas(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, identity, alias_index FROM personas ORDER BY id FOR UPDATE"
    )
    return rows


async def lock_accounts(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, platform_id, details, handle_index, email_index, phone_index FROM platform_accounts"
        " ORDER BY id FOR UPDATE"
    )
    return rows


async def set_alias_indexes(conn: asyncpg.Connection, values: list[tuple[object, bytes]]) -> None:
    await conn.executemany("UPDATE personas SET alias_index = $2 WHERE id = $1", values)


async def set_account_indexes(
    conn: asyncpg.Connection, values: list[tuple[object, bytes, bytes | None, bytes | None]]
) -> None:
    await conn.executemany(
        "UPDATE platform_accounts SET handle_index = $2, email_index = $3, phone_index = $4 WHERE id = $1", values
    )

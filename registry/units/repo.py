"""SQL for units and memberships. Which units a user belongs to is registry.access's rule
(`member_units`): their memberships, or the root when they have none."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from registry.access import branch, member_units, units_below

# Users who belong to unit `u`: its members, and for the root the users with no membership.
_MEMBER_COUNT = f"(SELECT count(*) FROM users us WHERE us.active AND u.id IN {member_units('us.id')})"


async def tree(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every unit, depth first, children by name."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        WITH RECURSIVE t(id, path) AS (
            SELECT id, ARRAY[lower(name)] FROM units WHERE parent_id IS NULL
             UNION ALL
            SELECT c.id, t.path || lower(c.name) FROM units c JOIN t ON c.parent_id = t.id)
        SELECT u.id, u.name, u.parent_id, {_MEMBER_COUNT} AS member_count
          FROM t JOIN units u ON u.id = t.id
         ORDER BY t.path
        """
    )
    return rows


async def get(conn: asyncpg.Connection, unit_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT u.id, u.name, u.parent_id, {_MEMBER_COUNT} AS member_count FROM units u WHERE u.id = $1", unit_id
    )


async def root(conn: asyncpg.Connection) -> UUID:
    found: UUID = await conn.fetchval("SELECT id FROM units WHERE parent_id IS NULL")
    return found


async def missing(conn: asyncpg.Connection, unit_ids: list[UUID]) -> list[UUID]:
    """Those of `unit_ids` that name no unit."""
    rows = await conn.fetch(
        "SELECT x FROM unnest($1::uuid[]) x WHERE NOT EXISTS (SELECT 1 FROM units WHERE id = x)", unit_ids
    )
    return [r["x"] for r in rows]


async def insert(conn: asyncpg.Connection, name: str, parent_id: UUID, now: datetime) -> UUID | None:
    """None when the name is taken."""
    unit_id: UUID | None = await conn.fetchval(
        """
        INSERT INTO units (name, parent_id, created_at) VALUES ($1, $2, $3)
        ON CONFLICT (lower(name)) DO NOTHING
        RETURNING id
        """,
        name,
        parent_id,
        now,
    )
    return unit_id


async def lock_tree(conn: asyncpg.Connection) -> None:
    """Moves are serialized, so two at once cannot make a cycle that neither alone makes."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('units.tree'))")


async def below(conn: asyncpg.Connection, unit_id: UUID) -> set[UUID]:
    """The unit and every unit below it."""
    rows = await conn.fetch(f"SELECT x.id FROM {branch('$1')} x(id)", unit_id)
    return {r["id"] for r in rows}


async def name_taken(conn: asyncpg.Connection, name: str, unit_id: UUID) -> bool:
    taken: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM units WHERE lower(name) = lower($1) AND id <> $2)", name, unit_id
    )
    return taken


async def update(conn: asyncpg.Connection, unit_id: UUID, name: str, parent_id: UUID | None) -> None:
    await conn.execute("UPDATE units SET name = $2, parent_id = $3 WHERE id = $1", unit_id, name, parent_id)


async def members(conn: asyncpg.Connection, unit_id: UUID | None) -> list[asyncpg.Record]:
    """The active users who belong to unit `unit_id` (every unit's when None), with their unit."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT x.unit_id, us.id AS user_id, us.username, us.display_name,
               NOT EXISTS (SELECT 1 FROM unit_members m WHERE m.user_id = us.id) AS implicit
          FROM users us CROSS JOIN LATERAL {member_units("us.id")} x(unit_id)
         WHERE us.active AND ($1::uuid IS NULL OR x.unit_id = $1)
         ORDER BY us.display_name, us.username
        """,
        unit_id,
    )
    return rows


async def lock_user(conn: asyncpg.Connection, user_id: UUID) -> bool:
    """Changes to one user's memberships are serialized (the last one is never removed by two
    removals at once). False: no such user."""
    found = await conn.fetchval("SELECT true FROM users WHERE id = $1 FOR UPDATE", user_id)
    return found is True


async def user_units(conn: asyncpg.Connection, user_id: UUID) -> list[UUID]:
    """The units the user belongs to (their memberships, or the root)."""
    rows = await conn.fetch(f"SELECT x.unit_id FROM {member_units('$1')} x(unit_id) ORDER BY 1", user_id)
    return [r["unit_id"] for r in rows]


async def memberships(conn: asyncpg.Connection, user_id: UUID) -> list[UUID]:
    rows = await conn.fetch("SELECT unit_id FROM unit_members WHERE user_id = $1", user_id)
    return [r["unit_id"] for r in rows]


async def add_member(conn: asyncpg.Connection, unit_id: UUID, user_id: UUID, now: datetime) -> bool:
    """False if they were a member already."""
    added = await conn.fetchval(
        """INSERT INTO unit_members (unit_id, user_id, added_at) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING true""",
        unit_id,
        user_id,
        now,
    )
    return added is True


async def remove_member(conn: asyncpg.Connection, unit_id: UUID, user_id: UUID) -> None:
    await conn.execute("DELETE FROM unit_members WHERE unit_id = $1 AND user_id = $2", unit_id, user_id)


async def set_units(conn: asyncpg.Connection, user_id: UUID, unit_ids: list[UUID], now: datetime) -> None:
    await conn.execute(
        "DELETE FROM unit_members WHERE user_id = $1 AND NOT (unit_id = ANY($2::uuid[]))", user_id, unit_ids
    )
    await conn.executemany(
        "INSERT INTO unit_members (unit_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        [(u, user_id, now) for u in unit_ids],
    )


async def opens_in(conn: asyncpg.Connection, user_id: UUID) -> list[asyncpg.Record]:
    """The units `user_id` may open an investigation in: theirs and every unit below them."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT u.id, u.name FROM units u WHERE u.id IN {units_below('$1')} ORDER BY lower(u.name)", user_id
    )
    return rows

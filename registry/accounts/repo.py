"""SQL for platform accounts: every read goes through the persona's need-to-know."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from registry.access import in_chain, persona_visible

# (name, expression) of the columns an account is read with.
_FIELDS = (
    ("id", "a.id"),
    ("persona_id", "a.persona_id"),
    ("codename", "p.codename"),
    ("handler_id", "p.handler_id"),
    ("persona_status", "p.status"),
    ("platform_id", "a.platform_id"),
    ("platform", "pl.name"),
    ("details", "a.details"),
    ("credential_ref", "a.credential_ref"),
    ("status", "a.status"),
    ("requested_by", "a.requested_by"),
    ("requested_by_name", "r.username"),
    ("authorized_by_name", "au.username"),
    ("authorized_at", "a.authorized_at"),
    ("status_note", "a.status_note"),
    ("created_on_site", "a.created_on_site"),
    ("requested_at", "a.created_at"),
)
_COLUMNS = ", ".join(f"{expression} AS {name}" for name, expression in _FIELDS)
_FROM = """
    platform_accounts a
    JOIN personas p ON p.id = a.persona_id
    JOIN platforms pl ON pl.id = a.platform_id
    JOIN users r ON r.id = a.requested_by
    LEFT JOIN users au ON au.id = a.authorized_by
"""


async def insert(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    persona_id: UUID,
    platform_id: UUID,
    details: bytes,
    handle_index: bytes,
    credential_ref: str | None,
    requested_by: UUID,
    now: datetime,
    created_on_site: date | None = None,
    email_index: bytes | None = None,
    phone_index: bytes | None = None,
) -> bool:
    """False when the (platform, handle) is already live (the race-proof half of deconfliction)."""
    row = await conn.fetchrow(
        """
        INSERT INTO platform_accounts (id, persona_id, platform_id, details, handle_index, credential_ref,
                                       requested_by, created_at, created_on_site, email_index, phone_index)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (platform_id, handle_index) WHERE status IN ('requested', 'authorized') DO NOTHING
        RETURNING id
        """,
        account_id,
        persona_id,
        platform_id,
        details,
        handle_index,
        credential_ref,
        requested_by,
        now,
        created_on_site,
        email_index,
        phone_index,
    )
    return row is not None


async def set_created_on(conn: asyncpg.Connection, account_id: UUID, created_on: date) -> bool:
    status: str = await conn.execute(
        "UPDATE platform_accounts SET created_on_site = $2 WHERE id = $1 AND status IN ('requested', 'authorized')",
        account_id,
        created_on,
    )
    return status.endswith(" 1")


async def for_persona(conn: asyncpg.Connection, persona_id: UUID) -> list[asyncpg.Record]:
    """The accounts of a persona the caller has already been found to see."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE a.persona_id = $1 ORDER BY a.created_at, a.id", persona_id
    )
    return rows


def of_persona(persona_id: str) -> str:
    """SQL for the accounts of the persona whose id is `persona_id` (a parameter such as "$1"),
    as one array of rows, for a statement that reads the persona with them (as `for_persona`
    does, in the same order); `rows` names their fields."""
    return f"""ARRAY(SELECT ROW({", ".join(e for _, e in _FIELDS)}) FROM {_FROM}
                   WHERE a.persona_id = {persona_id} ORDER BY a.created_at, a.id)"""


def rows(accounts: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The accounts of `of_persona` with their fields named, as `get_visible` names them."""
    names = [name for name, _ in _FIELDS]
    return [dict(zip(names, account, strict=True)) for account in accounts]


# An account is seen through its persona's need-to-know (the unit chain's roles in
# `unit_roles`), and department-wide by `account_roles` (whoever authorizes sites:
# RolePermissions.account_wide_roles): the site authorizer sees the account, never the
# persona's identity.


async def get_visible(
    conn: asyncpg.Connection, account_id: UUID, me: UUID, unit_roles: list[str], account_roles: list[str]
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS}, {in_chain('p.unit_id', '$2', '$3')} AS in_chain"
        f" FROM {_FROM} WHERE a.id = $1 AND {persona_visible('p', '$2', '$3', '$4')}",
        account_id,
        me,
        unit_roles,
        account_roles,
    )


async def authorize(conn: asyncpg.Connection, account_id: UUID, me: UUID, now: datetime) -> bool:
    row = await conn.fetchrow(
        """
        UPDATE platform_accounts SET status = 'authorized', authorized_by = $2, authorized_at = $3
         WHERE id = $1 AND status = 'requested' AND requested_by <> $2
        RETURNING id
        """,
        account_id,
        me,
        now,
    )
    return row is not None


async def decline(conn: asyncpg.Connection, account_id: UUID, me: UUID, now: datetime, reason: str) -> bool:
    row = await conn.fetchrow(
        """
        UPDATE platform_accounts SET status = 'declined', declined_by = $2, declined_at = $3, status_note = $4
         WHERE id = $1 AND status = 'requested' AND requested_by <> $2
        RETURNING id
        """,
        account_id,
        me,
        now,
        reason,
    )
    return row is not None


async def mark_disabled(conn: asyncpg.Connection, account_id: UUID, note: str) -> bool:
    row = await conn.fetchrow(
        """
        UPDATE platform_accounts SET status = 'disabled', status_note = $2
         WHERE id = $1 AND status IN ('requested', 'authorized')
        RETURNING id
        """,
        account_id,
        note,
    )
    return row is not None


async def awaiting_authorization(
    conn: asyncpg.Connection, me: UUID, unit_roles: list[str], account_roles: list[str]
) -> list[asyncpg.Record]:
    """Requested accounts of live personas the caller sees, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM {_FROM}
         WHERE a.status = 'requested' AND p.status NOT IN ('retired', 'compromised')
           AND {persona_visible("p", "$1", "$2", "$3")}
         ORDER BY a.created_at, a.id
         LIMIT 500
        """,
        me,
        unit_roles,
        account_roles,
    )
    return rows

"""SQL for personas. Every read and every transition carries the need-to-know condition
(registry.access), and every transition is one guarded UPDATE: the database settles races."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from registry.access import branch, in_chain, persona_visible
from registry.accounts import repo as accounts_repo
from registry.audit.actions import History
from registry.audit.service import AuditedRead
from registry.status import PersonaStatus, values

# Targets of `transition` besides a plain status:
RESUME = "resume"  # back to the state the suspension interrupted
UNCHANGED = "unchanged"  # keep the status (a renewal)


async def insert(
    conn: asyncpg.Connection,
    *,
    persona_id: UUID,
    codename: str,
    investigation_id: UUID,
    handler_id: UUID,
    identity: bytes,
    alias_index: bytes,
    now: datetime,
) -> bool:
    """False if the codename is taken or the alias is already live (the caller works out
    which and picks another codename or reports the clash)."""
    row = await conn.fetchrow(
        """
        INSERT INTO personas (id, codename, investigation_id, handler_id, requested_by, identity, alias_index,
                              created_at, updated_at)
        VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $7)
        ON CONFLICT DO NOTHING
        RETURNING id
        """,
        persona_id,
        codename,
        investigation_id,
        handler_id,
        identity,
        alias_index,
        now,
    )
    return row is not None


async def alias_conflicts(conn: asyncpg.Connection, alias_index: bytes, exclude: UUID | None) -> list[asyncpg.Record]:
    """Every persona, live or closed, that carries this alias: a burned identity stays known."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT p.codename, u.display_name AS handler, p.status
          FROM personas p JOIN users u ON u.id = p.handler_id
         WHERE p.alias_index = $1 AND ($2::uuid IS NULL OR p.id <> $2)
         ORDER BY p.codename
        """,
        alias_index,
        exclude,
    )
    return rows


async def handle_conflicts(
    conn: asyncpg.Connection, platform_id: UUID, handle_index: bytes, exclude_persona: UUID | None
) -> list[asyncpg.Record]:
    """Personas holding this handle on this platform: through a live account, or through one
    closed with its retired or compromised persona."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT DISTINCT p.codename, u.display_name AS handler, p.status
          FROM platform_accounts a
          JOIN personas p ON p.id = a.persona_id
          JOIN users u ON u.id = p.handler_id
         WHERE a.platform_id = $1 AND a.handle_index = $2
           AND (a.status IN ('requested', 'authorized') OR p.status = ANY($4::text[]))
           AND ($3::uuid IS NULL OR p.id <> $3)
         ORDER BY p.codename
        """,
        platform_id,
        handle_index,
        exclude_persona,
        values(PersonaStatus.closed()),
    )
    return rows


def _visible(*extra: str) -> str:
    """The persona `$1` if `$2` may see it (unit roles in `$3`), with `extra` columns."""
    columns = "".join(f", {c}" for c in extra)
    return f"""
        SELECT p.*, i.case_number, i.status AS investigation_status, i.authorized_until,
               h.username AS handler_username, h.display_name AS handler_name,
               r.username AS requested_by_name, a.username AS approved_by_name{columns}
          FROM personas p
          JOIN investigations i ON i.id = p.investigation_id
          JOIN users h ON h.id = p.handler_id
          JOIN users r ON r.id = p.requested_by
          LEFT JOIN users a ON a.id = p.approved_by
         WHERE p.id = $1 AND {persona_visible("p", "$2", "$3")}
        """


async def get_visible(
    conn: asyncpg.Connection, persona_id: UUID, me: UUID, unit_roles: list[str]
) -> asyncpg.Record | None:
    """The persona, and whether `me` is in its unit's chain (`in_chain`): a step of the
    handler or the chain asks it."""
    return await conn.fetchrow(_visible(f"{CHAIN} AS in_chain"), persona_id, me, unit_roles)


# The persona's history, oldest first: (at, action, actor's username and display name, details
# as JSON text).
_HISTORY = """ARRAY(SELECT ROW(ph.at, ph.action, hu.username, hu.display_name, ph.details::text)
                      FROM persona_history ph LEFT JOIN users hu ON hu.id = ph.actor_id
                     WHERE ph.persona_id = $1 ORDER BY ph.at, ph.id) AS history"""


async def read_with_identity(
    conn: asyncpg.Connection, persona_id: UUID, me: UUID, unit_roles: list[str], event: AuditedRead
) -> asyncpg.Record | None:
    """The persona as `get_visible` finds it, with its history and its accounts
    (`accounts.repo.rows`), in one statement that also writes `event` if it finds the persona."""
    read = _visible(_HISTORY, f"{accounts_repo.of_persona('$1')} AS accounts")
    return await conn.fetchrow(event.around(read, 3), persona_id, me, unit_roles, *event.args)


async def add_history(
    conn: asyncpg.Connection,
    persona_id: UUID,
    at: datetime,
    action: History,
    actor: UUID | None,
    details: dict[str, Any],
) -> None:
    await conn.execute(
        "INSERT INTO persona_history (persona_id, at, action, actor_id, details) VALUES ($1, $2, $3, $4, $5)",
        persona_id,
        at,
        action,
        actor,
        details,
    )


# What a step's statement returns: the persona as it now is.
_STEPPED = """p.id, p.codename, p.status, p.suspended_from, p.version, p.approval_expires_at, p.handler_id,
              p.requested_by, p.investigation_id, p.review_interval_days, p.unit_id"""

# Who may take a step, as SQL over the persona `p` and the caller `$2` (unit roles in `$3`).
HANDLER = "p.handler_id = $2"
NOT_OWN = "p.requested_by <> $2 AND p.handler_id <> $2"
CHAIN = in_chain("p.unit_id", "$2", "$3")
HANDLER_OR_CHAIN = f"(p.handler_id = $2 OR {CHAIN})"
# Approvals: the chain of the persona's unit, never its requester or handler (003 IV.B.3.b.2).
APPROVER = f"({NOT_OWN} AND {CHAIN})"


async def transition(
    conn: asyncpg.Connection,
    persona_id: UUID,
    me: UUID,
    unit_roles: list[str],
    *,
    allowed_from: tuple[str, ...],
    to: str,
    who: str,
    now: datetime,
    approval: tuple[UUID, datetime] | None = None,
    review_interval_days: int | None = None,
    rejection_reason: str | None = None,
    version: int | None = None,
) -> asyncpg.Record | None:
    """Move a visible persona from one of `allowed_from` to `to` if `who` holds, in one
    statement. `approval` = (approver, expires_at) records an approval or renewal of the
    details as they now are (and only of details not changed since: `version`, when given,
    must still be current; a suspended persona with unapproved changes takes no approval).
    None when nothing matched (the caller explains why)."""
    return await conn.fetchrow(
        f"""
        UPDATE personas p
           SET status = CASE $5 WHEN 'resume' THEN p.suspended_from WHEN 'unchanged' THEN p.status ELSE $5 END,
               suspended_from = CASE $5 WHEN 'suspended' THEN p.status WHEN 'unchanged' THEN p.suspended_from
                                     ELSE NULL END,
               approved_by = CASE WHEN $7::uuid IS NULL THEN p.approved_by ELSE $7 END,
               approved_at = CASE WHEN $7::uuid IS NULL THEN p.approved_at ELSE $6 END,
               approval_expires_at = CASE WHEN $7::uuid IS NULL THEN p.approval_expires_at ELSE $8 END,
               approved_version = CASE WHEN $7::uuid IS NULL THEN p.approved_version ELSE p.version END,
               approved_identity = CASE WHEN $7::uuid IS NULL THEN p.approved_identity ELSE p.identity END,
               review_interval_days = coalesce($9, p.review_interval_days),
               rejection_reason = CASE WHEN $5 = 'rejected' THEN $10 WHEN $5 = 'submitted' THEN NULL
                                       ELSE p.rejection_reason END,
               updated_at = $6
         WHERE p.id = $1
           AND p.status = ANY($4::text[])
           AND ($11::integer IS NULL OR p.version = $11)
           AND ($7::uuid IS NULL OR p.suspended_from IS DISTINCT FROM 'submitted')
           AND {persona_visible("p", "$2", "$3")}
           AND {who}
        RETURNING {_STEPPED}
        """,
        persona_id,
        me,
        unit_roles,
        list(allowed_from),
        to,
        now,
        approval[0] if approval else None,
        approval[1] if approval else None,
        review_interval_days,
        rejection_reason,
        version,
    )


async def update_identity(
    conn: asyncpg.Connection,
    persona_id: UUID,
    me: UUID,
    unit_roles: list[str],
    *,
    identity: bytes,
    alias_index: bytes,
    allowed_from: tuple[str, ...],
    to_status: str | None,
    now: datetime,
    version: int | None = None,
) -> asyncpg.Record | None:
    """The handler rewrites the documented identity, and the version moves. A material change
    to an approved persona sends it back for approval (`to_status`); a suspended one stays
    suspended and goes back for approval when the suspension lifts. With `version`, only the
    version the handler edited is rewritten."""
    return await conn.fetchrow(
        f"""
        UPDATE personas p
           SET identity = $4, alias_index = $5, status = coalesce($7, p.status), version = p.version + 1,
               suspended_from = CASE WHEN p.status = 'suspended' THEN 'submitted' END,
               updated_at = $8
         WHERE p.id = $1 AND p.status = ANY($6::text[]) AND {persona_visible("p", "$2", "$3")} AND {HANDLER}
           AND ($9::integer IS NULL OR p.version = $9)
        RETURNING {_STEPPED}
        """,
        persona_id,
        me,
        unit_roles,
        identity,
        alias_index,
        list(allowed_from),
        to_status,
        now,
        version,
    )


async def hand_over(
    conn: asyncpg.Connection, persona_id: UUID, me: UUID, unit_roles: list[str], to_user: UUID, now: datetime
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        UPDATE personas p SET handler_id = $4, updated_at = $5
         WHERE p.id = $1 AND p.status = ANY($6::text[]) AND {CHAIN}
           AND p.handler_id <> $4 AND (p.approved_by IS NULL OR p.approved_by <> $4)
        RETURNING {_STEPPED}
        """,
        persona_id,
        me,
        unit_roles,
        to_user,
        now,
        values(PersonaStatus.live()),
    )


async def approval_snapshot(conn: asyncpg.Connection, persona_id: UUID) -> asyncpg.Record:
    """The identity as it is and as it was last approved (both sealed), with their versions."""
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT identity, version, approved_identity, approved_version FROM personas WHERE id = $1", persona_id
    )
    return row


async def active_detective(conn: asyncpg.Connection, user_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, username, display_name FROM users WHERE id = $1 AND active AND 'detective' = ANY(roles)", user_id
    )


async def active_detectives(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every active detective, by name: whom a persona can be handed to."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, username, display_name FROM users
         WHERE active AND 'detective' = ANY(roles)
         ORDER BY display_name, username
        """
    )
    return rows


async def suspend_by_system(conn: asyncpg.Connection, persona_ids: list[UUID], now: datetime) -> list[asyncpg.Record]:
    """Periodic work suspends (no user acts): those of `persona_ids` still approved or active."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        UPDATE personas p SET status = 'suspended', suspended_from = p.status, updated_at = $2
         WHERE p.id = ANY($1::uuid[]) AND p.status = ANY($3::text[])
        RETURNING {_STEPPED}
        """,
        persona_ids,
        now,
        values(PersonaStatus.suspendable()),
    )
    return rows


async def close_accounts(conn: asyncpg.Connection, persona_id: UUID, now: datetime) -> None:
    """A retired or compromised persona's accounts stop counting as live (their handles free)."""
    await conn.execute(
        "UPDATE platform_accounts SET status = 'closed', status_note = 'persona ended' "
        "WHERE persona_id = $1 AND status IN ('requested', 'authorized')",
        persona_id,
    )


async def central_record(
    conn: asyncpg.Connection,
    *,
    start: datetime | None,
    end: datetime | None,
    status: str | None,
    unit_id: UUID | None,
) -> list[asyncpg.Record]:
    """Every persona with a dated entry in [start, end] (and of `status`, and of unit
    `unit_id` or below): its history as structured entries (no free text), and its accounts'
    authorizations."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT p.codename, i.case_number, p.status, p.created_at, r.username AS requested_by,
               (SELECT un.name FROM units un WHERE un.id = p.unit_id) AS unit,
               coalesce(jsonb_agg(jsonb_build_object(
                           'action', h.action, 'at', h.at, 'by', hu.username,
                           'policy_version', h.details->>'policy_version', 'outcome', h.details->>'outcome',
                           'lapsed', h.details->'lapsed',
                           'from', (SELECT username FROM users WHERE id::text = h.details->>'from_user_id'),
                           'to', (SELECT username FROM users WHERE id::text = h.details->>'to_user_id'))
                         ORDER BY h.at, h.id) FILTER (WHERE h.id IS NOT NULL), '[]') AS events,
               (SELECT coalesce(jsonb_agg(jsonb_build_object(
                           'platform', pl.name, 'status', a.status, 'requested_at', a.created_at,
                           'authorized_at', a.authorized_at,
                           'authorized_by', (SELECT username FROM users WHERE id = a.authorized_by),
                           'declined_at', a.declined_at,
                           'declined_by', (SELECT username FROM users WHERE id = a.declined_by))
                         ORDER BY a.created_at, a.id), '[]')
                  FROM platform_accounts a JOIN platforms pl ON pl.id = a.platform_id
                 WHERE a.persona_id = p.id) AS accounts
          FROM personas p
          JOIN investigations i ON i.id = p.investigation_id
          JOIN users r ON r.id = p.requested_by
          LEFT JOIN persona_history h ON h.persona_id = p.id
          LEFT JOIN users hu ON hu.id = h.actor_id
         WHERE ($3::text IS NULL OR p.status = $3) AND ($4::uuid IS NULL OR p.unit_id IN {branch("$4")})
         GROUP BY p.id, i.case_number, r.username
        HAVING ($1::timestamptz IS NULL OR greatest(p.created_at, max(h.at)) >= $1)
           AND ($2::timestamptz IS NULL OR p.created_at <= $2)
         ORDER BY p.created_at, p.codename
        """,
        start,
        end,
        status,
        unit_id,
    )
    return rows


async def central_investigations(
    conn: asyncpg.Connection, *, start: datetime | None, end: datetime | None, unit_id: UUID | None
) -> list[asyncpg.Record]:
    """Every investigation's authorization for false identities: granted, refused, lapsed."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT i.case_number, i.status, i.created_at, o.username AS opened_by, i.authorized_at,
               a.username AS authorized_by, i.authorized_until, i.refused_at, f.username AS refused_by,
               (SELECT un.name FROM units un WHERE un.id = i.unit_id) AS unit
          FROM investigations i
          JOIN users o ON o.id = i.opened_by
          LEFT JOIN users a ON a.id = i.authorized_by
          LEFT JOIN users f ON f.id = i.refused_by
         WHERE ($1::timestamptz IS NULL OR greatest(i.created_at, i.authorized_at, i.refused_at) >= $1)
           AND ($2::timestamptz IS NULL OR i.created_at <= $2)
           AND ($3::uuid IS NULL OR i.unit_id IN {branch("$3")})
         ORDER BY i.created_at, i.case_number
        """,
        start,
        end,
        unit_id,
    )
    return rows


async def awaiting_approval(
    conn: asyncpg.Connection, me: UUID, unit_roles: list[str], now: datetime, renew_within_days: int
) -> list[asyncpg.Record]:
    """Personas waiting for an approver of their unit's chain (not one who sees them only
    through the team), the longest waiting first: submitted details (new or
    materially changed, waiting since they were sent) and approvals that lapse within
    `renew_within_days` (waiting since they came that close); whether the caller requested or
    handles each."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT * FROM (
            SELECT p.id, p.codename, p.status, p.approval_expires_at, p.created_at, i.case_number,
                   h.display_name AS handler, r.display_name AS requested_by,
                   (p.handler_id = $1 OR p.requested_by = $1) AS own,
                   EXISTS (SELECT 1 FROM persona_history ph
                            WHERE ph.persona_id = p.id AND ph.action = 'approve') AS approved_before,
                   CASE WHEN p.status = 'submitted' THEN
                        coalesce((SELECT max(ph.at) FROM persona_history ph
                                   WHERE ph.persona_id = p.id
                                     AND (ph.action = 'submit'
                                          OR (ph.action = 'identity_changed' AND ph.details ? 'resubmitted'))),
                                 p.updated_at)
                        ELSE p.approval_expires_at - make_interval(days => $5::integer) END AS waiting_since
              FROM personas p
              JOIN investigations i ON i.id = p.investigation_id
              JOIN users h ON h.id = p.handler_id
              JOIN users r ON r.id = p.requested_by
             WHERE {in_chain("p.unit_id", "$1", "$2")}
               AND (p.status = 'submitted'
                    OR (p.status = ANY($4::text[])
                        AND p.approval_expires_at < $3::timestamptz + make_interval(days => $5::integer)))
        ) waiting
         ORDER BY waiting_since, created_at, id
         LIMIT 500
        """,
        me,
        unit_roles,
        now,
        values(PersonaStatus.approved_like()),
        renew_within_days,
    )
    return rows

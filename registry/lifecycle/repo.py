"""SQL for the lifecycle: the facts the conditions weigh, gathered in one query, and the
periodic sweep's claims."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from registry.access import in_chain, persona_visible, visible_personas
from registry.status import PersonaStatus

# What a persona's accounts, devices and terms of service come to, as JSON arrays (sub-queries
# over the persona `p`).
_ACCOUNTS = """(SELECT coalesce(jsonb_agg(jsonb_build_object('platform', pl.name, 'status', a.status,
                                                         'created_on', a.created_on_site)
                                      ORDER BY pl.name), '[]')
              FROM platform_accounts a JOIN platforms pl ON pl.id = a.platform_id
             WHERE a.persona_id = p.id AND a.status IN ('requested', 'authorized', 'disabled'))"""
_DEVICES = """(SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'id', e.id, 'asset_tag', e.asset_tag, 'kind', e.kind, 'passed', li.passed,
                       'inspected_at', li.inspected_at, 'valid_until', li.valid_until)
                     ORDER BY e.asset_tag), '[]')
              FROM equipment_assignments ea
              JOIN equipment e ON e.id = ea.equipment_id
              LEFT JOIN LATERAL (SELECT passed, inspected_at, valid_until FROM isolation_inspections
                                  WHERE equipment_id = e.id ORDER BY inspected_at DESC, id DESC LIMIT 1) li
                     ON true
             WHERE ea.persona_id = p.id AND ea.released_at IS NULL)"""
_PLATFORMS = """(SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'platform', pl.name, 'reviewed_on', tr.reviewed_on,
                       'acknowledged', EXISTS (SELECT 1 FROM tos_acknowledgements ack
                                                WHERE ack.persona_id = p.id AND ack.tos_review_id = tr.id
                                                  AND ack.handler_id = p.handler_id))
                     ORDER BY pl.name), '[]')
              FROM platforms pl
              LEFT JOIN LATERAL (SELECT id, reviewed_on FROM tos_reviews WHERE platform_id = pl.id
                                  ORDER BY reviewed_on DESC, created_at DESC LIMIT 1) tr ON true
             WHERE pl.id IN (SELECT platform_id FROM platform_accounts
                              WHERE persona_id = p.id AND status IN ('requested', 'authorized')))"""

# The tables the facts are read from, after `FROM personas p`.
FACT_JOINS = """
      JOIN investigations i ON i.id = p.investigation_id
      -- At most one open review per handler and investigation (a unique index). It covers the
      -- persona only once it was approved (registry.reviews.repo): a draft of a handler who has
      -- a review for other personas has none scheduled for it yet.
      LEFT JOIN conduct_reviews cr ON cr.investigation_id = p.investigation_id AND cr.handler_id = p.handler_id
                                  AND cr.status = 'open' AND p.approved_at IS NOT NULL
"""


def fact_columns(gathered_when: str | None = None) -> str:
    """The facts the conditions weigh, as a SELECT list over `personas p` and FACT_JOINS; with
    `gathered_when` (a condition on `p`), accounts, devices and terms of service are gathered
    only for the personas it holds for (NULL for the others, which nobody judges)."""

    def gathered(subquery: str) -> str:
        return subquery if gathered_when is None else f"CASE WHEN {gathered_when} THEN {subquery} END"

    return f"""p.id, p.codename, p.status, p.suspended_from, p.version, p.approval_expires_at, p.handler_id,
           p.requested_by, p.investigation_id, p.unit_id, i.case_number, i.authorized_until,
           i.status AS investigation_status, i.refused_at, i.refusal_reason,
           {gathered(_ACCOUNTS)} AS accounts, {gathered(_DEVICES)} AS devices, {gathered(_PLATFORMS)} AS platforms,
           cr.due_on AS review_due_on,
           coalesce(cr.overdue_at IS NOT NULL, false) AS review_enforced"""


_FACTS = f"SELECT {fact_columns()} FROM personas p {FACT_JOINS}"
# Written out, not a parameter: the partial index personas_active serves only this condition.
_ACTIVE = f"p.status = '{PersonaStatus.ACTIVE.value}'"


# The statuses whose gate a list shows: what an active persona no longer meets, and when a dormant
# (approved) one's accounts come of age.
JUDGED = (PersonaStatus.ACTIVE, PersonaStatus.APPROVED)


async def visible_page(
    conn: asyncpg.Connection,
    me: UUID,
    unit_roles: list[str],
    *,
    status: str | None,
    investigation_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """One keyset page, newest first; never an identity column. Each row carries the gate's
    facts (`fact_columns`), gathered in full for the statuses of `JUDGED` only.

    Only the filters given enter the statement (one prepared statement per combination), so
    each plan can use the index that matches them; an `$n IS NULL OR ...` guard would leave a
    generic plan walking the whole table."""
    args: list[Any] = [me, unit_roles, limit]
    where: list[str] = []
    if status is not None:
        args.append(status)
        where.append(f"p.status = ${len(args)}")
    if investigation_id is not None:
        args.append(investigation_id)
        where.append(f"p.investigation_id = ${len(args)}")
    if after is not None:
        args.extend(after)
        where.append(f"(p.created_at, p.id) < (${len(args) - 1}, ${len(args)}::uuid)")
    judged = ", ".join(f"'{s.value}'" for s in JUDGED)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {fact_columns(gathered_when=f"p.status IN ({judged})")}, p.created_at, h.display_name AS handler
          FROM {visible_personas("$1", "$2", where=where, limit="$3")} v
          JOIN personas p ON p.id = v.id
          {FACT_JOINS}
          JOIN users h ON h.id = p.handler_id
         ORDER BY v.created_at DESC, v.id DESC
         LIMIT $3
        """,
        *args,
    )
    return rows


async def facts(
    conn: asyncpg.Connection, persona_ids: list[UUID], me: UUID, unit_roles: list[str]
) -> list[asyncpg.Record]:
    """One row per persona of `persona_ids` that `me` may see; `in_chain`: whether `me` is in
    the unit chain above its unit (a supervisor who sees it only through its team is not)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""SELECT f.*, {in_chain("f.unit_id", "$2", "$3")} AS in_chain
              FROM ({_FACTS} WHERE p.id = ANY($1::uuid[]) AND {persona_visible("p", "$2", "$3")}) f""",
        persona_ids,
        me,
        unit_roles,
    )
    return rows


async def active_on_platforms(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every active persona with a live account on a platform (for legal, who sees codenames only)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""{_FACTS}
         WHERE {_ACTIVE}
           AND EXISTS (SELECT 1 FROM platform_accounts a
                        WHERE a.persona_id = p.id AND a.status IN ('requested', 'authorized'))
         ORDER BY p.codename"""
    )
    return rows


async def claim_active(conn: asyncpg.Connection, after: UUID | None, limit: int) -> list[asyncpg.Record]:
    """The sweep's next batch of active personas, locked; another instance sweeping at the same
    time skips them and takes the next. The first batch and the next ones are two statements, so
    that each plan (generic: registry.db.pool) walks personas_active from where the last stopped."""
    args: list[Any] = [limit]
    if after is not None:
        args.append(after)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""{_FACTS}
         WHERE p.id IN (SELECT id FROM personas p WHERE {_ACTIVE}{" AND p.id > $2" if after is not None else ""}
                         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         ORDER BY p.id""",
        *args,
    )
    return rows


async def lapsing(conn: asyncpg.Connection, now: datetime, horizon: datetime) -> list[asyncpg.Record]:
    """What lapses between now and `horizon` while a persona is live and approved: its
    approval, its investigation's authorization, the inspection of a device it holds."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT 'approval_lapsing' AS kind, p.id AS persona_id, p.codename, p.handler_id,
               p.approval_expires_at AS lapses_at, NULL::text AS asset_tag, i.case_number, p.unit_id
          FROM personas p JOIN investigations i ON i.id = p.investigation_id
         WHERE p.status = ANY($3::text[]) AND p.approval_expires_at > $1 AND p.approval_expires_at <= $2
        UNION ALL
        SELECT 'authorization_lapsing', p.id, p.codename, p.handler_id, i.authorized_until, NULL, i.case_number,
               p.unit_id
          FROM personas p JOIN investigations i ON i.id = p.investigation_id
         WHERE p.status = ANY($3::text[]) AND i.authorized_until > $1 AND i.authorized_until <= $2
        UNION ALL
        SELECT 'inspection_lapsing', p.id, p.codename, p.handler_id, li.valid_until, e.asset_tag, i.case_number,
               p.unit_id
          FROM personas p
          JOIN investigations i ON i.id = p.investigation_id
          JOIN equipment_assignments ea ON ea.persona_id = p.id AND ea.released_at IS NULL
          JOIN equipment e ON e.id = ea.equipment_id
          JOIN LATERAL (SELECT passed, valid_until FROM isolation_inspections
                         WHERE equipment_id = e.id ORDER BY inspected_at DESC, id DESC LIMIT 1) li ON li.passed
         WHERE p.status = ANY($3::text[]) AND li.valid_until > $1 AND li.valid_until <= $2
        ORDER BY lapses_at
        """,
        now,
        horizon,
        [s.value for s in PersonaStatus.approved_like()],
    )
    return rows


async def last_warmed(conn: asyncpg.Connection, persona_ids: list[UUID]) -> dict[UUID, datetime]:
    """For each persona, its last activity, or its approval when it has none yet."""
    rows = await conn.fetch(
        """
        SELECT p.id, coalesce((SELECT max(a.occurred_at) FROM activity_log a WHERE a.persona_id = p.id),
                              p.approved_at) AS since
          FROM personas p WHERE p.id = ANY($1::uuid[])
        """,
        persona_ids,
    )
    return {r["id"]: r["since"] for r in rows if r["since"] is not None}

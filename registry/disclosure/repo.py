"""SQL for disclosure packs: the record of an investigation's personas, read department-wide
(auditors and legal answer to the court, not to the unit), and the policy's facts as they stood
at a past moment."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def investigation_by_case(conn: asyncpg.Connection, case_number: str) -> UUID | None:
    found: UUID | None = await conn.fetchval("SELECT id FROM investigations WHERE case_number = $1", case_number)
    return found


async def persona_by_codename(conn: asyncpg.Connection, codename: str) -> UUID | None:
    found: UUID | None = await conn.fetchval("SELECT id FROM personas WHERE codename = $1", codename)
    return found


async def investigation(conn: asyncpg.Connection, investigation_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT i.id, i.case_number, i.title, i.purpose, i.necessity, i.proportionality, i.collateral_intrusion,
               i.status, i.created_at, o.username AS opened_by, a.username AS authorized_by, i.authorized_at,
               i.authorized_until, i.authorization_note, f.username AS refused_by, i.refused_at, i.refusal_reason
          FROM investigations i
          JOIN users o ON o.id = i.opened_by
          LEFT JOIN users a ON a.id = i.authorized_by
          LEFT JOIN users f ON f.id = i.refused_by
         WHERE i.id = $1
        """,
        investigation_id,
    )
    return row


async def personas(conn: asyncpg.Connection, investigation_id: UUID, persona_id: UUID | None) -> list[asyncpg.Record]:
    """The investigation's personas, or only `persona_id`, with the sealed identity."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT p.id, p.codename, p.status, p.identity, p.version, p.created_at, p.handler_id,
               h.username AS handler, r.username AS requested_by, a.username AS approved_by, p.approved_at,
               p.approval_expires_at, p.rejection_reason
          FROM personas p
          JOIN users h ON h.id = p.handler_id
          JOIN users r ON r.id = p.requested_by
          LEFT JOIN users a ON a.id = p.approved_by
         WHERE p.investigation_id = $1 AND ($2::uuid IS NULL OR p.id = $2)
         ORDER BY p.codename
        """,
        investigation_id,
        persona_id,
    )
    return rows


async def history(conn: asyncpg.Connection, persona_ids: list[UUID]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT h.persona_id, h.at, h.action, u.username AS actor, h.details
          FROM persona_history h LEFT JOIN users u ON u.id = h.actor_id
         WHERE h.persona_id = ANY($1::uuid[])
         ORDER BY h.at, h.id
        """,
        persona_ids,
    )
    return rows


async def accounts(conn: asyncpg.Connection, persona_ids: list[UUID]) -> list[asyncpg.Record]:
    """Each account's record without its encrypted details or credential reference."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT a.id, a.persona_id, a.platform_id, pl.name AS platform, a.status, a.created_on_site,
               r.username AS requested_by, a.created_at AS requested_at, z.username AS authorized_by, a.authorized_at,
               d.username AS declined_by, a.declined_at
          FROM platform_accounts a
          JOIN platforms pl ON pl.id = a.platform_id
          JOIN users r ON r.id = a.requested_by
          LEFT JOIN users z ON z.id = a.authorized_by
          LEFT JOIN users d ON d.id = a.declined_by
         WHERE a.persona_id = ANY($1::uuid[])
         ORDER BY pl.name, a.created_at
        """,
        persona_ids,
    )
    return rows


async def tos_reviews(conn: asyncpg.Connection, platform_ids: list[UUID]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT t.id, t.platform_id, pl.name AS platform, t.reviewed_on, t.tos_version, t.prohibits_false_identity,
               t.prohibits_automation, t.risk, t.notes, u.username AS reviewed_by, t.created_at
          FROM tos_reviews t
          JOIN platforms pl ON pl.id = t.platform_id
          JOIN users u ON u.id = t.reviewed_by
         WHERE t.platform_id = ANY($1::uuid[])
         ORDER BY pl.name, t.reviewed_on, t.created_at
        """,
        platform_ids,
    )
    return rows


async def acknowledgements(conn: asyncpg.Connection, persona_ids: list[UUID]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT k.persona_id, k.tos_review_id, pl.name AS platform, t.tos_version, t.reviewed_on,
               u.username AS handler, k.acknowledged_at
          FROM tos_acknowledgements k
          JOIN tos_reviews t ON t.id = k.tos_review_id
          JOIN platforms pl ON pl.id = t.platform_id
          JOIN users u ON u.id = k.handler_id
         WHERE k.persona_id = ANY($1::uuid[])
         ORDER BY k.acknowledged_at
        """,
        persona_ids,
    )
    return rows


async def assignments(conn: asyncpg.Connection, persona_ids: list[UUID]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT ea.persona_id, ea.equipment_id, e.asset_tag, e.kind, ea.assigned_at, a.username AS assigned_by,
               ea.released_at, r.username AS released_by, ea.release_reason
          FROM equipment_assignments ea
          JOIN equipment e ON e.id = ea.equipment_id
          JOIN users a ON a.id = ea.assigned_by
          LEFT JOIN users r ON r.id = ea.released_by
         WHERE ea.persona_id = ANY($1::uuid[])
         ORDER BY ea.assigned_at
        """,
        persona_ids,
    )
    return rows


async def inspections(conn: asyncpg.Connection, equipment_ids: list[UUID]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT i.id, i.equipment_id, e.asset_tag, i.inspected_at, u.username AS inspected_by,
               i.on_department_network, i.department_identifiers_present, i.attributable_connection, i.notes,
               i.passed, i.valid_until
          FROM isolation_inspections i
          JOIN equipment e ON e.id = i.equipment_id
          JOIN users u ON u.id = i.inspected_by
         WHERE i.equipment_id = ANY($1::uuid[])
         ORDER BY e.asset_tag, i.inspected_at
        """,
        equipment_ids,
    )
    return rows


async def reviews(conn: asyncpg.Connection, investigation_id: UUID, persona_ids: list[UUID]) -> list[asyncpg.Record]:
    """The conduct reviews of the personas' handlers on the investigation, and any that covered
    one of them; their notes stay out (encrypted: what was said may touch identities)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT r.id, h.username AS handler, r.due_on, r.scheduled_for, r.status, r.held_on, r.outcome,
               r.follow_up_on, w.username AS recorded_by, r.recorded_at, r.created_at, r.overdue_at,
               (SELECT coalesce(array_agg(p.codename ORDER BY p.codename), '{}')
                  FROM conduct_review_personas c JOIN personas p ON p.id = c.persona_id
                 WHERE c.review_id = r.id) AS covered
          FROM conduct_reviews r
          JOIN users h ON h.id = r.handler_id
          LEFT JOIN users w ON w.id = r.recorded_by
         WHERE r.investigation_id = $1
           AND (r.handler_id IN (SELECT handler_id FROM personas WHERE id = ANY($2::uuid[]))
                OR r.id IN (SELECT review_id FROM conduct_review_personas WHERE persona_id = ANY($2::uuid[])))
         ORDER BY r.due_on, r.created_at
        """,
        investigation_id,
        persona_ids,
    )
    return rows


async def activity(conn: asyncpg.Connection, persona_ids: list[UUID]) -> list[asyncpg.Record]:
    """The activity log without its summaries (encrypted: they may touch identities)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT a.id, a.persona_id, a.occurred_at, pl.name AS platform, e.asset_tag, a.warming,
               u.username AS recorded_by, a.recorded_at
          FROM activity_log a
          JOIN platforms pl ON pl.id = a.platform_id
          JOIN equipment e ON e.id = a.equipment_id
          JOIN users u ON u.id = a.recorded_by
         WHERE a.persona_id = ANY($1::uuid[])
         ORDER BY a.occurred_at, a.recorded_at
        """,
        persona_ids,
    )
    return rows


# The row registry.lifecycle.conditions.evaluate judges, as it stood at $2: the same columns as
# registry.lifecycle.repo's facts, rebuilt from what the registry keeps with its dates (the
# history's approvals, the dated inspections, assignments, reviews and acknowledgements; the
# status and the investigation's authorization come from the audit trail, as $3 and $4).
# Not kept with dates, so taken as they are now: an account's creation day on its site, a
# review's due day; a suspension's origin is not weighed.
_FACTS_AS_OF = """
    WITH live_accounts AS (
        SELECT a.id, a.platform_id, pl.name AS platform, a.created_on_site,
               CASE WHEN EXISTS (SELECT 1 FROM persona_history d
                                  WHERE d.persona_id = a.persona_id AND d.action = 'account_disabled'
                                    AND d.details->>'account_id' = a.id::text AND d.at <= $2) THEN 'disabled'
                    WHEN a.declined_at IS NOT NULL AND a.declined_at <= $2 THEN 'declined'
                    WHEN a.authorized_at IS NOT NULL AND a.authorized_at <= $2 THEN 'authorized'
                    ELSE 'requested' END AS status
          FROM platform_accounts a JOIN platforms pl ON pl.id = a.platform_id
         WHERE a.persona_id = $1 AND a.created_at <= $2
    ),
    open_review AS (
        SELECT r.due_on, r.overdue_at FROM conduct_reviews r, personas p
         WHERE p.id = $1 AND r.investigation_id = p.investigation_id AND r.handler_id = p.handler_id
           AND r.created_at <= $2
           AND (r.status = 'open' OR (r.status = 'held' AND r.recorded_at > $2)
                OR (r.status = 'cancelled' AND r.updated_at > $2))
         ORDER BY r.created_at DESC LIMIT 1
    )
    SELECT p.id, p.codename,
           $3::text AS status,
           NULL::text AS suspended_from,
           (SELECT (h.details->>'expires_at')::timestamptz FROM persona_history h
             WHERE h.persona_id = p.id AND h.action IN ('approve', 'renew') AND h.at <= $2
             ORDER BY h.at DESC, h.id DESC LIMIT 1) AS approval_expires_at,
           i.case_number,
           $4::timestamptz AS authorized_until,
           CASE WHEN i.refused_at <= $2 THEN 'refused'
                WHEN $4::timestamptz IS NOT NULL THEN 'authorized'
                ELSE 'pending_authorization' END AS investigation_status,
           i.refused_at, i.refusal_reason,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('platform', la.platform, 'status', la.status,
                                                         'created_on', la.created_on_site)
                                      ORDER BY la.platform), '[]')
              FROM live_accounts la) AS accounts,
           (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'id', e.id, 'asset_tag', e.asset_tag, 'kind', e.kind, 'passed', li.passed,
                       'inspected_at', li.inspected_at, 'valid_until', li.valid_until)
                     ORDER BY e.asset_tag), '[]')
              FROM equipment_assignments ea
              JOIN equipment e ON e.id = ea.equipment_id
              LEFT JOIN LATERAL (SELECT passed, inspected_at, valid_until FROM isolation_inspections
                                  WHERE equipment_id = e.id AND inspected_at <= $2
                                  ORDER BY inspected_at DESC, id DESC LIMIT 1) li ON true
             WHERE ea.persona_id = p.id AND ea.assigned_at <= $2
               AND (ea.released_at IS NULL OR ea.released_at > $2)) AS devices,
           (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'platform', pl.name, 'reviewed_on', tr.reviewed_on,
                       'acknowledged', EXISTS (SELECT 1 FROM tos_acknowledgements ack
                                                WHERE ack.persona_id = p.id AND ack.tos_review_id = tr.id
                                                  AND ack.acknowledged_at <= $2))
                     ORDER BY pl.name), '[]')
              FROM platforms pl
              LEFT JOIN LATERAL (SELECT id, reviewed_on FROM tos_reviews
                                  WHERE platform_id = pl.id AND created_at <= $2
                                  ORDER BY reviewed_on DESC, created_at DESC LIMIT 1) tr ON true
             WHERE pl.id IN (SELECT platform_id FROM live_accounts
                              WHERE status IN ('requested', 'authorized'))) AS platforms,
           (SELECT due_on FROM open_review) AS review_due_on,
           coalesce((SELECT overdue_at <= $2 FROM open_review), false) AS review_enforced
      FROM personas p JOIN investigations i ON i.id = p.investigation_id
     WHERE p.id = $1
"""


async def facts_as_of(
    conn: asyncpg.Connection, persona_id: UUID, at: datetime, status: str, authorized_until: datetime | None
) -> asyncpg.Record:
    """`status` and `authorized_until` as the audit trail has them at `at` (the caller reads them
    from the events it cites, rather than this query scanning the log for each date)."""
    row: asyncpg.Record = await conn.fetchrow(_FACTS_AS_OF, persona_id, at, status, authorized_until)
    return row


async def audit_events(conn: asyncpg.Connection, target_ids: list[str], head_seq: int) -> list[asyncpg.Record]:
    """Every event about these records in the chain up to `head_seq`, in chain order: one
    committed since has no place in the head the pack carries."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, seq, encode(hash, 'hex') AS hash, occurred_at, actor, action, target_type, target_id, outcome,
               details
          FROM audit_event
         WHERE target_id = ANY($1::text[]) AND seq <= $2
         ORDER BY seq
        """,
        target_ids,
        head_seq,
    )
    return rows


async def cited_events(conn: asyncpg.Connection, ids: list[int]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, seq, encode(hash, 'hex') AS hash, occurred_at, action, target_type, target_id, outcome
          FROM audit_event WHERE id = ANY($1::bigint[])
        """,
        ids,
    )
    return rows


async def hash_at(conn: asyncpg.Connection, seq: int) -> str | None:
    found: str | None = await conn.fetchval("SELECT encode(hash, 'hex') FROM audit_event WHERE seq = $1", seq)
    return found


async def pack_event(conn: asyncpg.Connection, pack_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT id, seq, details FROM audit_event
         WHERE action = 'disclosure.create' AND outcome = 'success' AND details->>'pack_id' = $1
        """,
        pack_id,
    )
    return row

"""The facts the activation gate weighs, gathered in one query."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from registry.access import persona_visible


async def facts(
    conn: asyncpg.Connection, persona_ids: list[UUID], me: UUID, unit_roles: list[str], now: datetime
) -> list[asyncpg.Record]:
    """One row per visible persona of `persona_ids`."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT p.id, p.codename, p.status, p.approval_expires_at, p.handler_id,
               i.case_number, i.authorized_until,
               (SELECT coalesce(jsonb_agg(jsonb_build_object('platform', pl.name, 'status', a.status)
                                          ORDER BY pl.name), '[]')
                  FROM platform_accounts a JOIN platforms pl ON pl.id = a.platform_id
                 WHERE a.persona_id = p.id AND a.status IN ('requested', 'authorized')) AS accounts,
               (SELECT coalesce(jsonb_agg(jsonb_build_object(
                           'asset_tag', e.asset_tag, 'passed', li.passed, 'valid_until', li.valid_until,
                           'current', coalesce(li.passed AND li.valid_until > $4, false))
                         ORDER BY e.asset_tag), '[]')
                  FROM equipment_assignments ea
                  JOIN equipment e ON e.id = ea.equipment_id
                  LEFT JOIN LATERAL (SELECT passed, valid_until FROM isolation_inspections
                                      WHERE equipment_id = e.id ORDER BY inspected_at DESC, id DESC LIMIT 1) li
                         ON true
                 WHERE ea.persona_id = p.id AND ea.released_at IS NULL) AS devices,
               (SELECT coalesce(jsonb_agg(jsonb_build_object(
                           'platform', pl.name, 'reviewed_on', tr.reviewed_on,
                           'acknowledged', EXISTS (SELECT 1 FROM tos_acknowledgements ack
                                                    WHERE ack.persona_id = p.id AND ack.tos_review_id = tr.id
                                                      AND ack.handler_id = p.handler_id))
                         ORDER BY pl.name), '[]')
                  FROM platforms pl
                  LEFT JOIN LATERAL (SELECT id, reviewed_on FROM tos_reviews WHERE platform_id = pl.id
                                      ORDER BY reviewed_on DESC, created_at DESC LIMIT 1) tr ON true
                 WHERE pl.id IN (SELECT platform_id FROM platform_accounts
                                  WHERE persona_id = p.id AND status IN ('requested', 'authorized'))) AS platforms,
               cr.due_on AS review_due_on,
               coalesce(cr.overdue_at IS NOT NULL, false) AS review_enforced
          FROM personas p JOIN investigations i ON i.id = p.investigation_id
          -- At most one open review per handler and investigation (a unique index).
          LEFT JOIN conduct_reviews cr ON cr.investigation_id = p.investigation_id AND cr.handler_id = p.handler_id
                                      AND cr.status = 'open'
         WHERE p.id = ANY($1::uuid[]) AND {persona_visible("p", "$2", "$3")}
        """,
        persona_ids,
        me,
        unit_roles,
        now,
    )
    return rows

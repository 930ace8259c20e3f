"""SQL for linkage. Links are found by keyed digests and assignment history; only codenames,
asset tags and platform names come back, never an identity."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from registry.access import persona_visible
from registry.status import PersonaStatus, values

# Every (other persona, kind of link, what is shared) for persona $1.
_LINKS = """
    WITH devices AS (SELECT DISTINCT equipment_id FROM equipment_assignments WHERE persona_id = $1)
    SELECT ea.persona_id AS other, 'device' AS kind, e.asset_tag AS detail
      FROM equipment_assignments ea JOIN equipment e ON e.id = ea.equipment_id
     WHERE ea.equipment_id IN (SELECT equipment_id FROM devices) AND ea.persona_id <> $1
    UNION
    SELECT o.persona_id, 'recovery_email', pl.name
      FROM platform_accounts b
      JOIN platform_accounts o ON o.email_index = b.email_index AND o.persona_id <> $1
      JOIN platforms pl ON pl.id = o.platform_id
     WHERE b.persona_id = $1 AND b.email_index IS NOT NULL
    UNION
    SELECT o.persona_id, 'recovery_phone', pl.name
      FROM platform_accounts b
      JOIN platform_accounts o ON o.phone_index = b.phone_index AND o.persona_id <> $1
      JOIN platforms pl ON pl.id = o.platform_id
     WHERE b.persona_id = $1 AND b.phone_index IS NOT NULL
    UNION
    SELECT o.persona_id, 'photo',
           CASE WHEN o.file_index = b.file_index THEN 'the same photo file' ELSE 'a photo that looks the same' END
      FROM persona_photos b
      JOIN persona_photos o ON (o.file_index = b.file_index OR o.look_index = b.look_index) AND o.persona_id <> $1
     WHERE b.persona_id = $1
    UNION
    SELECT oa.persona_id, 'egress', oe.asset_tag
      FROM isolation_inspections bi
      JOIN isolation_inspections oi ON oi.egress_index = bi.egress_index AND oi.equipment_id <> bi.equipment_id
      JOIN equipment_assignments oa ON oa.equipment_id = oi.equipment_id AND oa.persona_id <> $1
      JOIN equipment oe ON oe.id = oi.equipment_id
     WHERE bi.equipment_id IN (SELECT equipment_id FROM devices) AND bi.egress_index IS NOT NULL
    UNION
    SELECT o.persona_id, 'handler_platform', pl.name
      FROM platform_accounts b
      JOIN platform_accounts o ON o.platform_id = b.platform_id AND o.persona_id <> $1
      JOIN personas op ON op.id = o.persona_id
      JOIN personas bp ON bp.id = $1 AND bp.handler_id = op.handler_id
      JOIN platforms pl ON pl.id = b.platform_id
     WHERE b.persona_id = $1
"""


async def linked(conn: asyncpg.Connection, persona_id: UUID, me: UUID, unit_roles: list[str]) -> list[asyncpg.Record]:
    """The live personas the caller may see that share a link with `persona_id`, with their
    links and the latest assessment of each."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        WITH links AS ({_LINKS})
        SELECT p.id, p.codename, p.status,
               jsonb_agg(DISTINCT jsonb_build_object('kind', l.kind, 'detail', l.detail)) AS links,
               (SELECT jsonb_build_object('decision', la.decision, 'reason', la.reason, 'by', u.username,
                                          'at', la.decided_at)
                  FROM linkage_assessments la JOIN users u ON u.id = la.decided_by
                 WHERE la.burned_id = $1 AND la.linked_id = p.id
                 ORDER BY la.decided_at DESC LIMIT 1) AS assessment
          FROM links l JOIN personas p ON p.id = l.other
         WHERE p.status <> ALL($4::text[]) AND {persona_visible("p", "$2", "$3")}
         GROUP BY p.id
         ORDER BY p.codename
        """,
        persona_id,
        me,
        unit_roles,
        values(PersonaStatus.closed()),
    )
    return rows


async def add_photo(
    conn: asyncpg.Connection, persona_id: UUID, file_index: bytes, look_index: bytes, me: UUID, now: datetime
) -> UUID:
    photo_id: UUID = await conn.fetchval(
        """INSERT INTO persona_photos (persona_id, file_index, look_index, added_by, added_at)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        persona_id,
        file_index,
        look_index,
        me,
        now,
    )
    return photo_id


async def photo_matches(
    conn: asyncpg.Connection, persona_id: UUID, file_index: bytes, look_index: bytes
) -> list[asyncpg.Record]:
    """Other personas (any state) with the same photo file, or one that looks the same."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT DISTINCT p.codename, p.status, u.display_name AS handler, ph.file_index = $2 AS same_file
          FROM persona_photos ph JOIN personas p ON p.id = ph.persona_id JOIN users u ON u.id = p.handler_id
         WHERE ph.persona_id <> $1 AND (ph.file_index = $2 OR ph.look_index = $3)
         ORDER BY p.codename
        """,
        persona_id,
        file_index,
        look_index,
    )
    return rows


async def contact_matches(
    conn: asyncpg.Connection, persona_id: UUID, platform_id: UUID, indexes: list[tuple[str, bytes]]
) -> list[asyncpg.Record]:
    """Other personas sharing a recovery contact: compromised ones anywhere, live ones on the
    same platform."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT DISTINCT p.codename, p.status, u.display_name AS handler, c.kind, pl.name AS platform
          FROM unnest($3::text[], $4::bytea[]) AS c(kind, idx)
          JOIN platform_accounts a ON (c.kind = 'email' AND a.email_index = c.idx)
                                   OR (c.kind = 'phone' AND a.phone_index = c.idx)
          JOIN personas p ON p.id = a.persona_id
          JOIN users u ON u.id = p.handler_id
          JOIN platforms pl ON pl.id = a.platform_id
         WHERE a.persona_id <> $1 AND (p.status = 'compromised' OR (a.platform_id = $2 AND p.status <> 'retired'))
         ORDER BY p.codename
        """,
        persona_id,
        platform_id,
        [k for k, _ in indexes],
        [i for _, i in indexes],
    )
    return rows


async def device_matches(conn: asyncpg.Connection, persona_id: UUID, equipment_id: UUID) -> list[asyncpg.Record]:
    """Personas the device served before: compromised ones, and live ones on a platform this
    persona also uses."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT DISTINCT p.codename, p.status, u.display_name AS handler
          FROM equipment_assignments ea
          JOIN personas p ON p.id = ea.persona_id
          JOIN users u ON u.id = p.handler_id
         WHERE ea.equipment_id = $2 AND ea.persona_id <> $1
           AND (p.status = 'compromised'
                OR (p.status <> 'retired' AND EXISTS (
                        SELECT 1 FROM platform_accounts mine JOIN platform_accounts theirs
                                 ON theirs.platform_id = mine.platform_id
                         WHERE mine.persona_id = $1 AND theirs.persona_id = p.id)))
         ORDER BY p.codename
        """,
        persona_id,
        equipment_id,
    )
    return rows


async def assess(
    conn: asyncpg.Connection,
    burned_id: UUID,
    linked_id: UUID,
    decision: str,
    reason: str,
    links: list[dict[str, str]],
    me: UUID,
    now: datetime,
) -> UUID:
    assessment_id: UUID = await conn.fetchval(
        """INSERT INTO linkage_assessments (burned_id, linked_id, decision, reason, links, decided_by, decided_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
        burned_id,
        linked_id,
        decision,
        reason,
        links,
        me,
        now,
    )
    return assessment_id

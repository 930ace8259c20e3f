"""SQL for department equipment, isolation inspections and assignments."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

_LIST = """
    SELECT e.id, e.asset_tag, e.kind, e.serial, e.make_model, e.ownership, e.status,
           li.inspected_at AS last_inspected_at, li.passed AS inspection_passed,
           li.valid_until AS inspection_valid_until, p.codename AS assigned_to
      FROM equipment e
      LEFT JOIN LATERAL (SELECT inspected_at, passed, valid_until FROM isolation_inspections
                          WHERE equipment_id = e.id ORDER BY inspected_at DESC, id DESC LIMIT 1) li ON true
      LEFT JOIN equipment_assignments ea ON ea.equipment_id = e.id AND ea.released_at IS NULL
      LEFT JOIN personas p ON p.id = ea.persona_id
"""


async def insert(
    conn: asyncpg.Connection, asset_tag: str, kind: str, serial: str, make_model: str | None, me: UUID, now: datetime
) -> UUID | None:
    equipment_id: UUID | None = await conn.fetchval(
        """
        INSERT INTO equipment (asset_tag, kind, serial, make_model, ownership, created_by, created_at)
        VALUES ($1, $2, $3, $4, 'department', $5, $6)
        ON CONFLICT (asset_tag) DO NOTHING
        RETURNING id
        """,
        asset_tag,
        kind,
        serial,
        make_model,
        me,
        now,
    )
    return equipment_id


async def get(conn: asyncpg.Connection, equipment_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{_LIST} WHERE e.id = $1", equipment_id)


async def list_all(conn: asyncpg.Connection, status: str | None) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"{_LIST} WHERE ($1::text IS NULL OR e.status = $1) ORDER BY e.asset_tag LIMIT 1000", status
    )
    return rows


async def add_inspection(
    conn: asyncpg.Connection,
    equipment_id: UUID,
    me: UUID,
    now: datetime,
    valid_until: datetime,
    on_network: bool,
    identifiers: bool,
    attributable: bool,
    notes: str | None,
    egress_index: bytes | None = None,
) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        """
        INSERT INTO isolation_inspections (equipment_id, inspected_at, inspected_by, on_department_network,
                                           department_identifiers_present, attributable_connection, notes,
                                           valid_until, egress_index)
        VALUES ($1, $3, $2, $5, $6, $7, $8, $4, $9)
        RETURNING id, inspected_at, passed, valid_until
        """,
        equipment_id,
        me,
        now,
        valid_until,
        on_network,
        identifiers,
        attributable,
        notes,
        egress_index,
    )
    return row


async def get_inspection(conn: asyncpg.Connection, inspection_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT i.id, i.equipment_id, e.asset_tag, i.inspected_at, u.username AS inspected_by, i.passed,
               i.valid_until, i.on_department_network, i.department_identifiers_present, i.attributable_connection
          FROM isolation_inspections i
          JOIN equipment e ON e.id = i.equipment_id
          JOIN users u ON u.id = i.inspected_by
         WHERE i.id = $1
        """,
        inspection_id,
    )


async def release_quarantine(conn: asyncpg.Connection, equipment_id: UUID) -> None:
    """A passing inspection returns a quarantined device to service."""
    await conn.execute(
        "UPDATE equipment SET status = 'available' WHERE id = $1 AND status = 'quarantined'", equipment_id
    )


async def claim_for_assignment(conn: asyncpg.Connection, equipment_id: UUID, now: datetime) -> bool:
    """Take an available device whose latest isolation inspection passed and is current, in one
    statement: of two requests racing for it, one finds it no longer available."""
    row = await conn.fetchrow(
        """
        UPDATE equipment e SET status = 'assigned'
         WHERE e.id = $1 AND e.status = 'available'
           AND (SELECT i.passed AND i.valid_until > $2 FROM isolation_inspections i
                 WHERE i.equipment_id = e.id ORDER BY i.inspected_at DESC, i.id DESC LIMIT 1)
        RETURNING e.id
        """,
        equipment_id,
        now,
    )
    return row is not None


async def insert_assignment(
    conn: asyncpg.Connection, equipment_id: UUID, persona_id: UUID, me: UUID, now: datetime
) -> None:
    await conn.execute(
        """
        INSERT INTO equipment_assignments (equipment_id, persona_id, assigned_at, assigned_by)
        VALUES ($1, $2, $3, $4)
        """,
        equipment_id,
        persona_id,
        now,
        me,
    )


async def release(
    conn: asyncpg.Connection,
    equipment_id: UUID,
    persona_id: UUID,
    me: UUID,
    now: datetime,
    reason: str,
    to_status: str,
) -> bool:
    row = await conn.fetchrow(
        """
        WITH released AS (
            UPDATE equipment_assignments SET released_at = $4, released_by = $3, release_reason = $5
             WHERE equipment_id = $1 AND persona_id = $2 AND released_at IS NULL
            RETURNING equipment_id
        )
        UPDATE equipment SET status = $6 WHERE id IN (SELECT equipment_id FROM released)
        RETURNING id
        """,
        equipment_id,
        persona_id,
        me,
        now,
        reason,
        to_status,
    )
    return row is not None


async def assigned_to_persona(conn: asyncpg.Connection, persona_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT ea.equipment_id, e.asset_tag
          FROM equipment_assignments ea JOIN equipment e ON e.id = ea.equipment_id
         WHERE ea.persona_id = $1 AND ea.released_at IS NULL
        """,
        persona_id,
    )
    return rows


async def retire(conn: asyncpg.Connection, equipment_id: UUID) -> bool:
    """Take a device out of service for good; one serving a persona must be released first."""
    row = await conn.fetchrow(
        "UPDATE equipment SET status = 'retired' WHERE id = $1 AND status IN ('available', 'quarantined') RETURNING id",
        equipment_id,
    )
    return row is not None

"""SQL for conduct review schedules (003 IV.B.4)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg


async def ensure_open(
    conn: asyncpg.Connection, investigation_id: UUID, handler_id: UUID, due_on: date, now: datetime
) -> None:
    """One open review covers a handler's personas in an investigation: create it if there is
    none, or bring its due date forward when a shorter interval asks for an earlier one."""
    await conn.execute(
        """
        INSERT INTO conduct_reviews (investigation_id, handler_id, due_on, created_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (investigation_id, handler_id) WHERE status = 'open'
        DO UPDATE SET due_on = least(conduct_reviews.due_on, excluded.due_on)
        """,
        investigation_id,
        handler_id,
        due_on,
        now,
    )

"""SQL for conduct reviews (003 IV.B.4): one open review per handler and investigation covers
every persona of that handler in it that is approved, active or suspended."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg

from registry.access import review_visible, visible_open_reviews, visible_reviews
from registry.status import PersonaStatus, values

# The personas an open review covers: the handler's live personas in the investigation that
# were ever approved. A persona sent back for approval by an edit was in use and still is
# answerable for it, so an edit never takes a persona out of its review (003 IV.B.4).
_COVERED_BY = (
    """
    p.investigation_id = {investigation} AND p.handler_id = {handler} AND p.approved_at IS NOT NULL
    AND p.status <> ALL('{{"""
    + ",".join(values(PersonaStatus.closed()))
    + """}}'::text[])
"""
)

_COVERED = f"""
    SELECT p.id, p.codename, p.status, p.review_interval_days
      FROM personas p
     WHERE {_COVERED_BY.format(investigation="$1", handler="$2")}
     ORDER BY p.codename
"""

_REVIEW = f"""
    SELECT cr.id, cr.investigation_id, i.case_number, cr.handler_id, h.username AS handler_username,
           h.display_name AS handler_name, cr.due_on, cr.scheduled_for, cr.status, cr.held_on, cr.outcome,
           cr.revision, cr.overdue_at, cr.created_at, cr.updated_at,
           CASE WHEN cr.status = 'held'
                THEN ARRAY(SELECT p.codename FROM conduct_review_personas crp JOIN personas p ON p.id = crp.persona_id
                            WHERE crp.review_id = cr.id ORDER BY p.codename)
                ELSE ARRAY(SELECT p.codename FROM personas p
                            WHERE {_COVERED_BY.format(investigation="cr.investigation_id", handler="cr.handler_id")}
                            ORDER BY p.codename)
           END AS codenames
      FROM conduct_reviews cr
      JOIN investigations i ON i.id = cr.investigation_id
      JOIN users h ON h.id = cr.handler_id
"""

# The day a review sits on in a calendar: when it was held, else when it is scheduled, else due
# (indexed with handler_id and with unit_id: migration 0017).
_DAY = "coalesce(cr.held_on, (cr.scheduled_for AT TIME ZONE 'UTC')::date, cr.due_on)"


async def ensure_open(
    conn: asyncpg.Connection, investigation_id: UUID, handler_id: UUID, due_on: date, now: datetime
) -> None:
    """One open review covers a handler's personas in an investigation: create it if there is
    none, or bring its due date forward when a shorter interval asks for an earlier one."""
    await conn.execute(
        """
        INSERT INTO conduct_reviews (investigation_id, handler_id, due_on, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $4)
        ON CONFLICT (investigation_id, handler_id) WHERE status = 'open'
        DO UPDATE SET due_on = excluded.due_on, revision = conduct_reviews.revision + 1,
                      updated_at = excluded.updated_at, reminded_at = NULL
                WHERE excluded.due_on < conduct_reviews.due_on
        """,
        investigation_id,
        handler_id,
        due_on,
        now,
    )


async def open_due_on(conn: asyncpg.Connection, investigation_id: UUID, handler_id: UUID) -> date | None:
    due: date | None = await conn.fetchval(
        "SELECT due_on FROM conduct_reviews WHERE investigation_id = $1 AND handler_id = $2 AND status = 'open'",
        investigation_id,
        handler_id,
    )
    return due


async def cancel_if_uncovered(
    conn: asyncpg.Connection, investigation_id: UUID, handler_id: UUID, now: datetime
) -> UUID | None:
    """Cancel the open review of a handler who no longer has a persona in the investigation
    to review (all retired, compromised or handed over), while it is not yet due. A review
    that has come due stays until it is held: retiring a persona and requesting another never
    clears a missed review (003 IV.B.4). The cancelled review's id, if any."""
    cancelled: UUID | None = await conn.fetchval(
        f"""
        UPDATE conduct_reviews cr
           SET status = 'cancelled', revision = cr.revision + 1, updated_at = $3
         WHERE cr.investigation_id = $1 AND cr.handler_id = $2 AND cr.status = 'open'
           AND cr.overdue_at IS NULL AND cr.due_on > ($3::timestamptz AT TIME ZONE 'UTC')::date
           AND NOT EXISTS (SELECT 1 FROM personas p WHERE {_COVERED_BY.format(investigation="$1", handler="$2")})
        RETURNING cr.id
        """,
        investigation_id,
        handler_id,
        now,
    )
    return cancelled


async def covered(conn: asyncpg.Connection, investigation_id: UUID, handler_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(_COVERED, investigation_id, handler_id)
    return rows


async def held_personas(conn: asyncpg.Connection, review_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT p.id, p.codename, p.status, p.review_interval_days
          FROM conduct_review_personas crp JOIN personas p ON p.id = crp.persona_id
         WHERE crp.review_id = $1 ORDER BY p.codename
        """,
        review_id,
    )
    return rows


async def in_range(
    conn: asyncpg.Connection, me: UUID, unit_roles: list[str], start: date, end: date, *, cancelled: bool
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        {_REVIEW}
         WHERE cr.id = ANY(ARRAY{visible_reviews("$1", "$2", day=_DAY, start="$3", end="$4")})
           AND (cr.status <> 'cancelled' OR $5)
         ORDER BY {_DAY}, cr.scheduled_for NULLS LAST, i.case_number, cr.id
        """,
        me,
        unit_roles,
        start,
        end,
        cancelled,
    )
    return rows


async def open_due_by(conn: asyncpg.Connection, me: UUID, unit_roles: list[str], horizon: date) -> list[asyncpg.Record]:
    """Open reviews `me` sees that are due by `horizon`, oldest due first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        {_REVIEW}
         WHERE cr.id = ANY(ARRAY(SELECT v.id FROM {visible_open_reviews("$1", "$2", due_by="$3")} v))
         ORDER BY cr.due_on, i.case_number, cr.id
        """,
        me,
        unit_roles,
        horizon,
    )
    return rows


async def oldest_open_due(conn: asyncpg.Connection, me: UUID, unit_roles: list[str]) -> date | None:
    due: date | None = await conn.fetchval(
        f"SELECT min(v.due_on) FROM {visible_open_reviews('$1', '$2', limit='1')} v",
        me,
        unit_roles,
    )
    return due


async def get_visible(
    conn: asyncpg.Connection, review_id: UUID, me: UUID, unit_roles: list[str], *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        {_REVIEW}
         WHERE cr.id = $1 AND {review_visible("cr", "$2", "$3")}
        {"FOR UPDATE OF cr" if lock else ""}
        """,
        review_id,
        me,
        unit_roles,
    )


async def record_of(conn: asyncpg.Connection, review_id: UUID) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        """
        SELECT cr.attendees, cr.notes, cr.findings, cr.actions, cr.follow_up_on, r.username AS recorded_by,
               cr.recorded_at,
               (SELECT coalesce(jsonb_agg(jsonb_build_object('id', u.id, 'display_name', u.display_name)
                                          ORDER BY u.display_name), '[]')
                  FROM users u WHERE u.id = ANY(cr.attendees)) AS attendee_names
          FROM conduct_reviews cr LEFT JOIN users r ON r.id = cr.recorded_by
         WHERE cr.id = $1
        """,
        review_id,
    )
    return row


async def previous_held_on(
    conn: asyncpg.Connection, investigation_id: UUID, handler_id: UUID, before: date | None
) -> date | None:
    held: date | None = await conn.fetchval(
        """
        SELECT max(held_on) FROM conduct_reviews
         WHERE investigation_id = $1 AND handler_id = $2 AND status = 'held' AND ($3::date IS NULL OR held_on < $3)
        """,
        investigation_id,
        handler_id,
        before,
    )
    return held


async def first_approved_at(conn: asyncpg.Connection, persona_ids: list[UUID]) -> datetime | None:
    at: datetime | None = await conn.fetchval(
        "SELECT min(at) FROM persona_history WHERE persona_id = ANY($1::uuid[]) AND action = 'approve'", persona_ids
    )
    return at


async def reschedule(
    conn: asyncpg.Connection, review_id: UUID, scheduled_for: datetime, due_on: date, now: datetime
) -> None:
    await conn.execute(
        """
        UPDATE conduct_reviews
           SET scheduled_for = $2, due_on = $3, revision = revision + 1, updated_at = $4,
               -- A postponed review is reminded afresh. An enforced one stays enforced: its
               -- personas stay suspended until it is held, whatever the new date.
               reminded_at = CASE WHEN due_on = $3 THEN reminded_at END
         WHERE id = $1
        """,
        review_id,
        scheduled_for,
        due_on,
        now,
    )


async def hold(
    conn: asyncpg.Connection,
    review_id: UUID,
    *,
    held_on: date,
    attendees: list[UUID],
    notes: bytes,
    findings: bytes | None,
    actions: bytes | None,
    follow_up_on: date | None,
    outcome: str,
    recorded_by: UUID,
    now: datetime,
    persona_ids: list[UUID],
) -> None:
    await conn.execute(
        """
        UPDATE conduct_reviews
           SET status = 'held', held_on = $2, attendees = $3, notes = $4, findings = $5, actions = $6,
               follow_up_on = $7, outcome = $8, recorded_by = $9, recorded_at = $10, revision = revision + 1,
               updated_at = $10
         WHERE id = $1
        """,
        review_id,
        held_on,
        attendees,
        notes,
        findings,
        actions,
        follow_up_on,
        outcome,
        recorded_by,
        now,
    )
    await conn.executemany(
        "INSERT INTO conduct_review_personas (review_id, persona_id) VALUES ($1, $2)",
        [(review_id, pid) for pid in persona_ids],
    )


async def active_users(conn: asyncpg.Connection, ids: list[UUID]) -> list[UUID]:
    found: list[UUID] = [
        r["id"] for r in await conn.fetch("SELECT id FROM users WHERE id = ANY($1::uuid[]) AND active", ids)
    ]
    return found


# --- periodic work: each claims its rows with FOR UPDATE SKIP LOCKED and marks them done in the
# same transaction, so however many instances sweep at once, each row is handled once.


async def claim_overdue(conn: asyncpg.Connection, due_before: date, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT cr.id, cr.investigation_id, cr.handler_id, cr.due_on, cr.scheduled_for, cr.unit_id
          FROM conduct_reviews cr
         WHERE cr.status = 'open' AND cr.overdue_at IS NULL AND cr.due_on < $1
         ORDER BY cr.due_on
         LIMIT $2
           FOR UPDATE SKIP LOCKED
        """,
        due_before,
        limit,
    )
    return rows


async def mark_overdue(conn: asyncpg.Connection, review_id: UUID, now: datetime) -> None:
    await conn.execute("UPDATE conduct_reviews SET overdue_at = $2 WHERE id = $1", review_id, now)


async def claim_reminders(conn: asyncpg.Connection, horizon: date, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT cr.id, cr.investigation_id, cr.handler_id, cr.due_on, cr.scheduled_for, cr.unit_id
          FROM conduct_reviews cr
         WHERE cr.status = 'open' AND cr.reminded_at IS NULL AND cr.overdue_at IS NULL
           AND least(cr.due_on, (cr.scheduled_for AT TIME ZONE 'UTC')::date) <= $1
         ORDER BY cr.due_on
         LIMIT $2
           FOR UPDATE SKIP LOCKED
        """,
        horizon,
        limit,
    )
    return rows


async def mark_reminded(conn: asyncpg.Connection, review_id: UUID, now: datetime) -> None:
    await conn.execute("UPDATE conduct_reviews SET reminded_at = $2 WHERE id = $1", review_id, now)


# --- the calendar feed


async def set_calendar_token(conn: asyncpg.Connection, user_id: UUID, digest: bytes) -> None:
    await conn.execute("UPDATE users SET calendar_token = $2 WHERE id = $1", user_id, digest)


async def feed_owner(conn: asyncpg.Connection, digest: bytes) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT id, username, roles FROM users WHERE calendar_token = $1 AND active", digest)

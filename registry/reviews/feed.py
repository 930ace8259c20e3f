"""The calendar feed (RFC 5545) a commander or handler subscribes to from Outlook, Google
Calendar or Apple Calendar. It leaves the confidential zone, so it carries codenames, case
numbers and times only: no alias, legend, handler name or notes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg

from registry.audit.actions import Action
from registry.audit.service import record
from registry.errors import NotFound
from registry.permissions import Permission
from registry.reviews import repo
from registry.reviews.service import standing_of
from registry.runtime import RequestContext, Runtime

if TYPE_CHECKING:
    from icalendar import Event

# The window a feed holds: recent reviews, and those ahead.
PAST = timedelta(days=92)
AHEAD = timedelta(days=400)
MEETING = timedelta(hours=1)
_LABELS = {
    "upcoming": "Conduct review",
    "due_soon": "Conduct review (due soon)",
    "in_grace": "Conduct review (past due, in grace)",
    "overdue": "Conduct review OVERDUE",
    "held": "Conduct review held",
    "cancelled": "Conduct review cancelled",
}
NOT_FOUND = "No such calendar feed: the link may have been replaced by a newer one."


def uid(review_id: UUID) -> str:
    """Stable across updates, so a rescheduled review moves instead of appearing twice."""
    return f"conduct-review-{review_id}@persona-registry"


def _event(row: asyncpg.Record, status: str, stamp: datetime) -> Event:
    codenames = ", ".join(row["codenames"]) or "no live persona"
    from icalendar import Event

    event = Event()
    event.add("uid", uid(row["id"]))
    event.add("dtstamp", stamp)
    event.add("sequence", row["revision"])
    event.add("summary", f"{_LABELS[status]}: {codenames} (case {row['case_number']})")
    lines = [f"Case {row['case_number']}", f"Personas: {codenames}", f"Due {row['due_on']:%Y-%m-%d}"]
    if row["held_on"]:
        lines.append(f"Held {row['held_on']:%Y-%m-%d}")
    event.add("description", "\n".join(lines))
    start: date | datetime
    if row["held_on"]:
        start = row["held_on"]
    elif row["scheduled_for"]:
        start = row["scheduled_for"]
    else:
        start = row["due_on"]
    event.add("dtstart", start)
    if isinstance(start, datetime):
        event.add("dtend", start + MEETING)
    else:
        # An all-day entry on the due date: a reminder, not a meeting that blocks the day.
        event.add("dtend", start + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
    event.add("status", "CANCELLED" if status == "cancelled" else "CONFIRMED")
    if row["updated_at"]:
        event.add("last-modified", row["updated_at"])
    return event


async def render(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, token: str) -> bytes:
    """The feed behind a secret URL; 404 for a replaced token, a disabled user, or an owner
    whose roles no longer read the calendar. It shows what the owner's calendar shows now."""
    owner = await repo.feed_owner(conn, runtime.keyring.digest(f"calendar:{token}"))
    if owner is None or Permission.REVIEW_READ not in runtime.permissions.for_roles(owner["roles"]):
        raise NotFound(NOT_FOUND)
    today = ctx.now.date()
    rows = await repo.in_range(
        conn, owner["id"], runtime.permissions.unit_wide_roles, today - PAST, today + AHEAD, cancelled=True
    )
    # Loaded on first use: icalendar costs a worker about 4 MB that only feed requests need.
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", "-//Persona Registry//Conduct reviews//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Conduct reviews")
    # Ask clients to look again hourly (Apple, Outlook; Google polls on its own schedule).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for row in rows:
        calendar.add_component(_event(row, standing_of(row, runtime.policy, today), ctx.now))
    await record(
        conn,
        ctx,
        Action.CALENDAR_FEED_READ,
        target_type="user",
        target_id=owner["id"],
        details={"username": owner["username"], "reviews": len(rows)},
    )
    body: bytes = calendar.to_ical()
    return body

"""Conduct reviews (003 IV.B.4): handlers "meet periodically with the investigations commander
to review the conduct of the investigation".

A review is scheduled when a persona is approved (registry.lifecycle) and covers every live
persona of that handler in that investigation that was ever approved. The commander
records it (held on, attendees, confidential notes, findings, outcome); the next one is then
due from the held date. Missed reviews are enforced by the periodic sweep (reviews.jobs)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from registry.activity import service as activity_service
from registry.audit.actions import Action, History
from registry.audit.service import record
from registry.errors import BadRequest, Forbidden, Invalid, InvalidTransition, NotFound
from registry.permissions import Permission
from registry.personas import repo as personas_repo
from registry.personas.schemas import ReasonIn, StatusOut
from registry.policy import Policy
from registry.reviews import repo
from registry.reviews.schemas import (
    Attendee,
    CalendarToken,
    Complete,
    Completed,
    CoveredPersona,
    Handler,
    Reschedule,
    ReviewDetail,
    ReviewList,
    ReviewOut,
    ReviewRecord,
    Standing,
    Status,
)
from registry.runtime import RequestContext, Runtime
from registry.status import PersonaStatus

NOT_FOUND = "No such conduct review, or it is not one of yours."
# The widest calendar window one request may ask for.
MAX_RANGE = timedelta(days=400)
ACTIVITY_LIMIT = 500


# The standings that ask for the commander's action, most urgent first.
NEEDS_ACTION: tuple[Standing, ...] = ("overdue", "in_grace", "due_soon")


def overdue_after(due_on: date, policy: Policy) -> date:
    """The last day of grace: an open review still open the day after is overdue (003 IV.B.4)."""
    return due_on + timedelta(days=policy.personas.review_grace_days)


def standing(due_on: date, policy: Policy, today: date) -> Standing:
    """Where an open review due on `due_on` stands today: overdue once past the due date plus
    the policy's grace; in grace from the day after its due date; due soon within the
    reminder window; upcoming before it. The one rule every page, list and feed shows."""
    if overdue_after(due_on, policy) < today:
        return "overdue"
    if due_on < today:
        return "in_grace"
    if due_on - timedelta(days=policy.personas.review_reminder_days) <= today:
        return "due_soon"
    return "upcoming"


def standing_of(row: asyncpg.Record, policy: Policy, today: date) -> Standing:
    if row["status"] in ("held", "cancelled"):
        closed: Standing = row["status"]
        return closed
    return standing(row["due_on"], policy, today)


def status_of(row: asyncpg.Record, policy: Policy, today: date) -> Status:
    """The API's original status, where the days of grace still count as due_soon."""
    found = standing_of(row, policy, today)
    return "due_soon" if found == "in_grace" else found


def review_out(row: asyncpg.Record, policy: Policy, today: date) -> ReviewOut:
    return ReviewOut(
        id=row["id"],
        investigation_id=row["investigation_id"],
        case_number=row["case_number"],
        handler=Handler(id=row["handler_id"], username=row["handler_username"], display_name=row["handler_name"]),
        persona_codenames=list(row["codenames"]),
        due_on=row["due_on"],
        scheduled_for=row["scheduled_for"],
        status=status_of(row, policy, today),
        held_on=row["held_on"],
        outcome=row["outcome"],
        standing=standing_of(row, policy, today),
        overdue_after=overdue_after(row["due_on"], policy) if row["status"] == "open" else None,
    )


async def calendar(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, start: date | None, end: date | None
) -> ReviewList:
    """Reviews whose day (held, else scheduled, else due) falls in [start, end]: the commander
    and supervisors see the unit's, a handler their own. Defaults: a month back (or back to the
    oldest review still open, so nothing outstanding is out of sight) to three months ahead."""
    today = ctx.now.date()
    unit_roles = runtime.permissions.unit_wide_roles
    if start is None:
        oldest = await repo.oldest_open_due(conn, ctx.me.id, unit_roles)
        start = min(today - timedelta(days=31), oldest or today)
    end = end or today + timedelta(days=92)
    if end < start:
        raise BadRequest("to must not be before from.", field="to")
    if end - start > MAX_RANGE:
        raise BadRequest(f"Ask for at most {MAX_RANGE.days} days at a time.", field="to")
    rows = await repo.in_range(conn, ctx.me.id, unit_roles, start, end, cancelled=False)
    return ReviewList(items=[review_out(r, runtime.policy, today) for r in rows])


async def needs_action(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext) -> ReviewList:
    """The open reviews the caller sees that are overdue, in grace or due soon, oldest due
    first: what the calendar and the overviews put above everything else."""
    today = ctx.now.date()
    horizon = today + timedelta(days=runtime.policy.personas.review_reminder_days)
    rows = await repo.open_due_by(conn, ctx.me.id, runtime.permissions.unit_wide_roles, horizon)
    return ReviewList(items=[review_out(r, runtime.policy, today) for r in rows])


async def _visible(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, review_id: UUID, *, lock: bool = False
) -> asyncpg.Record:
    row = await repo.get_visible(conn, review_id, ctx.me.id, runtime.permissions.unit_wide_roles, lock=lock)
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def _context(review_id: UUID, part: str) -> str:
    return f"conduct_reviews.{part}:{review_id}"


async def detail(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, review_id: UUID) -> ReviewDetail:
    """The review page: who and what it covers, the covered personas' activity since the last
    review, and what was recorded. Every read is audited: notes are confidential."""
    row = await _visible(conn, runtime, ctx, review_id)
    held = row["status"] == "held"
    personas = (
        await repo.held_personas(conn, review_id)
        if held
        else await repo.covered(conn, row["investigation_id"], row["handler_id"])
    )
    persona_ids = [p["id"] for p in personas]
    previous = await repo.previous_held_on(conn, row["investigation_id"], row["handler_id"], row["held_on"])
    since = (
        datetime.combine(previous, datetime.min.time(), tzinfo=ctx.now.tzinfo)
        if previous
        else await repo.first_approved_at(conn, persona_ids)
    )
    activity = (
        await activity_service.since(conn, runtime, persona_ids, since, ACTIVITY_LIMIT) if since and persona_ids else []
    )
    review_record = None
    if held:
        stored = await repo.record_of(conn, review_id)
        review_record = ReviewRecord(
            attendees=msgspec.convert(stored["attendee_names"], list[Attendee]),
            notes=runtime.keyring.decrypt(bytes(stored["notes"]), _context(review_id, "notes")),
            findings=(
                runtime.keyring.decrypt(bytes(stored["findings"]), _context(review_id, "findings"))
                if stored["findings"] is not None
                else None
            ),
            actions=(
                msgspec.json.decode(runtime.keyring.decrypt(bytes(stored["actions"]), _context(review_id, "actions")))
                if stored["actions"] is not None
                else []
            ),
            follow_up_on=stored["follow_up_on"],
            recorded_by=stored["recorded_by"],
            recorded_at=stored["recorded_at"],
        )
    await record(
        conn,
        ctx,
        Action.REVIEW_READ,
        target_type="conduct_review",
        target_id=review_id,
        details={"codenames": list(row["codenames"]), "activity_entries": len(activity)},
    )
    return ReviewDetail(
        review=review_out(row, runtime.policy, ctx.now.date()),
        personas=[CoveredPersona(id=p["id"], codename=p["codename"], status=p["status"]) for p in personas],
        previous_held_on=previous,
        activity_since=since,
        activity=activity,
        record=review_record,
    )


async def reschedule(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, review_id: UUID, data: Reschedule
) -> ReviewOut:
    """Set the meeting time. Up to the due date plus the policy's grace, anyone who sees the
    review may; later needs whoever holds reviews, and then the due date moves with it."""
    row = await _visible(conn, runtime, ctx, review_id, lock=True)
    if row["status"] != "open":
        raise InvalidTransition(f"The review is {row['status']}; only an open review can be rescheduled.")
    if data.scheduled_for.tzinfo is None:
        raise Invalid("scheduled_for needs a time zone (for example 2026-03-20T14:00:00Z).", field="scheduled_for")
    try:
        when = data.scheduled_for.astimezone(ctx.now.tzinfo)
    except OverflowError:
        when = datetime.max.replace(tzinfo=ctx.now.tzinfo)
    if when <= ctx.now:
        raise Invalid("scheduled_for must be in the future.", field="scheduled_for")
    if when > ctx.now + MAX_RANGE:
        raise Invalid(f"scheduled_for must be within {MAX_RANGE.days} days.", field="scheduled_for")
    grace = runtime.policy.personas.review_grace_days
    last_day = row["due_on"] + timedelta(days=grace)
    day = when.date()
    due_on = row["due_on"]
    if day > last_day:
        if not ctx.me.can(Permission.REVIEW_HOLD) or row["handler_id"] == ctx.me.id:
            raise Forbidden(
                f"{day:%Y-%m-%d} is past the due date {due_on:%Y-%m-%d} plus the policy's {grace} days of grace: "
                "only the investigations commander can move the review that far (003 IV.B.4).",
                field="scheduled_for",
            )
        due_on = day
    await repo.reschedule(conn, review_id, when, due_on, ctx.now)
    await record(
        conn,
        ctx,
        Action.REVIEW_RESCHEDULE,
        target_type="conduct_review",
        target_id=review_id,
        details={
            "codenames": list(row["codenames"]),
            "scheduled_for": when.isoformat(),
            "due_on": due_on.isoformat(),
            "postponed_from": row["due_on"].isoformat() if due_on != row["due_on"] else None,
        },
    )
    return review_out(await _visible(conn, runtime, ctx, review_id), runtime.policy, ctx.now.date())


# A lifecycle step the outcome of a review takes on a covered persona (registry.lifecycle
# passes its own: this domain does not reach up into the lifecycle).
PersonaStep = Callable[[asyncpg.Connection, Runtime, RequestContext, UUID, ReasonIn], Awaitable[StatusOut]]


async def complete(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    review_id: UUID,
    data: Complete,
    *,
    suspend: PersonaStep,
    retire: PersonaStep,
) -> Completed:
    """Record a held review and act on its outcome: `continue`; `corrective_action` (the
    follow-up date becomes the next due date if sooner); `suspend` the covered personas;
    `terminate` (retire) them. The next review is due from the held date."""
    me = ctx.me
    row = await _visible(conn, runtime, ctx, review_id, lock=True)
    if row["status"] != "open":
        raise InvalidTransition(f"The review is {row['status']}; it cannot be recorded again.")
    if row["handler_id"] == me.id:
        raise Forbidden("You are the handler under review: another commander must hold and record it.")
    today = ctx.now.date()
    if data.held_on > today:
        raise Invalid("held_on must not be in the future.", field="held_on")
    if data.held_on < row["created_at"].date():
        raise Invalid(f"held_on is before the review was scheduled ({row['created_at']:%Y-%m-%d}).", field="held_on")
    if row["handler_id"] not in data.attendees:
        raise Invalid(
            f"attendees must include the handler under review ({row['handler_name']}): a conduct review is held "
            "with them (003 IV.B.4); record it once they have attended.",
            field="attendees",
        )
    # Whoever records the review held it.
    attendees = list(dict.fromkeys([me.id, *data.attendees]))
    if len(await repo.active_users(conn, attendees)) != len(attendees):
        raise Invalid("attendees must be ids of active users.", field="attendees")
    personas = await repo.covered(conn, row["investigation_id"], row["handler_id"])
    keyring = runtime.keyring
    await repo.hold(
        conn,
        review_id,
        held_on=data.held_on,
        attendees=attendees,
        notes=keyring.encrypt(data.notes, _context(review_id, "notes")),
        findings=keyring.encrypt(data.findings, _context(review_id, "findings")) if data.findings else None,
        actions=(
            keyring.encrypt(msgspec.json.encode(data.actions).decode(), _context(review_id, "actions"))
            if data.actions
            else None
        ),
        follow_up_on=data.follow_up_on,
        outcome=data.outcome,
        recorded_by=me.id,
        now=ctx.now,
        persona_ids=[p["id"] for p in personas],
    )
    for p in personas:
        await personas_repo.add_history(
            conn,
            p["id"],
            ctx.now,
            History.REVIEW,
            me.id,
            {"review_id": str(review_id), "outcome": data.outcome, "policy_version": runtime.policy.version},
        )
    reason = ReasonIn(reason=f"Conduct review held {data.held_on:%Y-%m-%d}: outcome {data.outcome} (003 IV.B.4).")
    for p in personas:
        if data.outcome == "suspend" and p["status"] in PersonaStatus.suspendable():
            await suspend(conn, runtime, ctx, p["id"], reason)
        elif data.outcome == "terminate":
            await retire(conn, runtime, ctx, p["id"], reason)
    next_due = None
    remaining = await repo.covered(conn, row["investigation_id"], row["handler_id"])
    if remaining:
        interval = min(p["review_interval_days"] or runtime.policy.personas.review_interval_days for p in remaining)
        next_due = data.held_on + timedelta(days=interval)
        if data.follow_up_on is not None:
            next_due = min(next_due, data.follow_up_on)
        await repo.ensure_open(conn, row["investigation_id"], row["handler_id"], next_due, ctx.now)
    await record(
        conn,
        ctx,
        Action.REVIEW_HOLD,
        target_type="conduct_review",
        target_id=review_id,
        details={
            "codenames": [p["codename"] for p in personas],
            "held_on": data.held_on.isoformat(),
            "outcome": data.outcome,
            "next_due_on": next_due.isoformat() if next_due else None,
            "policy_version": runtime.policy.version,
        },
    )
    held = await _visible(conn, runtime, ctx, review_id)
    return Completed(review=review_out(held, runtime.policy, today), next_due_on=next_due)


async def issue_calendar_token(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext) -> CalendarToken:
    """A new secret feed URL for the caller's calendar application; the old one stops working."""
    token = secrets.token_urlsafe(32)
    await repo.set_calendar_token(conn, ctx.me.id, runtime.keyring.digest(f"calendar:{token}"))
    await record(conn, ctx, Action.CALENDAR_TOKEN_ISSUED, target_type="user", target_id=ctx.me.id)
    # The configured address, never the request's Host header (a sender could put theirs there).
    return CalendarToken(url=f"{runtime.settings.public_url}/calendar/{token}.ics", issued_at=ctx.now)

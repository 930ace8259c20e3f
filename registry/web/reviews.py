"""The commander's pages for conduct reviews (003 IV.B.4): the calendar by month or week, the
review page (covered personas, their activity since the last review, rescheduling, recording
the meeting) and the calendar feed URL. Every rule is the reviews service's."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.lifecycle import listing
from registry.lifecycle import reviews as lifecycle_reviews
from registry.permissions import Permission
from registry.personas.schemas import PersonaSummary
from registry.reviews import service as reviews
from registry.reviews.schemas import Complete, Reschedule, ReviewOut
from registry.runtime import Ctx, RequestContext, Runtime, RuntimeDep
from registry.status import PersonaStatus
from registry.users import service as users
from registry.web.forms import FormErrors, attempt, convert, given, named, text, typed_time
from registry.web.render import page, see_other

P = Permission
DONE = {
    "rescheduled": "Meeting time saved.",
    "held": "Review recorded.",
}
# Who may be listed as attending a review besides the commander recording it.
ATTENDEE_ROLES = frozenset({"detective", "supervisor", "commander"})
OUTCOMES = (
    ("continue", "Continue", "The investigation goes on as it is."),
    ("corrective_action", "Corrective action", "List the actions and the date of the follow-up review."),
    ("suspend", "Suspend", "Suspends every persona this review covers."),
    ("terminate", "Terminate", "Retires every persona this review covers."),
)
# The record form's inputs by the labels the page shows (errors name them so).
RECORD_LABELS = {
    "record.held_on": "Held on",
    "record.attendees": "Attended",
    "record.notes": "Notes",
    "record.findings": "Findings",
    "record.outcome": "Outcome",
    "record.actions": "Actions, one per line",
    "record.follow_up_on": "Follow-up review by",
}
RESCHEDULE_LABELS = {"reschedule.scheduled_for": "Meet on"}


def day_of(review: ReviewOut) -> date:
    """The day a review sits on in the calendar: held, else scheduled, else due."""
    if review.held_on is not None:
        return review.held_on
    if review.scheduled_for is not None:
        return review.scheduled_for.date()
    return review.due_on


def _month_span(anchor: date) -> tuple[date, date, date, date]:
    """First and last day of the anchor's month, and the Monday-to-Sunday weeks around them."""
    first = anchor.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last, first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())


@get("/reviews", opt={"permission": P.REVIEW_READ})
async def calendar(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    view: FromQuery[str] = "month",
    at: Annotated[date | None, QueryParameter(name="date")] = None,
) -> Template:
    """A month (or week) of reviews on their days, with the same reviews as a plain list."""
    today = ctx.now.date()
    anchor = at or today
    week = view == "week"
    if week:
        start = anchor - timedelta(days=anchor.weekday())
        end = start + timedelta(days=6)
        previous, following = start - timedelta(days=7), start + timedelta(days=7)
        heading = f"Week of {start:%d %B %Y}"
    else:
        first, last, start, end = _month_span(anchor)
        previous, following = (first - timedelta(days=1)).replace(day=1), last + timedelta(days=1)
        heading = f"{first:%B %Y}"
    listed = await reviews.calendar(db, runtime, ctx, start, end)
    pressing = (await reviews.needs_action(db, runtime, ctx)).items
    # Whatever still needs action from before the days shown is marked on every month and week.
    earlier = [r for r in pressing if day_of(r) < start]
    by_day: dict[date, list[ReviewOut]] = defaultdict(list)
    for review in listed.items:
        by_day[day_of(review)].append(review)
    warming, ageing = await dormant_accounts(db, runtime, ctx)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return page(
        request,
        "reviews.html",
        title="Conduct reviews",
        heading=heading,
        view="week" if week else "month",
        anchor=anchor,
        today=today,
        weeks=[days[i : i + 7] for i in range(0, len(days), 7)],
        month=None if week else anchor.month,
        by_day=by_day,
        items=[*earlier, *sorted(listed.items, key=day_of)],
        earlier=earlier,
        pressing=pressing,
        warming=warming,
        ageing=ageing,
        warming_on=_on_days(warming, "warming_due_on", start, end),
        ageing_on=_on_days(ageing, "account_age_opens_on", start, end),
        day_of=day_of,
        previous=previous,
        following=following,
    )


async def dormant_accounts(
    db: DB, runtime: Runtime, ctx: RequestContext
) -> tuple[list[PersonaSummary], list[PersonaSummary]]:
    """Dormant personas the caller sees whose accounts need warming activity (by when, the
    policy's plan) and those whose accounts are not yet old enough (until when, the gate's
    account_old_enough condition): as the persona listing says, soonest first."""
    if not ctx.me.can(P.PERSONA_READ):
        return [], []
    listed = await listing.page(
        db, runtime, ctx, status=PersonaStatus.APPROVED, investigation_id=None, cursor=None, limit=200
    )
    return dormant_of(listed.items)


def dormant_of(items: list[PersonaSummary]) -> tuple[list[PersonaSummary], list[PersonaSummary]]:
    """Of a persona listing: those with warming activity planned, and those whose accounts are
    not yet old enough, each soonest first."""
    warming = sorted((p for p in items if p.warming_due_on), key=lambda p: (p.warming_due_on, p.codename))
    ageing = sorted((p for p in items if p.account_age_opens_on), key=lambda p: (p.account_age_opens_on, p.codename))
    return warming, ageing


def _on_days(items: list[PersonaSummary], attribute: str, start: date, end: date) -> dict[date, list[PersonaSummary]]:
    on: dict[date, list[PersonaSummary]] = defaultdict(list)
    for item in items:
        day = getattr(item, attribute)
        if start <= day <= end:
            on[day].append(item)
    return on


async def _review(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    review_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    attendees: list[str] | None = None,
    status: int = 200,
    done: str | None = None,
) -> Template:
    me = ctx.me
    detail = await reviews.detail(db, runtime, ctx, review_id)
    review = detail.review
    own = review.handler.id == me.id
    may_hold = me.can(P.REVIEW_HOLD) and review.status not in ("held", "cancelled") and not own
    # The handler first (the meeting is held with them), then the others who may take part.
    people = (
        sorted(
            (
                u
                for u in await users.list_users(db)
                if u.active and ATTENDEE_ROLES.intersection(u.roles) and u.id != me.id
            ),
            key=lambda u: u.id != review.handler.id,
        )
        if may_hold
        else []
    )
    following = None
    if review.held_on is not None:
        later = await reviews.calendar(
            db, runtime, ctx, review.held_on, review.held_on + reviews.MAX_RANGE - timedelta(days=1)
        )
        following = next(
            (
                r
                for r in later.items
                if r.held_on is None
                and r.investigation_id == review.investigation_id
                and r.handler.id == review.handler.id
            ),
            None,
        )
    return page(
        request,
        "review.html",
        status=status,
        title=f"Conduct review {review.case_number}",
        d=detail,
        r=review,
        own=own,
        may_hold=may_hold,
        people=people,
        following=following,
        outcomes=OUTCOMES,
        labels=RECORD_LABELS | RESCHEDULE_LABELS,
        grace_days=runtime.policy.personas.review_grace_days,
        today=ctx.now.date(),
        errors=errors or {},
        v=values or {},
        chosen=[str(review.handler.id)] if attendees is None else attendees,
        done=DONE.get(done or ""),
    )


@get("/reviews/{review_id:uuid}", opt={"permission": P.REVIEW_READ})
async def review_page(
    request: Request[Any, Any, Any],
    review_id: FromPath[UUID],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    done: FromQuery[str | None] = None,
) -> Template:
    """Who and what the review covers, the activity since the last one, and the record (an
    audited read: notes are confidential)."""
    return await _review(request, db, runtime, ctx, review_id, done=done)


@post("/reviews/{review_id:uuid}/reschedule", opt={"permission": P.REVIEW_SCHEDULE})
async def review_reschedule(
    request: Request[Any, Any, Any], review_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        data = convert(
            given(scheduled_for=typed_time(text(form, "scheduled_for"), runtime.policy.department.time_zone)),
            Reschedule,
        )
        await attempt(db, lambda: reviews.reschedule(db, runtime, ctx, review_id, data))
    except FormErrors as exc:
        errors = named({f"reschedule.{k or 'scheduled_for'}": m for k, m in exc.errors.items()}, RESCHEDULE_LABELS)
        return await _review(request, db, runtime, ctx, review_id, errors=errors, values=form, status=exc.status)
    return see_other(f"/reviews/{review_id}?done=rescheduled")


def _record_errors(errors: dict[str, str]) -> dict[str, str]:
    """A refusal of the record form, beside the inputs it is about (the rule across fields is
    the Complete struct's, which names each field it is about); one about the whole form stays
    at the top."""
    placed = {("record." + name.split("[", 1)[0]) if name else "": message for name, message in errors.items()}
    return named(placed, RECORD_LABELS)


@post("/reviews/{review_id:uuid}/record", opt={"permission": P.REVIEW_HOLD})
async def review_record(
    request: Request[Any, Any, Any], review_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    chosen = [a for a in raw.getall("attendees", []) if isinstance(a, str)]
    actions = [line.strip() for line in (form.get("actions") or "").splitlines() if line.strip()]
    fields = given(
        held_on=text(form, "held_on"),
        notes=text(form, "notes"),
        findings=text(form, "findings"),
        outcome=text(form, "outcome"),
        follow_up_on=text(form, "follow_up_on"),
    ) | {"attendees": chosen, "actions": actions}
    try:
        data = convert(fields, Complete)
        await attempt(db, lambda: lifecycle_reviews.complete(db, runtime, ctx, review_id, data))
    except FormErrors as exc:
        errors = _record_errors(exc.errors)
        return await _review(
            request, db, runtime, ctx, review_id, errors=errors, values=form, attendees=chosen, status=exc.status
        )
    return see_other(f"/reviews/{review_id}?done=held")


@get("/reviews/feed", opt={"permission": P.REVIEW_READ})
async def feed_page(request: Request[Any, Any, Any]) -> Template:
    return page(request, "review_feed.html", title="Calendar feed", feed=None)


@post("/reviews/feed", opt={"permission": P.REVIEW_READ})
async def feed_issue(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Template:
    """A new secret feed URL, shown this once; the previous one stops working."""
    issued = await reviews.issue_calendar_token(db, runtime, ctx)
    return page(request, "review_feed.html", title="Calendar feed", feed=issued)


routes: list[ControllerRouterHandler] = [
    calendar,
    review_page,
    review_reschedule,
    review_record,
    feed_page,
    feed_issue,
]

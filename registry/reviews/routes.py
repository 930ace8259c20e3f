from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB, Autocommit
from registry.errors import NotFound
from registry.permissions import Permission
from registry.reviews import feed, service
from registry.reviews.schemas import (
    CalendarToken,
    Reschedule,
    ReviewDetail,
    ReviewOut,
)
from registry.runtime import Ctx, RuntimeDep

TAGS = ["reviews"]


@get("/api/reviews", opt={"permission": Permission.REVIEW_READ}, tags=TAGS)
async def list_reviews(
    autocommit: Autocommit,
    runtime: RuntimeDep,
    ctx: Ctx,
    start: Annotated[date | None, QueryParameter(name="from")] = None,
    end: Annotated[date | None, QueryParameter(name="to")] = None,
) -> list[ReviewOut]:
    """The conduct review calendar between two dates (inclusive): the commander and supervisors
    see the unit's reviews, a handler their own. Status: upcoming, due_soon, overdue, held;
    standing tells the days of grace (in_grace: past due, not yet overdue) from due_soon."""
    return (await service.calendar(autocommit, runtime, ctx, start, end)).items


@get("/api/reviews/needs-action", opt={"permission": Permission.REVIEW_READ}, tags=TAGS)
async def reviews_needing_action(autocommit: Autocommit, runtime: RuntimeDep, ctx: Ctx) -> list[ReviewOut]:
    """Open reviews that are overdue, in grace or due soon, oldest due first, whatever month
    they fall in: what the commander acts on first."""
    return (await service.needs_action(autocommit, runtime, ctx)).items


@get("/api/reviews/{review_id:uuid}", opt={"permission": Permission.REVIEW_READ}, tags=TAGS)
async def get_review(review_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx) -> ReviewDetail:
    """The review page: covered personas, their activity since the last review, and what was
    recorded. The read is audited (notes are confidential)."""
    return await service.detail(db, runtime, ctx, review_id)


@patch("/api/reviews/{review_id:uuid}", opt={"permission": Permission.REVIEW_SCHEDULE}, tags=TAGS)
async def reschedule(
    review_id: FromPath[UUID], data: JSONBody[Reschedule], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> ReviewOut:
    """Set the meeting time; beyond the due date plus the policy's grace only the commander may."""
    return await service.reschedule(db, runtime, ctx, review_id, data)


@post("/api/me/calendar-token", status_code=HTTP_201_CREATED, opt={"permission": Permission.REVIEW_READ}, tags=TAGS)
async def calendar_token(db: DB, runtime: RuntimeDep, ctx: Ctx) -> CalendarToken:
    """A new secret calendar feed URL for your calendar application; the previous URL stops working."""
    return await service.issue_calendar_token(db, runtime, ctx)


@get("/calendar/{feed_name:str}", opt={"permission": Permission.PUBLIC}, tags=TAGS)
async def calendar_feed(feed_name: FromPath[str], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[bytes]:
    """The iCalendar feed behind a secret URL (no session: the URL is the credential)."""
    token, dot, extension = feed_name.rpartition(".")
    if not dot or extension != "ics" or not token:
        raise NotFound(feed.NOT_FOUND)
    body = await feed.render(db, runtime, ctx, token)
    return Response(body, media_type="text/calendar; charset=utf-8")


routes: list[ControllerRouterHandler] = [
    list_reviews,
    reviews_needing_action,
    get_review,
    reschedule,
    calendar_token,
    calendar_feed,
]

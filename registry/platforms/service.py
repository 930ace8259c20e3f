"""The platform catalog: the sites personas may be used on."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import asyncpg

from registry.audit.actions import Action
from registry.audit.service import record
from registry.errors import Conflict, Forbidden, Invalid, NotFound
from registry.personas.lookup import visible_persona
from registry.platforms import repo
from registry.platforms.schemas import (
    AcknowledgeIn,
    AcknowledgementOut,
    PlatformCreate,
    PlatformList,
    PlatformOut,
    PlatformWaiting,
    TosReviewIn,
    TosReviewOut,
)
from registry.runtime import RequestContext, Runtime


async def create(conn: asyncpg.Connection, ctx: RequestContext, data: PlatformCreate) -> PlatformOut:
    row = await repo.insert(conn, data.name.strip(), data.url, data.tos_url, ctx.now)
    if row is None:
        raise Conflict(f"A platform named {data.name!r} is already in the catalog.", field="name")
    await record(
        conn, ctx, Action.PLATFORM_CREATE, target_type="platform", target_id=row["id"], details={"name": row["name"]}
    )
    return PlatformOut(id=row["id"], name=row["name"], url=row["url"], tos_url=row["tos_url"])


def _oldest_current(runtime: Runtime, today: date) -> date:
    """A review from before this day is stale (003 IV.B.3.c)."""
    return today - timedelta(days=runtime.policy.platforms.tos_review_max_age_days)


def _review(row: asyncpg.Record, platform_id: UUID, runtime: Runtime, today: date) -> TosReviewOut:
    return TosReviewOut(
        id=row["review_id"],
        platform_id=platform_id,
        reviewed_on=row["reviewed_on"],
        tos_version=row["tos_version"],
        prohibits_false_identity=row["prohibits_false_identity"],
        prohibits_automation=row["prohibits_automation"],
        risk=row["risk"],
        notes=row["notes"],
        reviewed_by=row["reviewed_by"],
        stale=row["reviewed_on"] < _oldest_current(runtime, today),
    )


def _out(row: asyncpg.Record, runtime: Runtime, today: date) -> PlatformOut:
    review = _review(row, row["id"], runtime, today) if row["review_id"] is not None else None
    return PlatformOut(id=row["id"], name=row["name"], url=row["url"], tos_url=row["tos_url"], current_review=review)


async def list_all(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext) -> PlatformList:
    return PlatformList(items=[_out(r, runtime, ctx.now.date()) for r in await repo.list_all(conn)])


async def get(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, platform_id: UUID) -> PlatformOut:
    row = await repo.get(conn, platform_id)
    if row is None:
        raise NotFound("No such platform.")
    return _out(row, runtime, ctx.now.date())


async def history(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, platform_id: UUID | None = None
) -> dict[UUID, list[TosReviewOut]]:
    """Every review of each platform (or of one), newest first: the current one and those it
    superseded, which stay on the record."""
    found: dict[UUID, list[TosReviewOut]] = {}
    for row in await repo.reviews(conn, platform_id):
        found.setdefault(row["platform_id"], []).append(_review(row, row["platform_id"], runtime, ctx.now.date()))
    return found


async def waiting(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext) -> list[PlatformWaiting]:
    """What waits for legal: platforms with no review, a stale one, or one going stale within
    the policy's reminder days; the longest waiting first."""
    today = ctx.now.date()
    soon = _oldest_current(runtime, today) + timedelta(days=runtime.policy.personas.lapse_reminder_days)
    found = []
    for platform in (await list_all(conn, runtime, ctx)).items:
        review = platform.current_review
        if review is None:
            found.append(PlatformWaiting(platform=platform, why="never_reviewed"))
        elif review.stale:
            found.append(PlatformWaiting(platform=platform, why="stale"))
        elif review.reviewed_on < soon:
            stale_on = review.reviewed_on + timedelta(days=runtime.policy.platforms.tos_review_max_age_days)
            found.append(PlatformWaiting(platform=platform, why="going_stale", stale_on=stale_on))
    order = {"never_reviewed": 0, "stale": 1, "going_stale": 2}
    return sorted(
        found,
        key=lambda w: (order[w.why], w.platform.current_review.reviewed_on if w.platform.current_review else date.min),
    )


async def review_terms(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, platform_id: UUID, data: TosReviewIn
) -> PlatformOut:
    """Legal or communications record a dated review of the site's terms (003 IV.B.3.c; 002's
    legal review). The newest review is the current one: acknowledgements of older ones no
    longer count."""
    assert ctx.user is not None
    if data.reviewed_on > ctx.now.date():
        raise Invalid("reviewed_on cannot be in the future.", field="reviewed_on")
    if await repo.get(conn, platform_id) is None:
        raise NotFound("No such platform.")
    await repo.add_review(
        conn,
        platform_id,
        reviewed_on=data.reviewed_on,
        tos_version=data.tos_version,
        prohibits_false_identity=data.prohibits_false_identity,
        prohibits_automation=data.prohibits_automation,
        risk=data.risk,
        notes=data.notes,
        me=ctx.user.id,
        now=ctx.now,
    )
    row = await repo.get(conn, platform_id)
    assert row is not None
    await record(
        conn,
        ctx,
        Action.PLATFORM_TOS_REVIEW,
        target_type="platform",
        target_id=platform_id,
        details={"tos_version": data.tos_version, "risk": data.risk},
    )
    return _out(row, runtime, ctx.now.date())


async def acknowledge(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: AcknowledgeIn
) -> AcknowledgementOut:
    """The handler confirms they have read the platform's current terms-of-service review
    (003 IV.B.3.c: employees are responsible for understanding each site's terms)."""
    me = ctx.me
    persona = await visible_persona(conn, runtime, ctx, persona_id)
    if persona["handler_id"] != me.id:
        raise Forbidden("Only the persona's handler acknowledges the terms of service it is used under.")
    platform = await repo.get(conn, data.platform_id)
    if platform is None:
        raise NotFound("No such platform.", field="platform_id")
    if not await repo.has_live_account(conn, persona_id, data.platform_id):
        raise Invalid(
            f"{persona['codename']} has no account on {platform['name']}; request one first.", field="platform_id"
        )
    current = _out(platform, runtime, ctx.now.date()).current_review
    if current is None:
        raise Conflict(f"{platform['name']} has no terms-of-service review yet: legal must review it first.")
    if current.stale:
        raise Conflict(
            f"{platform['name']}'s terms-of-service review of {current.reviewed_on} is stale: legal must "
            "review it again before it can be acknowledged."
        )
    at = await repo.acknowledge(conn, persona_id, current.id, me.id, ctx.now)
    await record(
        conn,
        ctx,
        Action.PERSONA_TOS_ACKNOWLEDGE,
        target_type="persona",
        target_id=persona_id,
        details={
            "codename": persona["codename"],
            "platform_id": str(data.platform_id),
            "tos_review_id": str(current.id),
        },
    )
    return AcknowledgementOut(
        persona_id=persona_id, platform_id=data.platform_id, tos_review_id=current.id, acknowledged_at=at
    )

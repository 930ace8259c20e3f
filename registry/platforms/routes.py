from __future__ import annotations

from uuid import UUID

from litestar import Router, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.lifecycle import gate
from registry.permissions import Permission
from registry.platforms import service
from registry.platforms.schemas import (
    AcknowledgeIn,
    AcknowledgementOut,
    PlatformCreate,
    PlatformList,
    PlatformOut,
    TosReviewHistory,
    TosReviewIn,
)
from registry.runtime import Ctx, RuntimeDep


@post("/", status_code=HTTP_201_CREATED, opt={"permission": Permission.PLATFORM_MANAGE})
async def create_platform(data: JSONBody[PlatformCreate], db: DB, ctx: Ctx) -> PlatformOut:
    return await service.create(db, ctx, data)


@get("/", opt={"permission": Permission.PLATFORM_READ})
async def list_platforms(db: DB, runtime: RuntimeDep, ctx: Ctx) -> PlatformList:
    """Each platform with its current terms-of-service review and whether it is stale."""
    return await service.list_all(db, runtime, ctx)


@post("/{platform_id:uuid}/tos-reviews", status_code=HTTP_201_CREATED, opt={"permission": Permission.TOS_REVIEW})
async def review_terms(
    platform_id: FromPath[UUID], data: JSONBody[TosReviewIn], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> PlatformOut:
    """Record a dated review of the platform's terms of service (003 IV.B.3.c)."""
    return await service.review_terms(db, runtime, ctx, platform_id, data)


@get("/{platform_id:uuid}/tos-reviews", opt={"permission": Permission.PLATFORM_READ})
async def review_history(platform_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx) -> TosReviewHistory:
    """Every review of the platform's terms, newest (current) first. For legal, `blocks` names
    the active personas the current review stops until their handlers acknowledge it."""
    platform = await service.get(db, runtime, ctx, platform_id)
    blocks = None
    if ctx.me.can(Permission.TOS_REVIEW):
        # Codenames of any unit: legal weighs the whole catalog, and codenames alone leave the zone.
        blocks = (await gate.blocked_by_terms(db, runtime, ctx)).get(platform.name, [])
    items = (await service.history(db, runtime, ctx, platform_id)).get(platform_id, [])
    return TosReviewHistory(platform_id=platform_id, items=items, blocks=blocks)


@post(
    "/api/personas/{persona_id:uuid}/tos-acknowledgements",
    status_code=HTTP_201_CREATED,
    opt={"permission": Permission.TOS_ACKNOWLEDGE},
    tags=["personas"],
)
async def acknowledge_terms(
    persona_id: FromPath[UUID], data: JSONBody[AcknowledgeIn], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> AcknowledgementOut:
    """The handler acknowledges the current terms-of-service review of a platform the persona uses."""
    return await service.acknowledge(db, runtime, ctx, persona_id, data)


routes: list[ControllerRouterHandler] = [
    Router(
        path="/api/platforms",
        tags=["platforms"],
        route_handlers=[create_platform, list_platforms, review_terms, review_history],
    ),
    acknowledge_terms,
]

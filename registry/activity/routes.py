from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from registry.activity import service
from registry.activity.schemas import ActivityIn, ActivityList, ActivityOut
from registry.db.pool import DB
from registry.lifecycle import use
from registry.permissions import Permission
from registry.runtime import Ctx, RuntimeDep


@post(
    "/api/personas/{persona_id:uuid}/activity",
    status_code=HTTP_201_CREATED,
    opt={"permission": Permission.ACTIVITY_RECORD},
    tags=["activity"],
)
async def record_activity(
    persona_id: FromPath[UUID], data: JSONBody[ActivityIn], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> ActivityOut:
    """Record what was done online with an active persona, on which assigned device; 409 with
    every unmet condition when the persona may not be used now."""
    return await use.record_activity(db, runtime, ctx, persona_id, data)


@get("/api/personas/{persona_id:uuid}/activity", opt={"permission": Permission.ACTIVITY_READ}, tags=["activity"])
async def list_activity(
    persona_id: FromPath[UUID],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
) -> ActivityList:
    """Newest first; the read is audited."""
    return await service.list_for(db, runtime, ctx, persona_id, limit)


routes: list[ControllerRouterHandler] = [record_activity, list_activity]

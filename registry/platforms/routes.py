from __future__ import annotations

from litestar import Router, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.permissions import Permission
from registry.platforms import service
from registry.platforms.schemas import PlatformCreate, PlatformList, PlatformOut
from registry.runtime import Ctx


@post("/", status_code=HTTP_201_CREATED, opt={"permission": Permission.PLATFORM_MANAGE})
async def create_platform(data: JSONBody[PlatformCreate], db: DB, ctx: Ctx) -> PlatformOut:
    return await service.create(db, ctx, data)


@get("/", opt={"permission": Permission.PLATFORM_READ})
async def list_platforms(db: DB) -> PlatformList:
    return await service.list_all(db)


routes: list[ControllerRouterHandler] = [
    Router(path="/api/platforms", tags=["platforms"], route_handlers=[create_platform, list_platforms])
]

from __future__ import annotations

from uuid import UUID

from litestar import Router, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.investigations import service
from registry.investigations.schemas import (
    Authorize,
    Authorized,
    InvestigationCreate,
    InvestigationList,
    InvestigationOut,
    InvestigationSummary,
    MemberAdd,
    Refuse,
)
from registry.permissions import Permission
from registry.runtime import Ctx, RuntimeDep


@post("/", status_code=HTTP_201_CREATED, opt={"permission": Permission.INVESTIGATION_CREATE})
async def create(data: JSONBody[InvestigationCreate], db: DB, ctx: Ctx) -> InvestigationSummary:
    return await service.create(db, ctx, data)


@get("/", opt={"permission": Permission.INVESTIGATION_READ})
async def list_investigations(db: DB, runtime: RuntimeDep, ctx: Ctx) -> InvestigationList:
    return await service.list_visible(db, runtime, ctx)


@get("/{investigation_id:uuid}", opt={"permission": Permission.INVESTIGATION_READ})
async def get_investigation(
    investigation_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> InvestigationOut:
    return await service.get(db, runtime, ctx, investigation_id)


@post("/{investigation_id:uuid}/members", status_code=HTTP_200_OK, opt={"permission": Permission.INVESTIGATION_MEMBERS})
async def add_member(
    investigation_id: FromPath[UUID], data: JSONBody[MemberAdd], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> InvestigationOut:
    return await service.add_member(db, runtime, ctx, investigation_id, data)


@post(
    "/{investigation_id:uuid}/authorize",
    status_code=HTTP_200_OK,
    opt={"permission": Permission.INVESTIGATION_AUTHORIZE},
)
async def authorize(
    investigation_id: FromPath[UUID], data: JSONBody[Authorize], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Authorized:
    """Authorize the use of false identities in this investigation (fresh TOTP code)."""
    return await service.authorize(db, runtime, ctx, investigation_id, data)


@post(
    "/{investigation_id:uuid}/refuse",
    status_code=HTTP_200_OK,
    opt={"permission": Permission.INVESTIGATION_AUTHORIZE},
)
async def refuse(
    investigation_id: FromPath[UUID], data: JSONBody[Refuse], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> InvestigationOut:
    """Refuse the use of false identities in this investigation, with a reason (fresh TOTP code):
    the request is closed and no persona of it may be requested or used."""
    return await service.refuse(db, runtime, ctx, investigation_id, data)


routes: list[ControllerRouterHandler] = [
    Router(
        path="/api/investigations",
        tags=["investigations"],
        route_handlers=[create, list_investigations, get_investigation, add_member, authorize, refuse],
    )
]

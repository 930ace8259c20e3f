from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Router, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.equipment import service
from registry.equipment.schemas import (
    AssignIn,
    AssignmentOut,
    EquipmentCreate,
    EquipmentList,
    EquipmentOut,
    InspectionIn,
    InspectionOut,
)
from registry.permissions import Permission
from registry.runtime import Ctx, RuntimeDep


@post("/", status_code=HTTP_201_CREATED, opt={"permission": Permission.EQUIPMENT_MANAGE})
async def register(data: JSONBody[EquipmentCreate], db: DB, ctx: Ctx) -> EquipmentOut:
    """Register a department device; personal devices are refused (003 IV.B.2.a)."""
    return await service.register(db, ctx, data)


@get("/", opt={"permission": Permission.EQUIPMENT_READ})
async def list_equipment(
    db: DB,
    ctx: Ctx,
    status: Annotated[str | None, QueryParameter(pattern=r"\A(available|assigned|quarantined|retired)\Z")] = None,
) -> EquipmentList:
    return await service.list_equipment(db, ctx, status)


@post("/{equipment_id:uuid}/inspections", status_code=HTTP_201_CREATED, opt={"permission": Permission.EQUIPMENT_MANAGE})
async def inspect(
    equipment_id: FromPath[UUID], data: JSONBody[InspectionIn], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> InspectionOut:
    """Record an isolation inspection (003 IV.B.2.b-c); it passes only if every check holds."""
    return await service.inspect(db, runtime, ctx, equipment_id, data)


@post("/{equipment_id:uuid}/retire", status_code=HTTP_200_OK, opt={"permission": Permission.EQUIPMENT_MANAGE})
async def retire(equipment_id: FromPath[UUID], db: DB, ctx: Ctx) -> EquipmentOut:
    """Take a device out of service for good."""
    return await service.retire(db, ctx, equipment_id)


@post(
    "/api/personas/{persona_id:uuid}/equipment",
    status_code=HTTP_201_CREATED,
    opt={"permission": Permission.EQUIPMENT_ASSIGN},
)
async def assign(
    persona_id: FromPath[UUID], data: JSONBody[AssignIn], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> AssignmentOut:
    return await service.assign(db, runtime, ctx, persona_id, data)


@delete(
    "/api/personas/{persona_id:uuid}/equipment/{equipment_id:uuid}",
    status_code=HTTP_204_NO_CONTENT,
    opt={"permission": Permission.EQUIPMENT_ASSIGN},
)
async def unassign(
    persona_id: FromPath[UUID], equipment_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> None:
    await service.unassign(db, runtime, ctx, persona_id, equipment_id)


routes: list[ControllerRouterHandler] = [
    Router(path="/api/equipment", tags=["equipment"], route_handlers=[register, list_equipment, inspect, retire]),
    assign,
    unassign,
]

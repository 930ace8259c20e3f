from __future__ import annotations

from uuid import UUID

from litestar import Router, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.permissions import Permission
from registry.runtime import Ctx
from registry.units import service
from registry.units.schemas import UnitChoices, UnitCreate, UnitList, UnitMemberAdd, UnitMembers, UnitOut, UnitPatch

MANAGE = {"permission": Permission.UNIT_MANAGE}


@get("/", opt={"permission": Permission.UNIT_READ})
async def list_units(db: DB) -> UnitList:
    """Every unit (id, name, parent_id, member_count), parents before their children."""
    return await service.tree(db)


@get("/mine", opt={"permission": Permission.UNIT_READ})
async def my_units(db: DB, ctx: Ctx) -> UnitChoices:
    """The units you may open an investigation in: yours and every unit below them."""
    return await service.opens_in(db, ctx.me.id)


@post("/", status_code=HTTP_201_CREATED, opt=MANAGE)
async def create_unit(data: JSONBody[UnitCreate], db: DB, ctx: Ctx) -> UnitOut:
    """A new unit under `parent_id` (the root unit, the department, when omitted)."""
    return await service.create(db, ctx, data)


@patch("/{unit_id:uuid}", status_code=HTTP_200_OK, opt=MANAGE)
async def update_unit(unit_id: FromPath[UUID], data: JSONBody[UnitPatch], db: DB, ctx: Ctx) -> UnitOut:
    """Rename or move a unit; a cycle or a second root is refused (409)."""
    return await service.update(db, ctx, unit_id, data)


@get("/{unit_id:uuid}/members", opt=MANAGE)
async def list_members(unit_id: FromPath[UUID], db: DB) -> UnitMembers:
    return await service.members(db, unit_id)


@post("/{unit_id:uuid}/members", status_code=HTTP_204_NO_CONTENT, opt=MANAGE)
async def post_member(unit_id: FromPath[UUID], data: JSONBody[UnitMemberAdd], db: DB, ctx: Ctx) -> None:
    """Add a user to the unit (the same as PUT /api/units/{id}/members/{user_id})."""
    await service.add_member(db, ctx, unit_id, data.user_id)


@put("/{unit_id:uuid}/members/{user_id:uuid}", status_code=HTTP_204_NO_CONTENT, opt=MANAGE)
async def put_member(unit_id: FromPath[UUID], user_id: FromPath[UUID], db: DB, ctx: Ctx) -> None:
    """Add a user to the unit; adding a member again changes nothing."""
    await service.add_member(db, ctx, unit_id, user_id)


@delete("/{unit_id:uuid}/members/{user_id:uuid}", status_code=HTTP_204_NO_CONTENT, opt=MANAGE)
async def remove_member(unit_id: FromPath[UUID], user_id: FromPath[UUID], db: DB, ctx: Ctx) -> None:
    """Remove a user from the unit; their last unit is refused (409): move them instead."""
    await service.remove_member(db, ctx, unit_id, user_id)


routes: list[ControllerRouterHandler] = [
    Router(
        path="/api/units",
        route_handlers=[
            list_units,
            my_units,
            create_unit,
            update_unit,
            list_members,
            post_member,
            put_member,
            remove_member,
        ],
        tags=["units"],
    )
]

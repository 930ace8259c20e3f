"""The administrator's units page: the tree of units, creating, renaming and moving one, and
who belongs to each (add by name, remove). The rules are the units service's; a refusal is
shown next to the form that asked."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.permissions import Permission
from registry.runtime import Ctx
from registry.units import service as units
from registry.units.schemas import UnitCreate, UnitMemberAdd, UnitPatch
from registry.users import service as users
from registry.web.forms import FormErrors, attempt, convert, given, text
from registry.web.render import page, see_other

MANAGE = {"permission": Permission.UNIT_MANAGE}
DONE = {
    "created": "Unit created.",
    "updated": "Unit saved.",
    "added": "Member added.",
    "removed": "Member removed.",
}


async def _units_page(
    request: Request[Any, Any, Any],
    db: DB,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    done: str | None = None,
) -> Template:
    tree = (await units.tree(db)).items
    depth: dict[UUID, int] = {}
    children: dict[UUID | None, list[Any]] = {}
    for unit in tree:
        depth[unit.id] = depth[unit.parent_id] + 1 if unit.parent_id in depth else 0
        children.setdefault(unit.parent_id, []).append(unit)
    members = await units.members_by_unit(db)
    people = [u for u in await users.list_users(db) if u.active]
    return page(
        request,
        "units.html",
        status=status,
        title="Units",
        items=tree,
        children=children,
        members=members,
        # Whom each unit's "add" select offers: the active users not in it yet, by name.
        addable={
            u.id: [
                (p.id, f"{p.display_name} ({p.username})")
                for p in people
                if p.id not in {m.user_id for m in members.get(u.id, [])}
            ]
            for u in tree
        },
        parents=[(u.id, "— " * depth[u.id] + u.name) for u in tree],
        errors=errors or {},
        v=values or {},
        done=DONE.get(done or ""),
    )


@get("/units", opt=MANAGE)
async def unit_list(request: Request[Any, Any, Any], db: DB, done: FromQuery[str | None] = None) -> Template:
    return await _units_page(request, db, done=done)


@post("/units", opt=MANAGE)
async def unit_create(request: Request[Any, Any, Any], db: DB, ctx: Ctx) -> Response[Any]:
    form = await request.form()
    fields = given(name=text(form, "name"), parent_id=text(form, "parent_id"))
    try:
        data = convert(fields, UnitCreate)
        await attempt(db, lambda: units.create(db, ctx, data))
    except FormErrors as exc:
        return await _units_page(request, db, errors=exc.errors, values=fields, status=exc.status)
    return see_other("/units?done=created")


def _scoped(unit_id: UUID, exc: FormErrors) -> FormErrors:
    """A refusal shown beside the form of the unit it concerns."""
    return FormErrors({f"{unit_id}.{k or 'name'}": m for k, m in exc.errors.items()}, exc.status)


@post("/units/{unit_id:uuid}", opt=MANAGE)
async def unit_update(request: Request[Any, Any, Any], unit_id: FromPath[UUID], db: DB, ctx: Ctx) -> Response[Any]:
    form = await request.form()
    fields = given(name=text(form, "name"), parent_id=text(form, "parent_id"))
    try:
        data = convert(fields, UnitPatch)
        await attempt(db, lambda: units.update(db, ctx, unit_id, data))
    except FormErrors as exc:
        return await _units_page(request, db, errors=_scoped(unit_id, exc).errors, status=exc.status)
    return see_other("/units?done=updated")


@post("/units/{unit_id:uuid}/members", opt=MANAGE)
async def unit_member_add(request: Request[Any, Any, Any], unit_id: FromPath[UUID], db: DB, ctx: Ctx) -> Response[Any]:
    form = await request.form()
    try:
        data = convert(given(user_id=text(form, "user_id")), UnitMemberAdd)
        await attempt(db, lambda: units.add_member(db, ctx, unit_id, data.user_id))
    except FormErrors as exc:
        errors = {f"{unit_id}.user_id": m for m in exc.errors.values()}
        return await _units_page(request, db, errors=errors, status=exc.status)
    return see_other("/units?done=added")


@post("/units/{unit_id:uuid}/members/{user_id:uuid}/remove", opt=MANAGE)
async def unit_member_remove(
    request: Request[Any, Any, Any], unit_id: FromPath[UUID], user_id: FromPath[UUID], db: DB, ctx: Ctx
) -> Response[Any]:
    try:
        await attempt(db, lambda: units.remove_member(db, ctx, unit_id, user_id))
    except FormErrors as exc:
        errors = {f"{unit_id}.user_id": m for m in exc.errors.values()}
        return await _units_page(request, db, errors=errors, status=exc.status)
    return see_other("/units?done=removed")


routes: list[ControllerRouterHandler] = [unit_list, unit_create, unit_update, unit_member_add, unit_member_remove]

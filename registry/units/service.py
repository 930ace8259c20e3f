"""The department's units: a tree with one root (the department itself), each user belonging
to one or more units, each investigation to one. Need-to-know follows the tree
(registry/access.py): the supervisor and commander chain sees the investigations of their
units and of the units below.

A user with no membership belongs to the root unit, so a department that has not set units
up works as before. Once a user has memberships they belong to exactly those, and they keep
at least one: removing the last is refused, since a user in no unit would silently fall back
to the whole department."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from registry.audit.actions import Action
from registry.audit.service import record
from registry.errors import Conflict, Invalid, NotFound
from registry.runtime import RequestContext
from registry.units import repo
from registry.units.schemas import (
    UnitChoice,
    UnitChoices,
    UnitCreate,
    UnitList,
    UnitMember,
    UnitMembers,
    UnitOut,
    UnitPatch,
)

NOT_FOUND = "No such unit."
NO_USER = "No such user."


def _out(row: asyncpg.Record) -> UnitOut:
    return UnitOut(id=row["id"], name=row["name"], parent_id=row["parent_id"], member_count=row["member_count"])


async def tree(conn: asyncpg.Connection) -> UnitList:
    return UnitList(items=[_out(r) for r in await repo.tree(conn)])


async def _unit(conn: asyncpg.Connection, unit_id: UUID, field: str | None = None) -> asyncpg.Record:
    row = await repo.get(conn, unit_id)
    if row is None:
        raise NotFound(NOT_FOUND, **({"field": field} if field else {}))
    return row


async def create(conn: asyncpg.Connection, ctx: RequestContext, data: UnitCreate) -> UnitOut:
    parent = data.parent_id or await repo.root(conn)
    await _unit(conn, parent, "parent_id")
    unit_id = await repo.insert(conn, data.name, parent, ctx.now)
    if unit_id is None:
        raise Conflict(f"A unit named {data.name!r} exists already; choose another name.", field="name")
    await record(
        conn,
        ctx,
        Action.UNIT_CREATE,
        target_type="unit",
        target_id=unit_id,
        details={"name": data.name, "parent_id": str(parent)},
    )
    return _out(await _unit(conn, unit_id))


async def update(conn: asyncpg.Connection, ctx: RequestContext, unit_id: UUID, data: UnitPatch) -> UnitOut:
    """Rename or move a unit. The tree keeps one root and no cycle: a unit never moves under
    itself or a unit below it."""
    await repo.lock_tree(conn)
    row = await _unit(conn, unit_id)
    name = row["name"] if isinstance(data.name, msgspec.UnsetType) else data.name
    parent = row["parent_id"] if isinstance(data.parent_id, msgspec.UnsetType) else data.parent_id
    if parent != row["parent_id"]:
        if row["parent_id"] is None:
            raise Conflict(
                f"{row['name']} is the root unit, the department itself: it has no parent.", field="parent_id"
            )
        if parent is None:
            raise Conflict(
                "The department has one root unit; give the unit a parent (parent_id) under it.", field="parent_id"
            )
        await _unit(conn, parent, "parent_id")
        if parent in await repo.below(conn, unit_id):
            raise Conflict(
                f"{row['name']} cannot move under itself or a unit below it; choose a parent outside its branch.",
                field="parent_id",
            )
    taken = Conflict(f"A unit named {name!r} exists already; choose another name.", field="name")
    if name != row["name"] and await repo.name_taken(conn, name, unit_id):
        raise taken
    try:
        await repo.update(conn, unit_id, name, parent)
    except asyncpg.UniqueViolationError as exc:  # a unit of that name created meanwhile
        raise taken from exc
    await record(
        conn,
        ctx,
        Action.UNIT_UPDATE,
        target_type="unit",
        target_id=unit_id,
        details={"name": name, "parent_id": str(parent) if parent else None},
    )
    return _out(await _unit(conn, unit_id))


def _member(row: asyncpg.Record) -> UnitMember:
    return UnitMember(
        user_id=row["user_id"], username=row["username"], display_name=row["display_name"], implicit=row["implicit"]
    )


async def members_by_unit(conn: asyncpg.Connection) -> dict[UUID, list[UnitMember]]:
    """Every unit's members, in one query (the units page)."""
    found: dict[UUID, list[UnitMember]] = {}
    for row in await repo.members(conn, None):
        found.setdefault(row["unit_id"], []).append(_member(row))
    return found


async def members(conn: asyncpg.Connection, unit_id: UUID) -> UnitMembers:
    unit = _out(await _unit(conn, unit_id))
    return UnitMembers(unit=unit, items=[_member(r) for r in await repo.members(conn, unit_id)])


async def add_member(conn: asyncpg.Connection, ctx: RequestContext, unit_id: UUID, user_id: UUID) -> None:
    await _unit(conn, unit_id)
    if not await repo.lock_user(conn, user_id):
        raise NotFound(NO_USER, field="user_id")
    if await repo.add_member(conn, unit_id, user_id, ctx.now):
        await record(
            conn,
            ctx,
            Action.UNIT_MEMBER_ADD,
            target_type="unit",
            target_id=unit_id,
            details={"user_id": str(user_id)},
        )


async def remove_member(conn: asyncpg.Connection, ctx: RequestContext, unit_id: UUID, user_id: UUID) -> None:
    await _unit(conn, unit_id)
    if not await repo.lock_user(conn, user_id):
        raise NotFound(NO_USER)
    if unit_id not in await repo.user_units(conn, user_id):
        raise NotFound("That user is not a member of this unit.")
    if set(await repo.memberships(conn, user_id)) <= {unit_id}:
        raise Conflict(
            "This is the user's last unit, and a user belongs to at least one. Move them instead: add them to "
            f"their new unit first (PUT /api/units/{{id}}/members/{user_id}), or replace their units at once "
            f"(PUT /api/users/{user_id}/units)."
        )
    await repo.remove_member(conn, unit_id, user_id)
    await record(
        conn,
        ctx,
        Action.UNIT_MEMBER_REMOVE,
        target_type="unit",
        target_id=unit_id,
        details={"user_id": str(user_id)},
    )


async def check_units(conn: asyncpg.Connection, unit_ids: list[UUID]) -> list[UUID]:
    """The units named, each once; 404 naming the first that does not exist."""
    wanted = list(dict.fromkeys(unit_ids))
    unknown = await repo.missing(conn, wanted)
    if unknown:
        raise NotFound(f"No unit with id {unknown[0]}.", field="unit_ids")
    return wanted


async def set_user_units(conn: asyncpg.Connection, ctx: RequestContext, user_id: UUID, unit_ids: list[UUID]) -> None:
    """Replace the units a user belongs to (at least one: the schema says so)."""
    wanted = await check_units(conn, unit_ids)
    if not await repo.lock_user(conn, user_id):
        raise NotFound(NO_USER)
    await repo.set_units(conn, user_id, wanted, ctx.now)
    await record(
        conn,
        ctx,
        Action.USER_UNITS_SET,
        target_type="user",
        target_id=user_id,
        details={"unit_ids": [str(u) for u in wanted]},
    )


async def unit_to_open_in(conn: asyncpg.Connection, user_id: UUID, unit_id: UUID | None) -> UUID:
    """The unit an investigation the user opens belongs to: the one they name, which must be
    theirs or below one of theirs; without one, their unit if they belong to exactly one."""
    allowed = {r["id"] for r in await repo.opens_in(conn, user_id)}
    if unit_id is None:
        mine = await repo.user_units(conn, user_id)
        if len(mine) != 1:
            raise Invalid("Choose the unit (unit_id) this investigation belongs to.", field="unit_id")
        return mine[0]
    if unit_id not in allowed:
        await _unit(conn, unit_id, "unit_id")
        raise Invalid(
            "You may open an investigation only in a unit you belong to or one below it; choose one of those "
            "(GET /api/units/mine).",
            field="unit_id",
        )
    return unit_id


async def name_of(conn: asyncpg.Connection, unit_id: UUID) -> str:
    return str((await _unit(conn, unit_id))["name"])


async def opens_in(conn: asyncpg.Connection, user_id: UUID) -> UnitChoices:
    """The units `user_id` may open an investigation in (for the form's select)."""
    return UnitChoices(items=[UnitChoice(id=r["id"], name=r["name"]) for r in await repo.opens_in(conn, user_id)])

"""Department equipment (003 IV.B.2): only department devices, inspected for isolation, one
persona at a time, quarantined when a persona is burned."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from registry.audit.actions import Action, History
from registry.audit.service import record
from registry.equipment import repo
from registry.equipment.schemas import (
    AssignIn,
    AssignmentOut,
    EquipmentCreate,
    EquipmentList,
    EquipmentOut,
    EquipmentWaiting,
    InspectionIn,
    InspectionOut,
)
from registry.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from registry.linkage import warnings as linkage_warnings
from registry.permissions import Permission
from registry.personas import repo as personas_repo
from registry.personas.lookup import visible_persona
from registry.runtime import RequestContext, Runtime
from registry.status import PersonaStatus

# The isolation checks of 003 IV.B.2.b-c, each a question whose safe answer is "no", and what a
# "yes" means for the device. The inspection passes only when every answer is "no".
CHECKS: tuple[tuple[str, str, str], ...] = (
    (
        "on_department_network",
        "Is the device connected to the department network?",
        "it is connected to the department network",
    ),
    (
        "department_identifiers_present",
        "Does it carry department identifiers (accounts, certificates, asset labels a site could see)?",
        "it carries department identifiers",
    ),
    (
        "attributable_connection",
        "Is its internet connection attributable to the department?",
        "its internet connection is attributable to the department",
    ),
)

PERSONAL_DEVICE = (
    "Only department-owned equipment may be used for online investigations (003 IV.B.2.a); "
    "a {ownership} device cannot be registered."
)


def _out(row: asyncpg.Record, now: datetime, show_codename: bool = True) -> EquipmentOut:
    return EquipmentOut(
        id=row["id"],
        asset_tag=row["asset_tag"],
        kind=row["kind"],
        serial=row["serial"],
        make_model=row["make_model"],
        ownership=row["ownership"],
        status=row["status"],
        last_inspected_at=row["last_inspected_at"],
        inspection_passed=row["inspection_passed"],
        inspection_valid_until=row["inspection_valid_until"],
        inspection_current=bool(row["inspection_passed"]) and row["inspection_valid_until"] > now,
        assigned_to=row["assigned_to"] if show_codename else None,
    )


async def register(conn: asyncpg.Connection, ctx: RequestContext, data: EquipmentCreate) -> EquipmentOut:
    if data.ownership.strip().lower() != "department":
        raise Invalid(PERSONAL_DEVICE.format(ownership=data.ownership), field="ownership", clause="003 IV.B.2.a")
    equipment_id = await repo.insert(conn, data.asset_tag, data.kind, data.serial, data.make_model, ctx.me.id, ctx.now)
    if equipment_id is None:
        raise Conflict(f"Asset tag {data.asset_tag} is already registered.", field="asset_tag")
    await record(
        conn,
        ctx,
        Action.EQUIPMENT_REGISTER,
        target_type="equipment",
        target_id=equipment_id,
        details={"asset_tag": data.asset_tag, "kind": data.kind},
    )
    row = await repo.get(conn, equipment_id)
    assert row is not None
    return _out(row, ctx.now)


async def list_equipment(conn: asyncpg.Connection, ctx: RequestContext, status: str | None) -> EquipmentList:
    """Equipment officers see which codename each device serves; detectives and the chain, who
    pick devices, see only whether it is free (a codename outside need-to-know stays unseen)."""
    officer = Permission.EQUIPMENT_MANAGE in ctx.me.permissions
    return EquipmentList(items=[_out(r, ctx.now, show_codename=officer) for r in await repo.list_all(conn, status)])


async def waiting(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext) -> EquipmentWaiting:
    """What waits for the equipment officer, most urgent first: quarantined devices, devices in
    service whose inspection is missing, failed or expired, and inspections that lapse within
    the policy's reminder days (003 IV.B.2.b-c)."""
    soon = ctx.now + timedelta(days=runtime.policy.personas.lapse_reminder_days)
    items = [_out(r, ctx.now) for r in await repo.list_all(conn, None)]
    never = datetime.min.replace(tzinfo=ctx.now.tzinfo)
    return EquipmentWaiting(
        quarantined=[d for d in items if d.status == "quarantined"],
        uninspected=sorted(
            (d for d in items if d.status in ("available", "assigned") and not d.inspection_current),
            key=lambda d: d.last_inspected_at or never,
        ),
        expiring=sorted(
            (
                d
                for d in items
                if d.status in ("available", "assigned")
                and d.inspection_current
                and d.inspection_valid_until is not None
                and d.inspection_valid_until <= soon
            ),
            key=lambda d: d.inspection_valid_until or never,
        ),
    )


def egress_digest(runtime: Runtime, egress: str) -> bytes:
    """A keyed digest of a network egress, ignoring case and spacing. Under the stored digest
    key, like photo digests: the egress itself is never kept, so a key rotation must not need it."""
    return runtime.keyring.digest("egress:" + " ".join(egress.casefold().split()))


async def inspect(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, equipment_id: UUID, data: InspectionIn
) -> InspectionOut:
    me = ctx.me
    equipment = await repo.get(conn, equipment_id)
    if equipment is None:
        raise NotFound("No such equipment.")
    if equipment["status"] == "retired":
        raise InvalidTransition("This device is retired.")
    valid_until = ctx.now + timedelta(days=runtime.policy.equipment.inspection_max_age_days)
    row = await repo.add_inspection(
        conn,
        equipment_id,
        me.id,
        ctx.now,
        valid_until,
        data.on_department_network,
        data.department_identifiers_present,
        data.attributable_connection,
        data.notes,
        egress_digest(runtime, data.egress) if data.egress else None,
    )
    failed = [name for name, _, _ in CHECKS if getattr(data, name)]
    if row["passed"]:
        await repo.release_quarantine(conn, equipment_id)
    await record(
        conn,
        ctx,
        Action.EQUIPMENT_INSPECT,
        target_type="equipment",
        target_id=equipment_id,
        details={"passed": row["passed"], "failed_checks": failed},
    )
    return await get_inspection(conn, row["id"])


async def get_inspection(conn: asyncpg.Connection, inspection_id: UUID) -> InspectionOut:
    """One recorded inspection and its verdict (the database's: every answer "no")."""
    row = await repo.get_inspection(conn, inspection_id)
    if row is None:
        raise NotFound("No such inspection.")
    return InspectionOut(
        id=row["id"],
        equipment_id=row["equipment_id"],
        asset_tag=row["asset_tag"],
        inspected_at=row["inspected_at"],
        inspected_by=row["inspected_by"],
        passed=row["passed"],
        valid_until=row["valid_until"],
        failed_checks=[name for name, _, _ in CHECKS if row[name]],
    )


async def get(conn: asyncpg.Connection, ctx: RequestContext, equipment_id: UUID) -> EquipmentOut:
    row = await repo.get(conn, equipment_id)
    if row is None:
        raise NotFound("No such equipment.")
    return _out(row, ctx.now, show_codename=Permission.EQUIPMENT_MANAGE in ctx.me.permissions)


async def retire(conn: asyncpg.Connection, ctx: RequestContext, equipment_id: UUID) -> EquipmentOut:
    equipment = await repo.get(conn, equipment_id)
    if equipment is None:
        raise NotFound("No such equipment.")
    if not await repo.retire(conn, equipment_id):
        raise InvalidTransition(
            f"{equipment['asset_tag']} is {equipment['status']}; release it from its persona before retiring it."
            if equipment["status"] == "assigned"
            else f"{equipment['asset_tag']} is already retired."
        )
    await record(
        conn,
        ctx,
        Action.EQUIPMENT_RETIRE,
        target_type="equipment",
        target_id=equipment_id,
        details={"asset_tag": equipment["asset_tag"]},
    )
    row = await repo.get(conn, equipment_id)
    assert row is not None
    return _out(row, ctx.now)


async def _persona_for_equipment(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID
) -> asyncpg.Record:
    me = ctx.me
    persona = await visible_persona(conn, runtime, ctx, persona_id)
    if persona["handler_id"] != me.id and not persona["in_chain"]:
        raise Forbidden("Only the persona's handler or the supervisor and commander chain assign its equipment.")
    return persona


async def assign(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: AssignIn
) -> AssignmentOut:
    persona = await _persona_for_equipment(conn, runtime, ctx, persona_id)
    if persona["status"] not in PersonaStatus.live():
        raise InvalidTransition(f"The persona is {persona['status']}; it takes no equipment.")
    equipment = await repo.get(conn, data.equipment_id)
    if equipment is None:
        raise NotFound("No such equipment.", field="equipment_id")
    if not await repo.claim_for_assignment(conn, data.equipment_id, ctx.now):
        raise _why_unavailable(equipment, ctx.now)
    await repo.insert_assignment(conn, data.equipment_id, persona_id, ctx.me.id, ctx.now)
    await personas_repo.add_history(
        conn,
        persona_id,
        ctx.now,
        History.EQUIPMENT_ASSIGNED,
        ctx.me.id,
        {"equipment_id": str(data.equipment_id), "asset_tag": equipment["asset_tag"]},
    )
    await record(
        conn,
        ctx,
        Action.EQUIPMENT_ASSIGN,
        target_type="equipment",
        target_id=data.equipment_id,
        details={"codename": persona["codename"], "asset_tag": equipment["asset_tag"]},
    )
    return AssignmentOut(
        equipment_id=data.equipment_id,
        persona_id=persona_id,
        codename=persona["codename"],
        assigned_at=ctx.now,
        warnings=await linkage_warnings.for_device(conn, persona_id, data.equipment_id),
    )


def _why_unavailable(equipment: asyncpg.Record, now: datetime) -> Conflict:
    tag = equipment["asset_tag"]
    if equipment["status"] == "assigned":
        return Conflict(
            f"{tag} already serves another persona; a device serves one persona at a time.",
            field="equipment_id",
        )
    if equipment["status"] == "quarantined":
        return Conflict(
            f"{tag} is quarantined; it needs a new passing isolation inspection (003 IV.B.2.b-c).", field="equipment_id"
        )
    if equipment["status"] == "retired":
        return Conflict(f"{tag} is retired.", field="equipment_id")
    if equipment["inspection_passed"] is None:
        return Conflict(
            f"{tag} has never been inspected for isolation; the equipment officer must inspect it first "
            "(003 IV.B.2.b-c).",
            field="equipment_id",
        )
    if not equipment["inspection_passed"]:
        return Conflict(f"{tag} failed its latest isolation inspection (003 IV.B.2.b-c).", field="equipment_id")
    if equipment["inspection_valid_until"] <= now:
        return Conflict(
            f"{tag}'s isolation inspection has expired; it needs a new one (003 IV.B.2.b-c).", field="equipment_id"
        )
    return Conflict(f"{tag} was taken a moment ago; choose another device.", field="equipment_id")


async def unassign(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, equipment_id: UUID
) -> None:
    persona = await _persona_for_equipment(conn, runtime, ctx, persona_id)
    if not await repo.release(conn, equipment_id, persona_id, ctx.me.id, ctx.now, "released", "available"):
        raise NotFound("That device is not assigned to this persona.")
    await personas_repo.add_history(
        conn, persona_id, ctx.now, History.EQUIPMENT_RELEASED, ctx.me.id, {"equipment_id": str(equipment_id)}
    )
    await record(
        conn,
        ctx,
        Action.EQUIPMENT_RELEASE,
        target_type="equipment",
        target_id=equipment_id,
        details={"codename": persona["codename"]},
    )


async def quarantine_for(conn: asyncpg.Connection, ctx: RequestContext, persona_id: UUID) -> list[str]:
    """A compromised persona's devices leave service until a new passing inspection; their tags."""
    return await _release_all(conn, ctx, persona_id, "persona compromised", "quarantined", Action.EQUIPMENT_QUARANTINE)


async def release_all(conn: asyncpg.Connection, ctx: RequestContext, persona_id: UUID) -> list[str]:
    """A retired persona's devices return to the pool; their tags."""
    return await _release_all(conn, ctx, persona_id, "persona retired", "available", Action.EQUIPMENT_RELEASE)


async def _release_all(
    conn: asyncpg.Connection, ctx: RequestContext, persona_id: UUID, reason: str, to_status: str, action: Action
) -> list[str]:
    released = await repo.assigned_to_persona(conn, persona_id)
    for device in released:
        await repo.release(conn, device["equipment_id"], persona_id, ctx.me.id, ctx.now, reason, to_status)
        await record(
            conn,
            ctx,
            action,
            target_type="equipment",
            target_id=device["equipment_id"],
            details={"asset_tag": device["asset_tag"], "reason": reason},
        )
    return [d["asset_tag"] for d in released]

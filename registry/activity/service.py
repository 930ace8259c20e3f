"""The activity log (003 IV.B.4): what the handler did online with a persona and on which
device; the record conduct reviews look at and that protects the officer from later claims
of secrecy. Append-only; summaries are encrypted."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from registry.activity import repo
from registry.activity.schemas import ActivityIn, ActivityList, ActivityOut
from registry.audit.service import record
from registry.errors import Invalid
from registry.personas.lookup import visible_persona
from registry.runtime import RequestContext, Runtime

# Clocks on undercover devices drift; a few minutes ahead is tolerated, not a future entry.
FUTURE_TOLERANCE = timedelta(minutes=5)


def _context(activity_id: UUID) -> str:
    return f"activity_log.summary:{activity_id}"


def check_time(data: ActivityIn, ctx: RequestContext) -> None:
    if data.occurred_at.tzinfo is None:
        raise Invalid("occurred_at needs a time zone (for example 2026-03-02T10:15:00Z).", field="occurred_at")
    if data.occurred_at > ctx.now + FUTURE_TOLERANCE:
        raise Invalid("occurred_at is in the future.", field="occurred_at")


async def log(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona: Mapping[str, Any], data: ActivityIn
) -> ActivityOut:
    """Append an entry for a persona the lifecycle has cleared for use now (registry.lifecycle.use)."""
    me = ctx.me
    persona_id: UUID = persona["id"]
    check_time(data, ctx)
    checks = await repo.usable(conn, persona_id, data.platform_id, data.equipment_id)
    if not checks["device_assigned"]:
        raise Invalid(
            "That device is not assigned to this persona: only its assigned department equipment may be "
            "used (003 IV.B.2.a).",
            field="equipment_id",
        )
    if not checks["account_authorized"]:
        raise Invalid("The persona has no authorized account on that platform (003 IV.B.1.b).", field="platform_id")
    activity_id = uuid.uuid4()
    await repo.insert(
        conn,
        activity_id=activity_id,
        persona_id=persona_id,
        occurred_at=data.occurred_at,
        platform_id=data.platform_id,
        equipment_id=data.equipment_id,
        summary=runtime.keyring.encrypt(data.summary, _context(activity_id)),
        me=me.id,
        now=ctx.now,
        warming=data.warming,
    )
    await record(
        conn,
        ctx,
        "activity.record",
        target_type="persona",
        target_id=persona_id,
        details={"codename": persona["codename"], "activity_id": str(activity_id), "warming": data.warming},
    )
    return _out(runtime, await repo.get(conn, activity_id))


def _out(runtime: Runtime, row: asyncpg.Record) -> ActivityOut:
    return ActivityOut(
        id=row["id"],
        persona_id=row["persona_id"],
        occurred_at=row["occurred_at"],
        platform=row["platform"],
        asset_tag=row["asset_tag"],
        summary=runtime.keyring.decrypt(bytes(row["summary"]), _context(row["id"])),
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
        warming=row["warming"],
    )


async def list_for(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, limit: int
) -> ActivityList:
    persona = await visible_persona(conn, runtime, ctx, persona_id)
    rows = await repo.for_persona(conn, persona_id, limit)
    await record(
        conn,
        ctx,
        "activity.read",
        target_type="persona",
        target_id=persona_id,
        details={"codename": persona["codename"], "entries": len(rows)},
    )
    return ActivityList(items=[_out(runtime, r) for r in rows])


async def since(
    conn: asyncpg.Connection, runtime: Runtime, persona_ids: list[UUID], start: datetime, limit: int
) -> list[ActivityOut]:
    """Several personas' activity from `start`, newest first, for a conduct review: the caller
    has checked need-to-know and audits the read."""
    return [_out(runtime, r) for r in await repo.for_personas_since(conn, persona_ids, start, limit)]

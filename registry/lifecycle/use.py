"""Using a persona: every use re-checks the conditions as they are now (003 IV.B.2: *only*
isolated department equipment; IV.B.3.b.2: approved *prior to use*). A use after a lapse is a
use without them, so it is refused with every unmet condition, its clause and the next step."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from registry.activity import service as activity
from registry.activity.schemas import ActivityIn, ActivityOut
from registry.lifecycle import conditions, gate
from registry.lifecycle.schemas import Condition, GateOut
from registry.runtime import RequestContext, Runtime


async def record_activity(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: ActivityIn
) -> ActivityOut:
    row = await gate.facts(conn, runtime, ctx, persona_id)
    if data.warming:
        gate.require(row, "record_warming", runtime, ctx, "be warmed")
    else:
        gate.require(row, "record_activity", runtime, ctx, "be used")
    device = gate.usable_device(conditions.devices(row, ctx.now), data.equipment_id)
    if device is not None and not device.usable:
        # The persona has another usable device, but not this one.
        raise gate.refusal(
            row["codename"],
            f"be used on {device.asset_tag}",
            GateOut(
                ready=False,
                conditions=[
                    Condition(
                        conditions.EQUIPMENT,
                        False,
                        "003 IV.B.2",
                        f"{device.problem}: use a device that passed a current isolation inspection, or ask the "
                        "equipment officer to inspect this one.",
                    )
                ],
            ),
        )
    return await activity.log(conn, runtime, ctx, row, data)

"""Handing a persona to another detective (003 IV.B): the review obligation moves with it, so
a handover never postpones a conduct review."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from registry.audit.actions import Action, History
from registry.audit.service import record
from registry.errors import Conflict, Invalid
from registry.investigations import repo as investigations_repo
from registry.lifecycle import gate
from registry.lifecycle.schedule import release_review, schedule_review
from registry.personas import repo
from registry.personas.lookup import visible_persona
from registry.personas.schemas import HandoverIn, Person, StatusOut
from registry.reviews import repo as reviews_repo
from registry.runtime import RequestContext, Runtime


def _why_not(target: asyncpg.Record, persona: asyncpg.Record) -> str | None:
    """Why an active detective may not take this persona over, if they may not."""
    if target["id"] == persona["handler_id"]:
        return f"{target['display_name']} already handles this persona."
    if target["id"] == persona["approved_by"]:
        return f"{target['display_name']} approved this persona and so cannot handle it (003 IV.B.3.b.2)."
    return None


async def candidates(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> list[Person]:
    """The active detectives this persona may be handed to, by name (whether the caller may
    hand it over at all is the gate's `handover` step)."""
    persona = await visible_persona(conn, runtime, ctx, persona_id)
    return [
        Person(id=u["id"], username=u["username"], display_name=u["display_name"])
        for u in await repo.active_detectives(conn)
        if _why_not(u, persona) is None
    ]


async def handover(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: HandoverIn
) -> StatusOut:
    me = ctx.me
    gate.require(await gate.facts(conn, runtime, ctx, persona_id), "handover", runtime, ctx, "be handed over")
    row = await visible_persona(conn, runtime, ctx, persona_id)
    target = await repo.active_detective(conn, data.to_user_id)
    if target is None:
        raise Invalid("to_user_id must be an active detective.", field="to_user_id")
    why_not = _why_not(target, row)
    if why_not is not None:
        raise Conflict(why_not, field="to_user_id")
    updated = await repo.hand_over(
        conn, persona_id, me.id, runtime.permissions.unit_wide_roles, data.to_user_id, ctx.now
    )
    if updated is None:
        raise Conflict("The persona changed meanwhile; reload and try again.")
    details = {"from_user_id": str(row["handler_id"]), "to_user_id": str(data.to_user_id), "reason": data.reason}
    await repo.add_history(conn, persona_id, ctx.now, History.HANDOVER, me.id, details)
    # The new handler joins the investigation's team, as any detective working the case would.
    await investigations_repo.add_member(conn, row["investigation_id"], data.to_user_id, me.id, ctx.now)
    if row["approved_at"] is not None:
        # The review obligation moves with the persona: the new handler's review is due no
        # later than the old one was, so a handover never postpones a review.
        carried = await reviews_repo.open_due_on(conn, row["investigation_id"], row["handler_id"])
        await schedule_review(conn, runtime, ctx, updated, carried)
    await release_review(conn, ctx, row["investigation_id"], row["handler_id"])
    await record(
        conn,
        ctx,
        Action.PERSONA_HANDOVER,
        target_type="persona",
        target_id=persona_id,
        details={
            "codename": row["codename"],
            "from_user_id": details["from_user_id"],
            "to_user_id": details["to_user_id"],
        },
    )
    return StatusOut.of(updated)

"""The lifecycle steps: submit, activate, suspend, resume, retire, compromise.

Each is one guarded UPDATE (personas.repo.transition), so the database settles races; when it
matches nothing, the assessment (registry.lifecycle.gate) says why: 404 outside need-to-know,
403 for the wrong person, 409 for the wrong state or with every unmet condition."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from registry.audit.actions import Action, History
from registry.audit.service import record
from registry.equipment import service as equipment_service
from registry.errors import Conflict, DomainError, Stale
from registry.lifecycle import gate
from registry.lifecycle.schedule import release_review
from registry.notify import waiting
from registry.personas import repo
from registry.personas.schemas import CompromiseIn, ReasonIn, StatusOut
from registry.runtime import RequestContext, Runtime
from registry.status import PersonaStatus

S = PersonaStatus


async def take(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    action: str,
    *,
    allowed_from: tuple[PersonaStatus, ...],
    to: str,
    who: str,
    history: dict[str, Any] | None = None,
    approval: tuple[UUID, datetime] | None = None,
    review_interval_days: int | None = None,
    rejection_reason: str | None = None,
    version: int | None = None,
) -> asyncpg.Record:
    """One lifecycle step, recorded in the history and the audit log; the row as it now is."""
    me = ctx.me
    row = await repo.transition(
        conn,
        persona_id,
        me.id,
        runtime.permissions.unit_wide_roles,
        allowed_from=allowed_from,
        to=to,
        who=who,
        now=ctx.now,
        approval=approval,
        review_interval_days=review_interval_days,
        rejection_reason=rejection_reason,
        version=version,
    )
    if row is None:
        raise await refused(conn, runtime, ctx, persona_id, action, version)
    # The policy in force is part of every decision.
    details = {**(history or {}), "policy_version": runtime.policy.version}
    if approval is not None:
        details["version"] = row["version"]  # what was approved
    await repo.add_history(conn, persona_id, ctx.now, History(action), me.id, details)
    await record(
        conn,
        ctx,
        Action.persona_step(action),
        target_type="persona",
        target_id=persona_id,
        details={"codename": row["codename"], "status": row["status"]},
    )
    return row


async def refused(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    action: str,
    version: int | None = None,
) -> Exception:
    """Why a guarded step matched nothing, as the error to raise."""
    facts = await gate.facts(conn, runtime, ctx, persona_id)
    if version is not None and facts["version"] != version:
        return stale(facts, version)
    try:
        gate.require(facts, action, runtime, ctx, action)
    except DomainError as exc:
        return exc
    # Allowed now, so something changed between the statement and this look.
    return Conflict("The persona changed meanwhile; reload and try again.")


def stale(facts: asyncpg.Record, version: int) -> Stale:
    return Stale(
        f"{facts['codename']} changed since you opened it (you saw version {version}; it is now version "
        f"{facts['version']}): reload it and look at what changed before you decide.",
        version=facts["version"],
    )


async def submit(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> StatusOut:
    row = await take(
        conn,
        runtime,
        ctx,
        persona_id,
        "submit",
        allowed_from=(S.DRAFT, S.REJECTED),
        to=S.SUBMITTED,
        who=repo.HANDLER,
    )
    await waiting.tell(
        conn,
        roles=[runtime.policy.placeholders.approves_identity_details],
        exclude=[row["handler_id"], row["requested_by"]],
        key=f"submitted:{persona_id}:{row['version']}",
        subject=f"{row['codename']} waits for the approval of its documented details",
        body=f"Persona {row['codename']} was submitted for approval before use (003 IV.B.3.b.2).",
        link=f"{runtime.settings.public_url}/personas/{persona_id}#decide",
        now=ctx.now,
        unit_id=row["unit_id"],
    )
    return StatusOut.of(row)


async def activate(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> StatusOut:
    """approved -> active, only when every condition holds; otherwise 409 with each unmet one."""
    gate.require(await gate.facts(conn, runtime, ctx, persona_id), "activate", runtime, ctx, "be activated")
    return StatusOut.of(
        await take(
            conn, runtime, ctx, persona_id, "activate", allowed_from=(S.APPROVED,), to=S.ACTIVE, who=repo.HANDLER
        )
    )


async def suspend(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: ReasonIn
) -> StatusOut:
    return StatusOut.of(
        await take(
            conn,
            runtime,
            ctx,
            persona_id,
            "suspend",
            allowed_from=S.suspendable(),
            to=S.SUSPENDED,
            who=repo.HANDLER_OR_CHAIN,
            history={"reason": data.reason},
        )
    )


async def resume(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: ReasonIn
) -> StatusOut:
    """Only the chain lifts a suspension (a handler cannot undo their supervisor's decision),
    and a persona going back into use must meet every condition again."""
    gate.require(await gate.facts(conn, runtime, ctx, persona_id), "resume", runtime, ctx, "go back into use")
    return StatusOut.of(
        await take(
            conn,
            runtime,
            ctx,
            persona_id,
            "resume",
            allowed_from=(S.SUSPENDED,),
            to=repo.RESUME,
            who=repo.CHAIN,
            history={"reason": data.reason},
        )
    )


async def _end(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    action: str,
    to: PersonaStatus,
    history: dict[str, Any],
) -> asyncpg.Record:
    """Retire or compromise: the record closes, and so do its accounts; a handler left with no
    persona to review in the investigation leaves the calendar, unless the review came due."""
    row = await take(
        conn,
        runtime,
        ctx,
        persona_id,
        action,
        allowed_from=S.live(),
        to=to,
        who=repo.HANDLER_OR_CHAIN,
        history=history,
    )
    await repo.close_accounts(conn, persona_id, ctx.now)
    await release_review(conn, ctx, row["investigation_id"], row["handler_id"])
    return row


async def retire(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: ReasonIn
) -> StatusOut:
    row = await _end(conn, runtime, ctx, persona_id, "retire", S.RETIRED, {"reason": data.reason})
    await equipment_service.release_all(conn, ctx, persona_id)
    return StatusOut.of(row)


async def compromise(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: CompromiseIn
) -> StatusOut:
    row = await _end(conn, runtime, ctx, persona_id, "compromise", S.COMPROMISED, {"report": data.report})
    # A burned persona's devices may carry its traces: out of service until re-inspected.
    tags = await equipment_service.quarantine_for(conn, ctx, persona_id)
    if tags:
        await waiting.tell(
            conn,
            roles=["equipment_officer"],
            exclude=[],
            key=f"quarantine:{persona_id}",
            subject=f"Quarantined, waiting for inspection: {', '.join(tags)}",
            body=f"{', '.join(tags)} served a compromised persona and are out of service until a new passing "
            "isolation inspection (003 IV.B.2).",
            link=f"{runtime.settings.public_url}/equipment",
            now=ctx.now,
        )
    return StatusOut.of(row)

"""Approving a persona's documented details before use (003 IV.B.3.b.2): approve, reject and
renew, each with a fresh authenticator code, never by the persona's requester or handler, and
each bound to the version of the details the approver saw."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from registry.audit.actions import Action
from registry.audit.service import record, record_failure
from registry.auth.service import check_code
from registry.errors import Invalid
from registry.lifecycle import gate, steps
from registry.lifecycle.schedule import schedule_review
from registry.personas import identity as identities
from registry.personas import repo
from registry.personas.schemas import Approve, FieldChange, IdentityChanges, Reject, Renew, StatusOut
from registry.runtime import RequestContext, Runtime
from registry.status import PersonaStatus

S = PersonaStatus


async def _separation_then_code(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    action: str,
    code: str,
    version: int | None = None,
) -> None:
    """Refuse one's own persona, a step the persona's state does not allow, or details changed
    since the approver opened them, before the code is spent; then check the fresh code."""
    facts = await gate.facts(conn, runtime, ctx, persona_id)
    if version is not None and facts["version"] != version:
        raise steps.stale(facts, version)
    me = ctx.me
    if me.id in (facts["handler_id"], facts["requested_by"]):
        record_failure(
            ctx,
            Action.persona_step(action),
            outcome="denied",
            target_type="persona",
            target_id=persona_id,
            details={"reason": "own persona"},
        )
    gate.require(facts, action, runtime, ctx, action)
    await check_code(conn, runtime, ctx, me.id, code, Action.persona_step(action))


async def approve(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    data: Approve,
    version: int | None,
) -> StatusOut:
    policy = runtime.policy.personas
    if data.review_interval_days is not None and data.review_interval_days > policy.review_interval_days:
        raise Invalid(
            f"review_interval_days may shorten the policy's {policy.review_interval_days} days, "
            "not lengthen them (003 IV.B.4).",
            field="review_interval_days",
        )
    await _separation_then_code(conn, runtime, ctx, persona_id, "approve", data.totp_code, version)
    expires = ctx.now + timedelta(days=policy.approval_valid_days)
    interval = data.review_interval_days or policy.review_interval_days
    row = await steps.take(
        conn,
        runtime,
        ctx,
        persona_id,
        "approve",
        allowed_from=(S.SUBMITTED,),
        to=S.APPROVED,
        who=repo.APPROVER,
        approval=(ctx.me.id, expires),
        review_interval_days=interval,
        version=version,
        history={"expires_at": expires.isoformat(), "review_interval_days": interval, "note": data.note},
    )
    await schedule_review(conn, runtime, ctx, row)
    return StatusOut.of(row)


async def reject(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    data: Reject,
    version: int | None,
) -> StatusOut:
    await _separation_then_code(conn, runtime, ctx, persona_id, "reject", data.totp_code, version)
    return StatusOut.of(
        await steps.take(
            conn,
            runtime,
            ctx,
            persona_id,
            "reject",
            allowed_from=(S.SUBMITTED,),
            to=S.REJECTED,
            who=repo.APPROVER,
            rejection_reason=data.reason,
            version=version,
            history={"reason": data.reason},
        )
    )


async def renew(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: Renew
) -> StatusOut:
    await _separation_then_code(conn, runtime, ctx, persona_id, "renew", data.totp_code)
    expires = ctx.now + timedelta(days=runtime.policy.personas.approval_valid_days)
    row = await steps.take(
        conn,
        runtime,
        ctx,
        persona_id,
        "renew",
        allowed_from=S.approved_like(),
        to=repo.UNCHANGED,
        who=repo.APPROVER,
        approval=(ctx.me.id, expires),
        history={"expires_at": expires.isoformat(), "note": data.note},
    )
    await schedule_review(conn, runtime, ctx, row)
    return StatusOut.of(row)


async def changes(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> IdentityChanges:
    """For an approver deciding: the documented identity field by field against what was last
    approved. Decrypts both, so it is an audited identity read, and only for those who may
    approve this persona."""
    facts = await gate.facts(conn, runtime, ctx, persona_id)
    gate.require(facts, "approve", runtime, ctx, "be approved by you")
    row = await repo.approval_snapshot(conn, persona_id)
    now = identities.open_identity(runtime, persona_id, bytes(row["identity"]))
    before = (
        identities.open_identity(runtime, persona_id, bytes(row["approved_identity"]))
        if row["approved_identity"] is not None
        else None
    )
    after_fields: dict[str, Any] = msgspec.to_builtins(now)
    before_fields: dict[str, Any] = msgspec.to_builtins(before) if before is not None else {}
    fields = [
        FieldChange(field=name, before=before_fields.get(name), after=value)
        for name, value in after_fields.items()
        if before is None or before_fields.get(name) != value
    ]
    await record(
        conn,
        ctx,
        Action.PERSONA_READ_IDENTITY,
        target_type="persona",
        target_id=persona_id,
        details={"codename": facts["codename"], "purpose": "approval changes"},
    )
    return IdentityChanges(
        version=row["version"],
        approved_version=row["approved_version"],
        first_approval=before is None,
        changes=fields,
    )

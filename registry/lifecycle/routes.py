"""HTTP for the lifecycle: the gate, the assessment, and every step. Routes only speak HTTP;
the rules are in registry.lifecycle."""

from __future__ import annotations

from uuid import UUID

from litestar import Router, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.lifecycle import approval, gate, handover, reviews, steps
from registry.lifecycle.schemas import Assessment, GateOut
from registry.permissions import Permission
from registry.personas.routes import IfMatch, named_version
from registry.personas.schemas import (
    Approve,
    CompromiseIn,
    HandoverIn,
    IdentityChanges,
    ReasonIn,
    Reject,
    Renew,
    StatusOut,
)
from registry.reviews.schemas import Complete, Completed
from registry.runtime import Ctx, RuntimeDep

PersonaId = FromPath[UUID]


@get("/{persona_id:uuid}/gate", opt={"permission": Permission.PERSONA_READ})
async def get_gate(persona_id: PersonaId, db: DB, runtime: RuntimeDep, ctx: Ctx) -> GateOut:
    """Every condition for putting the persona into use: met or not, its clause, what to do."""
    return await gate.gate(db, runtime, ctx, persona_id)


@get("/{persona_id:uuid}/steps", opt={"permission": Permission.PERSONA_READ})
async def get_steps(persona_id: PersonaId, db: DB, runtime: RuntimeDep, ctx: Ctx) -> Assessment:
    """The conditions, the devices the persona holds, and every step with whether you may take
    it now and, if not, why."""
    return await gate.assess(db, runtime, ctx, persona_id)


@post("/{persona_id:uuid}/activate", status_code=HTTP_200_OK, opt={"permission": Permission.PERSONA_ACTIVATE})
async def activate(persona_id: PersonaId, db: DB, runtime: RuntimeDep, ctx: Ctx) -> StatusOut:
    """Put an approved persona into use; 409 with every unmet condition otherwise."""
    return await steps.activate(db, runtime, ctx, persona_id)


@post("/{persona_id:uuid}/submit", status_code=HTTP_200_OK, opt={"permission": Permission.PERSONA_EDIT})
async def submit(persona_id: PersonaId, db: DB, runtime: RuntimeDep, ctx: Ctx) -> StatusOut:
    return await steps.submit(db, runtime, ctx, persona_id)


@post("/{persona_id:uuid}/approve", status_code=HTTP_200_OK, opt={"permission": Permission.PERSONA_APPROVE})
async def approve(
    persona_id: PersonaId, data: JSONBody[Approve], db: DB, runtime: RuntimeDep, ctx: Ctx, if_match: IfMatch = None
) -> StatusOut:
    """Approve the documented details before use (003 IV.B.3.b.2), with a fresh TOTP code;
    `version` (or If-Match) binds the approval to the details you saw: 409 if they changed."""
    return await approval.approve(db, runtime, ctx, persona_id, data, named_version(data.version, if_match))


@post("/{persona_id:uuid}/reject", status_code=HTTP_200_OK, opt={"permission": Permission.PERSONA_APPROVE})
async def reject(
    persona_id: PersonaId, data: JSONBody[Reject], db: DB, runtime: RuntimeDep, ctx: Ctx, if_match: IfMatch = None
) -> StatusOut:
    return await approval.reject(db, runtime, ctx, persona_id, data, named_version(data.version, if_match))


@get("/{persona_id:uuid}/changes", opt={"permission": Permission.PERSONA_APPROVE})
async def changes(persona_id: PersonaId, db: DB, runtime: RuntimeDep, ctx: Ctx) -> IdentityChanges:
    """For the approver of a submitted persona: the identity field by field against what was
    last approved; an audited identity read."""
    return await approval.changes(db, runtime, ctx, persona_id)


@post("/{persona_id:uuid}/renew", status_code=HTTP_200_OK, opt={"permission": Permission.PERSONA_APPROVE})
async def renew(persona_id: PersonaId, data: JSONBody[Renew], db: DB, runtime: RuntimeDep, ctx: Ctx) -> StatusOut:
    return await approval.renew(db, runtime, ctx, persona_id, data)


@post("/{persona_id:uuid}/suspend", status_code=HTTP_200_OK, opt={"permission": Permission.PERSONA_SUSPEND})
async def suspend(persona_id: PersonaId, data: JSONBody[ReasonIn], db: DB, runtime: RuntimeDep, ctx: Ctx) -> StatusOut:
    return await steps.suspend(db, runtime, ctx, persona_id, data)


@post("/{persona_id:uuid}/resume", status_code=HTTP_200_OK, opt={"permission": Permission.PERSONA_SUSPEND})
async def resume(persona_id: PersonaId, data: JSONBody[ReasonIn], db: DB, runtime: RuntimeDep, ctx: Ctx) -> StatusOut:
    return await steps.resume(db, runtime, ctx, persona_id, data)


@post("/{persona_id:uuid}/retire", status_code=HTTP_200_OK, opt={"permission": Permission.PERSONA_SUSPEND})
async def retire(persona_id: PersonaId, data: JSONBody[ReasonIn], db: DB, runtime: RuntimeDep, ctx: Ctx) -> StatusOut:
    return await steps.retire(db, runtime, ctx, persona_id, data)


@post("/{persona_id:uuid}/compromise", status_code=HTTP_200_OK, opt={"permission": Permission.PERSONA_SUSPEND})
async def compromise(
    persona_id: PersonaId, data: JSONBody[CompromiseIn], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> StatusOut:
    """The persona is burned: terminal, with a report."""
    return await steps.compromise(db, runtime, ctx, persona_id, data)


@post("/{persona_id:uuid}/handover", status_code=HTTP_200_OK, opt={"permission": Permission.PERSONA_HANDOVER})
async def hand_over(
    persona_id: PersonaId, data: JSONBody[HandoverIn], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> StatusOut:
    return await handover.handover(db, runtime, ctx, persona_id, data)


@post(
    "/api/reviews/{review_id:uuid}/complete",
    status_code=HTTP_200_OK,
    opt={"permission": Permission.REVIEW_HOLD},
    tags=["reviews"],
)
async def complete_review(
    review_id: FromPath[UUID], data: JSONBody[Complete], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Completed:
    """Record a held review: outcome continue, corrective_action, suspend or terminate (the
    persona steps an outcome calls for are the lifecycle's own)."""
    return await reviews.complete(db, runtime, ctx, review_id, data)


routes: list[ControllerRouterHandler] = [
    Router(
        path="/api/personas",
        tags=["personas"],
        route_handlers=[
            get_gate,
            get_steps,
            activate,
            submit,
            approve,
            reject,
            changes,
            renew,
            suspend,
            resume,
            retire,
            compromise,
            hand_over,
        ],
    ),
    complete_review,
]

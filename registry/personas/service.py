"""Persona rules: request, document, approve with MFA, keep confidential (003 IV.B.3).

Lifecycle: draft -> submitted -> approved -> active <-> suspended; submitted -> rejected ->
draft; retired (with reason) or compromised (with a report, terminal) from any live state.
Every step is one guarded UPDATE (repo.transition); when it matches nothing, `_refusal`
works out why and says so: 404 outside need-to-know, 403 for the wrong person, 409 for the
wrong state.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from registry.accounts.service import for_persona as accounts_for_persona
from registry.accounts.service import handle_index
from registry.audit.service import record, record_failure
from registry.auth.service import check_code
from registry.equipment import service as equipment_service
from registry.errors import BadRequest, Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from registry.gate import service as gate_service
from registry.investigations import repo as investigations_repo
from registry.personas import codenames, repo
from registry.personas.lookup import visible_persona
from registry.personas.schemas import (
    Approve,
    AwaitingApproval,
    CentralRecord,
    CentralRecordRow,
    CompromiseIn,
    ConflictList,
    Deconflict,
    HandoverIn,
    HistoryEntry,
    Identity,
    Person,
    PersonaCreate,
    PersonaCreated,
    PersonaDetail,
    PersonaPage,
    PersonaSummary,
    ReasonIn,
    Reject,
    Renew,
    StatusOut,
)
from registry.personas.schemas import Conflict as ConflictOut
from registry.platforms import repo as platforms_repo
from registry.reviews import repo as reviews_repo
from registry.runtime import RequestContext, Runtime

APPROVED_STATES = ("approved", "active", "suspended")


def _context(persona_id: UUID) -> str:
    return f"personas.identity:{persona_id}"


def approval_current(status: str, expires_at: datetime | None, now: datetime) -> bool:
    return status in APPROVED_STATES and expires_at is not None and expires_at > now


def _alias_index(runtime: Runtime, identity: Identity) -> bytes:
    return runtime.keyring.blind_index(identity.alias_name, "alias")


def _check_identity(identity: Identity, ctx: RequestContext) -> None:
    if not (identity.date_of_birth.year >= 1900 and identity.date_of_birth < ctx.now.date()):
        raise Invalid("date_of_birth must be a past date after 1900.", field="identity.date_of_birth")


async def _deconflict_alias(
    conn: asyncpg.Connection, runtime: Runtime, alias_index: bytes, exclude: UUID | None
) -> None:
    clashes = await repo.alias_conflicts(conn, alias_index, exclude)
    if clashes:
        raise Conflict(
            "Another live persona already uses this alias. Contact its handler before going further: "
            + "; ".join(f"{c['codename']} (handler {c['handler']})" for c in clashes),
            field="identity.alias_name",
            conflicts=[{"codename": c["codename"], "handler": c["handler"]} for c in clashes],
        )


async def create(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, data: PersonaCreate
) -> PersonaCreated:
    me = ctx.me
    unit_roles = runtime.permissions.unit_wide_roles
    investigation = await investigations_repo.get_visible(conn, data.investigation_id, me.id, unit_roles)
    if investigation is None:
        raise NotFound("No such investigation, or you are not on its team.", field="investigation_id")
    if str(me.id) not in {str(m["user_id"]) for m in investigation["members"]}:
        raise Forbidden("Only members of the investigation request personas for it; ask to be added.")
    _check_identity(data.identity, ctx)
    alias_index = _alias_index(runtime, data.identity)
    await _deconflict_alias(conn, runtime, alias_index, None)
    if data.codename and runtime.keyring.blind_index(data.codename, "alias") == alias_index:
        raise Invalid(
            "The codename must not be the alias: the codename is what leaves the confidential zone.", field="codename"
        )

    persona_id = uuid.uuid4()
    sealed = runtime.keyring.encrypt(msgspec.json.encode(data.identity).decode(), _context(persona_id))
    for _ in range(20):
        codename = codenames.normalize(data.codename) if data.codename else codenames.generate()
        if await repo.insert(
            conn,
            persona_id=persona_id,
            codename=codename,
            investigation_id=data.investigation_id,
            handler_id=me.id,
            identity=sealed,
            alias_index=alias_index,
            now=ctx.now,
        ):
            break
        # Nothing inserted: either the codename is taken, or another request made the alias
        # live since the check above (the unique index settled the race): say which.
        await _deconflict_alias(conn, runtime, alias_index, None)
        if data.codename:
            raise Conflict(f"The codename {codename} is taken; choose another or leave it out.", field="codename")
    else:  # pragma: no cover - 64,000 combinations
        raise Conflict("Could not find a free codename; give one.", field="codename")
    await repo.add_history(conn, persona_id, ctx.now, "requested", me.id, {})
    await record(
        conn, ctx, "persona.create", target_type="persona", target_id=persona_id, details={"codename": codename}
    )
    return PersonaCreated(id=persona_id, codename=codename, status="draft")


async def get(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> PersonaDetail:
    """The full record, identity included. Every such read is an audit event (003 IV.B.3.b.3)."""
    row = await visible_persona(conn, runtime, ctx, persona_id)
    identity = msgspec.json.decode(runtime.keyring.decrypt(bytes(row["identity"]), _context(persona_id)), type=Identity)
    history = await repo.history(conn, persona_id)
    await record(
        conn,
        ctx,
        "persona.read_identity",
        target_type="persona",
        target_id=persona_id,
        details={"codename": row["codename"]},
    )
    return PersonaDetail(
        id=row["id"],
        codename=row["codename"],
        status=row["status"],
        investigation_id=row["investigation_id"],
        case_number=row["case_number"],
        handler=Person(id=row["handler_id"], username=row["handler_username"], display_name=row["handler_name"]),
        requested_by=row["requested_by_name"],
        identity=identity,
        approved_by=row["approved_by_name"],
        approved_at=row["approved_at"],
        approval_expires_at=row["approval_expires_at"],
        approval_current=approval_current(row["status"], row["approval_expires_at"], ctx.now),
        review_interval_days=row["review_interval_days"],
        rejection_reason=row["rejection_reason"],
        created_at=row["created_at"],
        history=[HistoryEntry(at=h["at"], action=h["action"], actor=h["actor"], details=h["details"]) for h in history],
        accounts=await accounts_for_persona(conn, runtime, persona_id),
    )


def _encode_cursor(created_at: datetime, persona_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{persona_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        stamp, _, pid = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), UUID(pid)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("cursor must be the next_cursor of a previous page", field="cursor") from exc


async def page(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    *,
    status: str | None,
    investigation_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> PersonaPage:
    rows = await repo.page_visible(
        conn,
        ctx.me.id,
        runtime.permissions.unit_wide_roles,
        status=status,
        investigation_id=investigation_id,
        after=_decode_cursor(cursor) if cursor else None,
        limit=limit,
    )
    lapsed = await gate_service.lapsed(conn, runtime, ctx, [r["id"] for r in rows if r["status"] == "active"])
    items = [
        PersonaSummary(
            id=r["id"],
            codename=r["codename"],
            status=r["status"],
            handler=r["handler"],
            investigation_id=r["investigation_id"],
            case_number=r["case_number"],
            approval_expires_at=r["approval_expires_at"],
            approval_current=approval_current(r["status"], r["approval_expires_at"], ctx.now),
            next_review_due=r["next_review_due"],
            lapsed=lapsed.get(r["id"], []),
        )
        for r in rows
    ]
    last = rows[-1] if len(rows) == limit else None
    return PersonaPage(items=items, next_cursor=_encode_cursor(last["created_at"], last["id"]) if last else None)


async def _refusal(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    action: str,
    allowed_from: tuple[str, ...],
    who: str,
) -> Exception:
    """Why a guarded step matched nothing, as the error to raise."""
    row = await visible_persona(conn, runtime, ctx, persona_id)
    me = ctx.me
    if who == repo.HANDLER and row["handler_id"] != me.id:
        return Forbidden(f"Only the persona's handler can {action} it.")
    if who == repo.NOT_OWN and me.id in (row["handler_id"], row["requested_by"]):
        record_failure(
            ctx,
            f"persona.{action}",
            outcome="denied",
            target_type="persona",
            target_id=persona_id,
            details={"reason": "own persona"},
        )
        return Forbidden(f"You requested or handle this persona: another supervisor must {action} it (003 IV.B.3.b.2).")
    if who == repo.CHAIN and not runtime.permissions.sees_unit(me.roles):
        return Forbidden(f"Only the supervisor and commander chain can {action} this persona.")
    if who == repo.HANDLER_OR_CHAIN and row["handler_id"] != me.id and not runtime.permissions.sees_unit(me.roles):
        return Forbidden(f"Only the handler or the supervisor and commander chain can {action} this persona.")
    return InvalidTransition(
        f"The persona is {row['status']}; {action} needs it to be {' or '.join(allowed_from)}.",
        status_now=row["status"],
    )


async def _step(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    action: str,
    *,
    allowed_from: tuple[str, ...],
    to: str,
    who: str,
    history: dict[str, Any] | None = None,
    approval: tuple[UUID, datetime] | None = None,
    review_interval_days: int | None = None,
    rejection_reason: str | None = None,
) -> asyncpg.Record:
    """One lifecycle step, recorded in the history and the audit log; the row as it now is
    (id, codename, status, approval expiry, handler, investigation)."""
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
    )
    if row is None:
        raise await _refusal(conn, runtime, ctx, persona_id, action, allowed_from, who)
    await repo.add_history(conn, persona_id, ctx.now, action, me.id, history or {})
    await record(
        conn,
        ctx,
        f"persona.{action}",
        target_type="persona",
        target_id=persona_id,
        details={"codename": row["codename"], "status": row["status"]},
    )
    return row


async def update_identity(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, identity: Identity
) -> StatusOut:
    """The handler edits the documented identity. A change to an approved persona is material:
    it goes back to `submitted` and cannot be used until approved again (003 IV.B.3.b.2)."""
    me = ctx.me
    row = await visible_persona(conn, runtime, ctx, persona_id)
    if row["handler_id"] != me.id:
        raise Forbidden("Only the persona's handler can change its documented identity.")
    if row["status"] in ("retired", "compromised"):
        raise InvalidTransition(f"The persona is {row['status']}; its record is closed.")
    _check_identity(identity, ctx)
    current = runtime.keyring.decrypt(bytes(row["identity"]), _context(persona_id))
    if msgspec.json.decode(current, type=Identity) == identity:
        return StatusOut.of(row)
    alias_index = _alias_index(runtime, identity)
    await _deconflict_alias(conn, runtime, alias_index, persona_id)
    to_status = {"rejected": "draft", "approved": "submitted", "active": "submitted", "suspended": "submitted"}.get(
        row["status"]
    )
    try:
        # A savepoint: if another request made this alias live since the check above, the
        # unique index refuses it and the clash is reported like any other.
        async with conn.transaction():
            updated = await repo.update_identity(
                conn,
                persona_id,
                me.id,
                runtime.permissions.unit_wide_roles,
                identity=runtime.keyring.encrypt(msgspec.json.encode(identity).decode(), _context(persona_id)),
                alias_index=alias_index,
                allowed_from=(row["status"],),
                to_status=to_status,
                now=ctx.now,
            )
    except asyncpg.UniqueViolationError:
        await _deconflict_alias(conn, runtime, alias_index, persona_id)
        raise
    if updated is None:
        raise Conflict("The persona changed while you were editing it; reload and try again.")
    material = row["status"] in APPROVED_STATES
    if material:
        # Back to `submitted`: no longer under review until approved again (which schedules one).
        await _release_review(conn, ctx, row["investigation_id"], row["handler_id"])
    await repo.add_history(
        conn, persona_id, ctx.now, "identity_changed", me.id, {"resubmitted": True} if material else {}
    )
    await record(
        conn,
        ctx,
        "persona.identity_change",
        target_type="persona",
        target_id=persona_id,
        details={"codename": row["codename"], "status": updated["status"], "material": material},
    )
    return StatusOut.of(updated)


async def submit(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> StatusOut:
    return StatusOut.of(
        await _step(
            conn,
            runtime,
            ctx,
            persona_id,
            "submit",
            allowed_from=("draft", "rejected"),
            to="submitted",
            who=repo.HANDLER,
        )
    )


async def _separation_then_code(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, action: str, code: str
) -> None:
    """Refuse one's own persona before the code is spent; then check the fresh code."""
    row = await visible_persona(conn, runtime, ctx, persona_id)
    me = ctx.me
    if me.id in (row["handler_id"], row["requested_by"]):
        raise await _refusal(conn, runtime, ctx, persona_id, action, (), repo.NOT_OWN)
    await check_code(conn, runtime, ctx, me.id, code, f"persona.{action}")


async def approve(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: Approve
) -> StatusOut:
    policy = runtime.policy.personas
    if data.review_interval_days is not None and data.review_interval_days > policy.review_interval_days:
        raise Invalid(
            f"review_interval_days may shorten the policy's {policy.review_interval_days} days, "
            "not lengthen them (003 IV.B.4).",
            field="review_interval_days",
        )
    await _separation_then_code(conn, runtime, ctx, persona_id, "approve", data.totp_code)
    expires = ctx.now + timedelta(days=policy.approval_valid_days)
    interval = data.review_interval_days or policy.review_interval_days
    row = await _step(
        conn,
        runtime,
        ctx,
        persona_id,
        "approve",
        allowed_from=("submitted",),
        to="approved",
        who=repo.NOT_OWN,
        approval=(ctx.me.id, expires),
        review_interval_days=interval,
        history={"expires_at": expires.isoformat(), "review_interval_days": interval, "note": data.note},
    )
    await _schedule_review(conn, runtime, ctx, row)
    return StatusOut.of(row)


async def _schedule_review(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, row: asyncpg.Record, due_on: date | None = None
) -> None:
    """003 IV.B.4: an approved persona's handler has a conduct review on the calendar for its
    investigation, due within the persona's review interval, or by `due_on` when an earlier
    obligation carries over (an existing one is brought forward if this asks for earlier)."""
    interval = row["review_interval_days"] or runtime.policy.personas.review_interval_days
    due = (ctx.now + timedelta(days=interval)).date()
    await reviews_repo.ensure_open(
        conn, row["investigation_id"], row["handler_id"], min(due, due_on) if due_on else due, ctx.now
    )


async def _release_review(
    conn: asyncpg.Connection, ctx: RequestContext, investigation_id: UUID, handler_id: UUID
) -> None:
    """When a handler has no persona left to review in an investigation, their open review
    leaves the calendar."""
    cancelled = await reviews_repo.cancel_if_uncovered(conn, investigation_id, handler_id, ctx.now)
    if cancelled is not None:
        await record(conn, ctx, "review.cancel", target_type="conduct_review", target_id=cancelled, details={})


async def reject(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: Reject
) -> StatusOut:
    await _separation_then_code(conn, runtime, ctx, persona_id, "reject", data.totp_code)
    return StatusOut.of(
        await _step(
            conn,
            runtime,
            ctx,
            persona_id,
            "reject",
            allowed_from=("submitted",),
            to="rejected",
            who=repo.NOT_OWN,
            rejection_reason=data.reason,
            history={"reason": data.reason},
        )
    )


async def renew(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: Renew
) -> StatusOut:
    await _separation_then_code(conn, runtime, ctx, persona_id, "renew", data.totp_code)
    expires = ctx.now + timedelta(days=runtime.policy.personas.approval_valid_days)
    row = await _step(
        conn,
        runtime,
        ctx,
        persona_id,
        "renew",
        allowed_from=APPROVED_STATES,
        to=repo.UNCHANGED,
        who=repo.NOT_OWN,
        approval=(ctx.me.id, expires),
        history={"expires_at": expires.isoformat(), "note": data.note},
    )
    await _schedule_review(conn, runtime, ctx, row)
    return StatusOut.of(row)


async def suspend(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: ReasonIn
) -> StatusOut:
    return StatusOut.of(
        await _step(
            conn,
            runtime,
            ctx,
            persona_id,
            "suspend",
            allowed_from=("approved", "active"),
            to="suspended",
            who=repo.HANDLER_OR_CHAIN,
            history={"reason": data.reason},
        )
    )


async def resume(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: ReasonIn
) -> StatusOut:
    """Only the chain lifts a suspension (a handler cannot undo their supervisor's decision),
    and a persona going back into use must pass the activation gate again."""
    row = await visible_persona(conn, runtime, ctx, persona_id)
    if row["status"] == "suspended":
        gate = await gate_service.gate(conn, runtime, ctx, persona_id)
        if row["suspended_from"] != "active":
            # Not back into use, but not past an overdue conduct review either (003 IV.B.4).
            gate = gate_service.only(gate, gate_service.CONDUCT_REVIEW)
        if not gate.ready:
            raise gate_service.refusal(row["codename"], "go back into use", gate)
    return StatusOut.of(
        await _step(
            conn,
            runtime,
            ctx,
            persona_id,
            "resume",
            allowed_from=("suspended",),
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
    to: str,
    history: dict[str, Any],
) -> asyncpg.Record:
    """Retire or compromise: the record closes, and so do its accounts (their handles free);
    a handler left with no persona to review in the investigation leaves the calendar."""
    row = await _step(
        conn,
        runtime,
        ctx,
        persona_id,
        action,
        allowed_from=repo.LIVE,
        to=to,
        who=repo.HANDLER_OR_CHAIN,
        history=history,
    )
    await repo.close_accounts(conn, persona_id, ctx.now)
    await _release_review(conn, ctx, row["investigation_id"], row["handler_id"])
    return row


async def retire(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: ReasonIn
) -> StatusOut:
    row = await _end(conn, runtime, ctx, persona_id, "retire", "retired", {"reason": data.reason})
    await equipment_service.release_all(conn, ctx, persona_id)
    return StatusOut.of(row)


async def compromise(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: CompromiseIn
) -> StatusOut:
    row = await _end(conn, runtime, ctx, persona_id, "compromise", "compromised", {"report": data.report})
    # A burned persona's devices may carry its traces: out of service until re-inspected.
    await equipment_service.quarantine_for(conn, ctx, persona_id)
    return StatusOut.of(row)


async def handover(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: HandoverIn
) -> StatusOut:
    me = ctx.me
    row = await visible_persona(conn, runtime, ctx, persona_id)
    target = await repo.active_detective(conn, data.to_user_id)
    if target is None:
        raise Invalid("to_user_id must be an active detective.", field="to_user_id")
    if row["status"] not in repo.LIVE:
        raise InvalidTransition(f"The persona is {row['status']}; its record is closed.")
    if data.to_user_id == row["handler_id"]:
        raise Conflict(f"{target['display_name']} already handles this persona.", field="to_user_id")
    if data.to_user_id == row["approved_by"]:
        raise Conflict(
            f"{target['display_name']} approved this persona and so cannot handle it (003 IV.B.3.b.2).",
            field="to_user_id",
        )
    updated = await repo.hand_over(
        conn, persona_id, me.id, runtime.permissions.unit_wide_roles, data.to_user_id, ctx.now
    )
    if updated is None:
        raise Conflict("The persona changed meanwhile; reload and try again.")
    details = {"from_user_id": str(row["handler_id"]), "to_user_id": str(data.to_user_id), "reason": data.reason}
    await repo.add_history(conn, persona_id, ctx.now, "handover", me.id, details)
    # The new handler joins the investigation's team, as any detective working the case would.
    await investigations_repo.add_member(conn, row["investigation_id"], data.to_user_id, me.id, ctx.now)
    if row["status"] in APPROVED_STATES:
        # The review obligation moves with the persona: the new handler's review is due no
        # later than the old one was, so a handover never postpones a review.
        carried = await reviews_repo.open_due_on(conn, row["investigation_id"], row["handler_id"])
        await _schedule_review(conn, runtime, ctx, updated, carried)
    await _release_review(conn, ctx, row["investigation_id"], row["handler_id"])
    await record(
        conn,
        ctx,
        "persona.handover",
        target_type="persona",
        target_id=persona_id,
        details={
            "codename": row["codename"],
            "from_user_id": details["from_user_id"],
            "to_user_id": details["to_user_id"],
        },
    )
    return StatusOut.of(updated)


async def deconflict(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, data: Deconflict) -> ConflictList:
    """Would this alias or handle collide with a live persona? Answers codenames and handlers to
    contact, never the other identity, and answers across need-to-know on purpose."""
    found: list[ConflictOut] = []
    if data.alias_name is not None:
        for c in await repo.alias_conflicts(conn, runtime.keyring.blind_index(data.alias_name, "alias"), None):
            found.append(ConflictOut(codename=c["codename"], handler=c["handler"], matched="alias_name"))
    if data.platform_id is not None and data.handle is not None:
        if not await platforms_repo.exists(conn, data.platform_id):
            raise NotFound("No such platform.", field="platform_id")
        index = handle_index(runtime, data.platform_id, data.handle)
        for c in await repo.handle_conflicts(conn, data.platform_id, index, None):
            found.append(ConflictOut(codename=c["codename"], handler=c["handler"], matched="handle"))
    await record(
        conn,
        ctx,
        "persona.deconflict",
        details={
            "checked": [k for k in ("alias_name", "handle") if getattr(data, k) is not None],
            "conflicts": len(found),
        },
    )
    return ConflictList(conflicts=found)


async def central_record(conn: asyncpg.Connection, ctx: RequestContext) -> CentralRecord:
    """Per persona, the dates of request, approval (and by whom), renewals, reviews, suspensions,
    cancellation or compromise: codenames only, no identity and no free text."""
    items = []
    for row in await repo.central_record(conn):
        events: list[dict[str, Any]] = row["events"]

        def dated(action: str, events: list[dict[str, Any]] = events) -> list[dict[str, Any]]:
            return [{"at": e["at"], "by": e["by"]} for e in events if e["action"] == action]

        def last(action: str, events: list[dict[str, Any]] = events) -> datetime | None:
            stamps = [e["at"] for e in events if e["action"] == action]
            return msgspec.convert(stamps[-1], datetime) if stamps else None

        items.append(
            CentralRecordRow(
                codename=row["codename"],
                case_number=row["case_number"],
                status=row["status"],
                requested_at=row["created_at"],
                requested_by=row["requested_by"],
                approvals=dated("approve"),
                renewals=dated("renew"),
                reviews=dated("review"),
                suspensions=[msgspec.convert(e["at"], datetime) for e in events if e["action"] == "suspend"],
                retired_at=last("retire"),
                compromised_at=last("compromise"),
            )
        )
    await record(conn, ctx, "central_record.read", details={"personas": len(items)})
    return CentralRecord(items=items)


async def awaiting_approval(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, renew_within_days: int
) -> list[AwaitingApproval]:
    """What waits for an approver: submitted personas and approvals about to lapse."""
    rows = await repo.awaiting_approval(
        conn, ctx.me.id, runtime.permissions.unit_wide_roles, ctx.now + timedelta(days=renew_within_days)
    )
    return [
        AwaitingApproval(
            id=r["id"],
            codename=r["codename"],
            status=r["status"],
            case_number=r["case_number"],
            handler=r["handler"],
            approval_expires_at=r["approval_expires_at"],
            material_change=r["status"] == "submitted" and r["approved_before"],
            own=r["own"],
        )
        for r in rows
    ]

"""Investigations: the case a persona serves, the justification an authorizing official
weighs, and the authorization to use false identities in it (003 IV.B.1.a, IV.B.3.a)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from registry.audit.actions import Action
from registry.audit.service import record, record_failure
from registry.auth.service import check_code
from registry.errors import Conflict, Forbidden, InvalidTransition, NotFound
from registry.investigations import repo
from registry.investigations.schemas import (
    Authorize,
    Authorized,
    AwaitingAuthorization,
    InvestigationCreate,
    InvestigationList,
    InvestigationOut,
    InvestigationSummary,
    Member,
    MemberAdd,
    MemberChoice,
    Refuse,
)
from registry.notify import waiting
from registry.runtime import RequestContext, Runtime
from registry.units import service as units

NOT_FOUND = "No such investigation, or it is outside your need-to-know."


def _current(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now


async def _visible(
    conn: asyncpg.Connection, runtime: Runtime, me: UUID, investigation_id: UUID
) -> asyncpg.Record | None:
    """The investigation as the unit chain, its team or a department-wide role sees it."""
    permissions = runtime.permissions
    return await repo.get_visible(
        conn, investigation_id, me, permissions.unit_wide_roles, permissions.investigation_wide_roles
    )


async def create(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, data: InvestigationCreate
) -> InvestigationSummary:
    me = ctx.me
    unit_id = await units.unit_to_open_in(conn, me.id, data.unit_id)
    row = await repo.insert(conn, msgspec.structs.asdict(data), me.id, unit_id, ctx.now)
    if row is None:
        raise Conflict(
            f"Case number {data.case_number} is already registered; ask its team to add you.", field="case_number"
        )
    # The detective who opens a case is on its team.
    await repo.add_member(conn, row["id"], me.id, me.id, ctx.now)
    await record(
        conn,
        ctx,
        Action.INVESTIGATION_CREATE,
        target_type="investigation",
        target_id=row["id"],
        details={"case_number": data.case_number},
    )
    await waiting.tell(
        conn,
        roles=[runtime.policy.placeholders.authorizes_false_identities],
        exclude=[me.id],
        key=f"investigation:{row['id']}",
        subject=f"Case {data.case_number} waits for authorization to use false identities",
        body=f"Case {data.case_number} asks to use false identities (003 IV.B.1.a, IV.B.3.a).",
        link=f"{runtime.settings.public_url}/investigations/{row['id']}#authorize",
        now=ctx.now,
    )
    return InvestigationSummary(
        id=row["id"],
        case_number=data.case_number,
        title=data.title,
        status=row["status"],
        authorized_until=None,
        authorization_current=False,
        unit_id=unit_id,
        unit_name=await units.name_of(conn, unit_id),
    )


async def get(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, investigation_id: UUID
) -> InvestigationOut:
    row = await _visible(conn, runtime, ctx.me.id, investigation_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    return InvestigationOut(
        id=row["id"],
        case_number=row["case_number"],
        title=row["title"],
        purpose=row["purpose"],
        necessity=row["necessity"],
        proportionality=row["proportionality"],
        collateral_intrusion=row["collateral_intrusion"],
        status=row["status"],
        opened_by=row["opened_by_name"],
        created_at=row["created_at"],
        authorized_by=row["authorized_by_name"],
        authorized_at=row["authorized_at"],
        authorized_until=row["authorized_until"],
        authorization_current=_current(row["authorized_until"], ctx.now),
        members=msgspec.convert(row["members"], list[Member]),
        refused_by=row["refused_by_name"],
        refused_at=row["refused_at"],
        refusal_reason=row["refusal_reason"],
        unit_id=row["unit_id"],
        unit_name=row["unit_name"],
    )


async def list_visible(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext) -> InvestigationList:
    permissions = runtime.permissions
    rows = await repo.list_visible(conn, ctx.me.id, permissions.unit_wide_roles, permissions.investigation_wide_roles)
    return InvestigationList(
        items=[
            InvestigationSummary(
                id=r["id"],
                case_number=r["case_number"],
                title=r["title"],
                status=r["status"],
                authorized_until=r["authorized_until"],
                authorization_current=_current(r["authorized_until"], ctx.now),
                unit_id=r["unit_id"],
                unit_name=r["unit_name"],
            )
            for r in rows
        ]
    )


async def _team_of(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, investigation_id: UUID
) -> asyncpg.Record:
    """The investigation, if the caller may add to its team: who opened it, or its unit's chain."""
    me = ctx.me
    row = await _visible(conn, runtime, me.id, investigation_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    if row["opened_by"] != me.id and not row["in_chain"]:
        raise Forbidden(
            "Only the detective who opened the investigation, or a supervisor or commander of its unit, adds members."
        )
    return row


async def member_candidates(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, investigation_id: UUID
) -> MemberChoice:
    """Whom the caller may add to the team, by name; or why they may not add anyone."""
    try:
        await _team_of(conn, runtime, ctx, investigation_id)
    except Forbidden as exc:
        return MemberChoice(people=[], refused=exc.detail)
    return MemberChoice(people=msgspec.convert(await repo.non_members(conn, investigation_id), list[Member]))


async def add_member(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, investigation_id: UUID, data: MemberAdd
) -> InvestigationOut:
    me = ctx.me
    await _team_of(conn, runtime, ctx, investigation_id)
    if not await repo.user_exists(conn, data.user_id):
        raise NotFound("No active user with that id.", field="user_id")
    if await repo.add_member(conn, investigation_id, data.user_id, me.id, ctx.now):
        await record(
            conn,
            ctx,
            Action.INVESTIGATION_MEMBER_ADD,
            target_type="investigation",
            target_id=investigation_id,
            details={"user_id": str(data.user_id)},
        )
    return await get(conn, runtime, ctx, investigation_id)


async def _decision(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    investigation_id: UUID,
    action: Action,
    totp_code: str,
) -> asyncpg.Record:
    """The investigation the official decides (`action`: authorize or refuse), after the checks
    both share: visible, not one they opened (an attempt is audited as denied), not closed by
    a refusal; a current authorization is not refused (it lapses); then a fresh code."""
    me = ctx.me
    row = await _visible(conn, runtime, me.id, investigation_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    if row["opened_by"] == me.id:
        record_failure(
            ctx,
            action,
            outcome="denied",
            target_type="investigation",
            target_id=investigation_id,
            details={"reason": "opened the investigation"},
        )
        raise Forbidden("You opened this investigation: another authorizing official must decide it.")
    if row["status"] == "refused":
        raise InvalidTransition(
            f"Case {row['case_number']} was refused on {row['refused_at']:%Y-%m-%d}: it is closed; a new request "
            "needs a new investigation."
        )
    if action is Action.INVESTIGATION_REFUSE and _current(row["authorized_until"], ctx.now):
        raise InvalidTransition(
            f"Case {row['case_number']} is authorized until {row['authorized_until']:%Y-%m-%d}: a current "
            "authorization is not refused; it lapses, and its renewal may be refused."
        )
    await check_code(conn, runtime, ctx, me.id, totp_code, action)
    return row


async def authorize(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, investigation_id: UUID, data: Authorize
) -> Authorized:
    """003 IV.B.1.a / IV.B.3.a: the policy's official authorizes false identities, with a
    fresh TOTP code, never for an investigation they opened."""
    me = ctx.me
    await _decision(conn, runtime, ctx, investigation_id, Action.INVESTIGATION_AUTHORIZE, data.totp_code)
    until = ctx.now + timedelta(days=runtime.policy.investigations.authorization_valid_days)
    updated = await repo.authorize(conn, investigation_id, me.id, ctx.now, until, data.note)
    if updated is None:
        raise Conflict("The investigation changed meanwhile; reload it.")
    await record(
        conn,
        ctx,
        Action.INVESTIGATION_AUTHORIZE,
        target_type="investigation",
        target_id=investigation_id,
        details={"authorized_until": until.isoformat(), "policy_version": runtime.policy.version},
    )
    return Authorized(id=investigation_id, status=updated["status"], authorized_until=updated["authorized_until"])


async def refuse(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, investigation_id: UUID, data: Refuse
) -> InvestigationOut:
    """The official refuses the use of false identities in an investigation, with a reason and a
    fresh code: the request is closed, and no persona of it may be requested or used."""
    me = ctx.me
    row = await _decision(conn, runtime, ctx, investigation_id, Action.INVESTIGATION_REFUSE, data.totp_code)
    if await repo.refuse(conn, investigation_id, me.id, ctx.now, data.reason) is None:
        raise Conflict("The investigation changed meanwhile; reload it.")
    await record(
        conn,
        ctx,
        Action.INVESTIGATION_REFUSE,
        target_type="investigation",
        target_id=investigation_id,
        details={"case_number": row["case_number"], "policy_version": runtime.policy.version},
    )
    return await get(conn, runtime, ctx, investigation_id)


async def awaiting_authorization(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext
) -> list[AwaitingAuthorization]:
    permissions = runtime.permissions
    rows = await repo.awaiting_authorization(
        conn, ctx.me.id, permissions.unit_wide_roles, permissions.investigation_wide_roles, ctx.now
    )
    return [
        AwaitingAuthorization(
            id=r["id"],
            case_number=r["case_number"],
            title=r["title"],
            status=r["status"],
            opened_by=r["opened_by"],
            own=r["own"],
            waiting_since=r["waiting_since"],
        )
        for r in rows
    ]

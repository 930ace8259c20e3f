"""Grants of roles that read identities: an administrator proposes, a second person confirms.

Detective, supervisor, commander, and any role the policy's placeholders clear to read
personas, are never given by one person: until the policy's `security.confirms_accounts`
(a commander by default) confirms with a fresh code, the grant is pending and gives nothing.
Nobody confirms a grant to themselves or one they proposed (settled in SQL). An account whose
authenticator no second person has vouched for (enrolled with a password an administrator
set) re-enrolls at confirmation, with a one-time code the confirmer hands over in person."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from registry.audit.actions import Action
from registry.audit.service import record
from registry.auth import repo as auth_repo
from registry.auth.service import check_code
from registry.errors import Conflict, Forbidden, NotFound
from registry.runtime import RequestContext, Runtime
from registry.users import repo, rules
from registry.users.schemas import GrantConfirmed, RoleGrantOut


def needing_confirmation(runtime: Runtime, roles: Iterable[str]) -> list[str]:
    """The roles among `roles` that read identities, so take a second person to grant."""
    return sorted(set(roles) & runtime.permissions.identity_roles)


def _out(row: asyncpg.Record) -> RoleGrantOut:
    return RoleGrantOut(
        id=row["id"],
        user_id=row["user_id"],
        username=row["username"],
        roles=list(row["roles"]),
        status=row["status"],
        proposed_by=row["proposed_by_name"],
        proposed_at=row["proposed_at"],
        decided_by=row["decided_by_name"],
        decided_at=row["decided_at"],
    )


async def propose(conn: asyncpg.Connection, ctx: RequestContext, user_id: UUID, roles: list[str]) -> RoleGrantOut:
    grant_id = await repo.propose_grant(conn, user_id, roles, ctx.user.id if ctx.user else None, ctx.now)
    await record(
        conn,
        ctx,
        Action.ROLE_GRANT_PROPOSE,
        target_type="user",
        target_id=user_id,
        details={"grant": str(grant_id), "roles": roles},
    )
    row = await repo.grant(conn, grant_id)
    assert row is not None
    return _out(row)


async def supersede(conn: asyncpg.Connection, ctx: RequestContext, user_id: UUID) -> None:
    """A new set of roles for the user replaces whatever was still waiting for confirmation."""
    for grant_id in await repo.supersede_grants(conn, user_id, ctx.now):
        await record(
            conn,
            ctx,
            Action.ROLE_GRANT_SUPERSEDE,
            target_type="user",
            target_id=user_id,
            details={"grant": str(grant_id)},
        )


async def pending(conn: asyncpg.Connection) -> list[RoleGrantOut]:
    return [_out(row) for row in await repo.pending_grants(conn)]


async def confirm(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, grant_id: UUID, code: str
) -> GrantConfirmed:
    me = ctx.me
    row = await repo.grant(conn, grant_id)
    if row is None:
        raise NotFound("No such role grant.")
    if row["user_id"] == me.id:
        raise Forbidden("You cannot confirm a grant of roles to yourself; another must.")
    if row["proposed_by"] == me.id:
        raise Forbidden("You proposed this grant: another person must confirm it.")
    if row["status"] != "pending":
        raise Conflict(f"This grant is {row['status']}, no longer waiting for confirmation.")
    await check_code(conn, runtime, ctx, me.id, code, Action.ROLE_GRANT_CONFIRM)
    user_id = await repo.confirm_grant(conn, grant_id, me.id, ctx.now)
    if user_id is None:
        raise Conflict("This grant was decided by another request first.")
    user = await repo.get(conn, user_id)
    assert user is not None
    roles = sorted(set(user["roles"]) | set(row["roles"]))
    rules.check_roles(runtime, roles)
    await repo.set_roles(conn, user_id, roles, ctx.now)
    gate = await repo.enrollment_gate(conn, user_id)
    enrollment = None
    if gate is not None or not user["mfa_vouched"]:
        if user["mfa_enrolled"] and not user["mfa_vouched"]:
            # Enrolled with a password an administrator knew: whoever holds that authenticator
            # may not be the person confirmed. They enroll again, with the code handed over.
            await repo.reset_mfa(conn, user_id, ctx.now)
            await auth_repo.revoke_user_sessions(conn, user_id, ctx.now)
        enrollment = await rules.issue_enrollment_code(
            conn, runtime, ctx, user_id, gate["reason"] if gate is not None else "role_grant"
        )
    await record(
        conn,
        ctx,
        Action.ROLE_GRANT_CONFIRM,
        target_type="user",
        target_id=user_id,
        details={"grant": str(grant_id), "roles": list(row["roles"]), "enrollment_code_issued": enrollment is not None},
    )
    confirmed = await repo.grant(conn, grant_id)
    assert confirmed is not None
    return GrantConfirmed(grant=_out(confirmed), user=await rules.get(conn, user_id), enrollment=enrollment)

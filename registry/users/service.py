"""Account administration: create, change roles, disable, unlock, reset a password or MFA.

Administrators manage accounts but hold no right to read personas (IT staff are not cleared
for identities); an administrator cannot disable themselves or drop their own administrator
role, so the department cannot lock itself out by accident.

Nothing an administrator does alone reaches an identity:
- a password they set (a new account, a reset) is temporary: it signs in only to be replaced
  by the user's own (registry.auth.service.change_password);
- a role that reads identities is only proposed: a second person (the policy's
  `security.confirms_accounts`) confirms it with a fresh code (registry.users.grants);
- an authenticator reset, or the first enrollment of an account created with such a role,
  puts a gate in front of enrollment: the password alone cannot enroll until a second person
  confirms with their own code and hands the user a one-time enrollment code.
Only `registry user add` at the console (bootstrap) and the demo make accounts directly."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import msgspec

from registry.audit.actions import Action
from registry.audit.service import record
from registry.auth import repo as auth_repo
from registry.auth.passwords import check_new_password
from registry.auth.service import check_code
from registry.db.pool import connection, transaction
from registry.errors import Conflict, Forbidden, NotFound
from registry.runtime import RequestContext, Runtime
from registry.units import service as units
from registry.users import grants, repo, rules
from registry.users.schemas import (
    EnrollmentCode,
    OwnEmail,
    PasswordReset,
    RoleGrantOut,
    UserCreate,
    UserOut,
    UserPatch,
)


def administers(ctx: RequestContext, user_id: UUID) -> bool:
    """Whether the caller may take a risky step (disable, unlock, reset, change roles) on this
    account: never on their own, so no administrator can quietly undo a lock or a reset of
    theirs, or lock the department out by accident."""
    return ctx.user is None or ctx.user.id != user_id


def _not_own(ctx: RequestContext, user_id: UUID, message: str) -> None:
    if not administers(ctx, user_id):
        raise Forbidden(message)


def _why(reason: str | None) -> dict[str, str]:
    return {"reason": reason} if reason else {}


async def create(
    runtime: Runtime,
    ctx: RequestContext,
    data: UserCreate,
    *,
    by_console: bool = False,
    held: asyncpg.Connection | None = None,
) -> tuple[UserOut, RoleGrantOut | None]:
    """Check and hash the password with no connection held, then write the account; or, given
    the connection the caller already holds (`held`, a page's), write it there, never waiting
    for a second. Roles that read identities are proposed, not granted (unless at the console):
    the grant is returned."""
    password_hash = await hash_new_password(runtime, data)
    async with _writing(runtime, held) as conn:
        return await insert(conn, runtime, ctx, data, password_hash, by_console=by_console)


@contextlib.asynccontextmanager
async def _writing(runtime: Runtime, held: asyncpg.Connection | None) -> AsyncIterator[asyncpg.Connection]:
    """The connection a write that follows a password hash goes to, in a transaction: the
    caller's (a savepoint in the caller's transaction), else one borrowed now, once the hash is
    done."""
    if held is not None:
        async with held.transaction():
            yield held
        return
    async with transaction(runtime) as conn:
        yield conn


async def hash_new_password(runtime: Runtime, data: UserCreate) -> str:
    rules.check_roles(runtime, list(data.roles))
    check_new_password(data.password, username=data.username, display_name=data.display_name)
    return await runtime.hasher.hash(data.password)


async def insert(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    data: UserCreate,
    password_hash: str,
    *,
    by_console: bool = False,
) -> tuple[UserOut, RoleGrantOut | None]:
    roles: list[str] = sorted(set(data.roles))
    proposed = [] if by_console else grants.needing_confirmation(runtime, roles)
    held = [r for r in roles if r not in proposed]
    unit_ids = await units.check_units(conn, data.unit_ids) if data.unit_ids else []
    user_id = await repo.insert(
        conn, data.username, data.display_name, held, password_hash, ctx.now, data.email, temporary=not by_console
    )
    if user_id is None:
        raise Conflict(f"The username {data.username!r} is taken; choose another.", field="username")
    await record(
        conn,
        ctx,
        Action.USER_CREATE,
        target_type="user",
        target_id=user_id,
        details={
            "username": data.username,
            "roles": held,
            "proposed": proposed,
            "temporary_password": not by_console,
            "unit_ids": [str(u) for u in unit_ids],
        },
    )
    if unit_ids:
        await units.set_user_units(conn, ctx, user_id, unit_ids)
    grant = None
    if proposed:
        # Whoever the administrator made this account for enrolls with a code the confirmer
        # hands over in person; the administrator, who knows the password, cannot enroll it.
        await repo.close_enrollment(conn, user_id, "new_account", ctx.user.id if ctx.user else None, ctx.now)
        grant = await grants.propose(conn, ctx, user_id, proposed)
    return await rules.get(conn, user_id), grant


async def get(conn: asyncpg.Connection, user_id: UUID) -> UserOut:
    return await rules.get(conn, user_id)


async def list_users(conn: asyncpg.Connection) -> list[UserOut]:
    return [rules.out(row) for row in await repo.list_all(conn)]


async def update(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user_id: UUID, patch: UserPatch
) -> tuple[UserOut, RoleGrantOut | None]:
    """Roles given replace the user's: those removed go at once, any that read identities and
    are new are proposed (a grant for a second person), and earlier proposals are superseded."""
    if patch.active is not None:
        _not_own(ctx, user_id, "You cannot disable or enable your own account; ask another administrator.")
    if patch.roles is not None:
        _not_own(ctx, user_id, "You cannot change your own roles; ask another administrator.")
    current = await repo.get(conn, user_id)
    if current is None:
        raise NotFound("No such user.")
    held: list[str] | None = None
    proposed: list[str] = []
    if patch.roles is not None:
        rules.check_roles(runtime, list(patch.roles))
        wanted = sorted(set(patch.roles))
        proposed = [r for r in grants.needing_confirmation(runtime, wanted) if r not in current["roles"]]
        held = [r for r in wanted if r not in proposed]
        await grants.supersede(conn, ctx, user_id)
    await repo.update(conn, user_id, held, patch.active, patch.display_name, ctx.now, patch.email)
    if patch.active is False:
        # A disabled account's sessions die now, not at their timeout.
        await auth_repo.revoke_user_sessions(conn, user_id, ctx.now)
    details = msgspec.to_builtins(patch) | ({"roles": held, "proposed": proposed} if held is not None else {})
    await record(conn, ctx, Action.USER_UPDATE, target_type="user", target_id=user_id, details=details)
    grant = await grants.propose(conn, ctx, user_id, proposed) if proposed else None
    return await rules.get(conn, user_id), grant


async def set_units(conn: asyncpg.Connection, ctx: RequestContext, user_id: UUID, unit_ids: list[UUID]) -> UserOut:
    """Replace the units a user belongs to."""
    await units.set_user_units(conn, ctx, user_id, unit_ids)
    return await rules.get(conn, user_id)


async def unlock(conn: asyncpg.Connection, ctx: RequestContext, user_id: UUID, reason: str | None = None) -> UserOut:
    _not_own(ctx, user_id, "You cannot unlock your own account; ask another administrator.")
    if not await repo.unlock(conn, user_id, ctx.now):
        raise NotFound("No such user.")
    await record(conn, ctx, Action.USER_UNLOCK, target_type="user", target_id=user_id, details=_why(reason))
    return await rules.get(conn, user_id)


async def reset_password(
    runtime: Runtime,
    ctx: RequestContext,
    user_id: UUID,
    data: PasswordReset,
    *,
    held: asyncpg.Connection | None = None,
) -> UserOut:
    """A temporary password for a user who forgot theirs: it signs in once, to be replaced. The
    authenticator stays, so knowing the password gives the administrator nothing. Hashed with no
    connection held, or on the caller's (`held`, as `create`)."""
    _not_own(ctx, user_id, "Change your own password with POST /api/me/password (your current one and a code).")
    if held is None:
        async with connection(runtime) as conn:
            user = await rules.get(conn, user_id)
    else:
        user = await rules.get(held, user_id)
    check_new_password(data.password, username=user.username, display_name=user.display_name)
    password_hash = await runtime.hasher.hash(data.password)
    async with _writing(runtime, held) as conn:
        await auth_repo.set_password(conn, user_id, password_hash, ctx.now, change_required=True)
        await auth_repo.revoke_user_sessions(conn, user_id, ctx.now)
        await record(
            conn, ctx, Action.USER_RESET_PASSWORD, target_type="user", target_id=user_id, details=_why(data.reason)
        )
        return await rules.get(conn, user_id)


async def reset_mfa(conn: asyncpg.Connection, ctx: RequestContext, user_id: UUID, reason: str | None = None) -> UserOut:
    """Forget the authenticator (lost or stolen: it stops working now) and its recovery codes.
    The user enrolls again only once a second person has confirmed (confirm_mfa_reset)."""
    _not_own(ctx, user_id, "You cannot reset your own authenticator; ask another administrator.")
    if not await repo.reset_mfa(conn, user_id, ctx.now):
        raise NotFound("No such user.")
    await auth_repo.revoke_user_sessions(conn, user_id, ctx.now)
    await repo.close_enrollment(conn, user_id, "mfa_reset", ctx.user.id if ctx.user else None, ctx.now)
    await record(conn, ctx, Action.USER_RESET_MFA, target_type="user", target_id=user_id, details=_why(reason))
    return await rules.get(conn, user_id)


async def confirm_mfa_reset(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user_id: UUID, code: str
) -> EnrollmentCode:
    """The second person confirms an authenticator reset with their own fresh code, and gets the
    one-time enrollment code to hand to the user. Never for themselves, never their own request."""
    me = ctx.me
    gate = await repo.enrollment_gate(conn, user_id)
    if gate is None:
        raise NotFound("This user has no authenticator reset waiting for confirmation.")
    if me.id == user_id:
        raise Forbidden("You cannot confirm a reset of your own authenticator; another must.")
    if gate["requested_by"] == me.id:
        raise Forbidden("You asked for this reset: another person must confirm it.")
    await check_code(conn, runtime, ctx, me.id, code, Action.USER_RESET_MFA_CONFIRM)
    issued = await rules.issue_enrollment_code(conn, runtime, ctx, user_id, gate["reason"])
    await record(
        conn,
        ctx,
        Action.USER_RESET_MFA_CONFIRM,
        target_type="user",
        target_id=user_id,
        details={"reason": gate["reason"]},
    )
    return issued


async def own_email(conn: asyncpg.Connection, ctx: RequestContext) -> OwnEmail:
    return OwnEmail(email=await repo.own_email(conn, ctx.me.id))


async def set_own_email(conn: asyncpg.Connection, ctx: RequestContext, data: OwnEmail) -> OwnEmail:
    """The signed-in user's own address for reminders and notices (codenames only ever go there)."""
    await repo.set_email(conn, ctx.me.id, data.email, ctx.now)
    # The audit says that it changed, not the address.
    details = {"set": data.email is not None}
    await record(conn, ctx, Action.USER_OWN_EMAIL, target_type="user", target_id=ctx.me.id, details=details)
    return data

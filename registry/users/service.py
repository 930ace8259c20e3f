"""Account administration: create, change roles, disable, unlock, reset MFA.

Administrators manage accounts but hold no right to read personas (IT staff are not cleared
for identities); an administrator cannot disable themselves or drop their own administrator
role, so the department cannot lock itself out by accident."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from registry.audit.service import record
from registry.auth.passwords import check_new_password
from registry.auth.repo import revoke_user_sessions
from registry.db.pool import transaction
from registry.errors import Conflict, Forbidden, Invalid, NotFound
from registry.permissions import Permission
from registry.runtime import RequestContext, Runtime
from registry.users import repo
from registry.users.schemas import UserCreate, UserOut, UserPatch


def _out(row: asyncpg.Record) -> UserOut:
    return UserOut(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        roles=list(row["roles"]),
        active=row["active"],
        locked=row["locked_at"] is not None,
        mfa_enrolled=row["mfa_enrolled"],
        created_at=row["created_at"],
        email=row["email"],
    )


async def create(runtime: Runtime, ctx: RequestContext, data: UserCreate) -> UserOut:
    """Check and hash the password with no connection held, then write the account."""
    password_hash = await hash_new_password(runtime, data)
    async with transaction(runtime) as conn:
        return await insert(conn, ctx, data, password_hash)


async def hash_new_password(runtime: Runtime, data: UserCreate) -> str:
    check_roles(runtime, list(data.roles))
    check_new_password(data.password, username=data.username, display_name=data.display_name)
    return await runtime.hasher.hash(data.password)


async def insert(conn: asyncpg.Connection, ctx: RequestContext, data: UserCreate, password_hash: str) -> UserOut:
    roles: list[str] = sorted(set(data.roles))
    row = await repo.insert(conn, data.username, data.display_name, roles, password_hash, ctx.now, data.email)
    if row is None:
        raise Conflict(f"The username {data.username!r} is taken; choose another.", field="username")
    await record(
        conn,
        ctx,
        "user.create",
        target_type="user",
        target_id=row["id"],
        details={"username": data.username, "roles": roles},
    )
    return _out(row)


async def list_users(conn: asyncpg.Connection) -> list[UserOut]:
    return [_out(row) for row in await repo.list_all(conn)]


def check_roles(runtime: Runtime, roles: list[str]) -> None:
    """IT staff are not cleared for identities: an administrator account holds no role that
    reads personas (DESIGN: roles)."""
    if "administrator" not in roles:
        return
    cleared = [r for r in roles if Permission.PERSONA_READ in runtime.permissions.for_roles([r])]
    if cleared:
        raise Invalid(
            f"An administrator account cannot also be {', '.join(cleared)}: administrators are not cleared to "
            "read personas. Use a separate account.",
            field="roles",
        )


async def update(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user_id: UUID, patch: UserPatch
) -> UserOut:
    if ctx.user is not None and ctx.user.id == user_id:
        if patch.active is False:
            raise Forbidden("You cannot disable your own account; ask another administrator.")
        if patch.roles is not None:
            raise Forbidden("You cannot change your own roles; ask another administrator.")
    if patch.roles is not None:
        check_roles(runtime, list(patch.roles))
    roles: list[str] | None = sorted(set(patch.roles)) if patch.roles is not None else None
    row = await repo.update(conn, user_id, roles, patch.active, patch.display_name, ctx.now, patch.email)
    if row is None:
        raise NotFound("No such user.")
    if patch.active is False:
        # A disabled account's sessions die now, not at their timeout.
        await revoke_user_sessions(conn, user_id, ctx.now)
    await record(conn, ctx, "user.update", target_type="user", target_id=user_id, details=msgspec.to_builtins(patch))
    return _out(row)


async def unlock(conn: asyncpg.Connection, ctx: RequestContext, user_id: UUID) -> UserOut:
    row = await repo.unlock(conn, user_id, ctx.now)
    if row is None:
        raise NotFound("No such user.")
    await record(conn, ctx, "user.unlock", target_type="user", target_id=user_id)
    return _out(row)


async def reset_mfa(conn: asyncpg.Connection, ctx: RequestContext, user_id: UUID) -> UserOut:
    row = await repo.reset_mfa(conn, user_id, ctx.now)
    if row is None:
        raise NotFound("No such user.")
    await revoke_user_sessions(conn, user_id, ctx.now)
    await record(conn, ctx, "user.reset_mfa", target_type="user", target_id=user_id)
    return _out(row)

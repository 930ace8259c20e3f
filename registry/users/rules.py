"""What the account services share: an account as the API shows it, the rule that keeps
administrators apart from identities, and the one-time enrollment code a second person issues."""

from __future__ import annotations

import secrets
from datetime import timedelta
from uuid import UUID

import asyncpg

from registry.auth.service import enrollment_code_digest
from registry.errors import Invalid, NotFound
from registry.permissions import Permission
from registry.runtime import RequestContext, Runtime
from registry.users import repo
from registry.users.schemas import EnrollmentCode, UserOut


def out(row: asyncpg.Record) -> UserOut:
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
        password_change_required=row["password_change_required"],
        pending_roles=list(row["pending_roles"]),
        enrollment_gate=row["enrollment_gate"],
        unit_ids=list(row["unit_ids"]),
    )


async def get(conn: asyncpg.Connection, user_id: UUID) -> UserOut:
    row = await repo.get(conn, user_id)
    if row is None:
        raise NotFound("No such user.")
    return out(row)


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


async def issue_enrollment_code(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user_id: UUID, reason: str
) -> EnrollmentCode:
    """A new one-time enrollment code for the user, kept as a keyed digest, shown this once."""
    user = await get(conn, user_id)
    code = _enrollment_code()
    expires_at = ctx.now + timedelta(hours=runtime.policy.security.enrollment_code_hours)
    digest = enrollment_code_digest(runtime, user_id, code)
    await repo.issue_enrollment_code(conn, user_id, reason, ctx.me.id, ctx.now, digest, expires_at)
    return EnrollmentCode(user_id=user_id, username=user.username, enrollment_code=code, expires_at=expires_at)


def _enrollment_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes; read aloud or written down
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))

"""Sign-in rules: password, lockout, TOTP (enrollment, verification, replay), recovery codes.

Every failure answers the same way whatever its cause (no account enumeration), is counted
towards the lockout and is audited in a transaction of its own, so no rollback erases it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from registry.audit.service import record, record_failure
from registry.auth import repo, sessions, totp
from registry.auth.schemas import EnrollOut
from registry.db.pool import transaction
from registry.errors import Conflict, NotAuthenticated
from registry.runtime import CurrentUser, RequestContext, Runtime

# One answer for every failed password sign-in: unknown user, wrong password, locked or
# disabled account. Saying which would tell a stranger which usernames exist.
LOGIN_FAILED = (
    "Sign-in failed: the username or password is wrong, or the account is locked or disabled. "
    "After repeated failures an account is locked; an administrator can release it."
)
CODE_FAILED = (
    "That code was not accepted. Codes change every 30 seconds and each one works only once: "
    "wait for the next code and try again."
)
RECOVERY_FAILED = "That recovery code was not accepted. Each recovery code works only once."
RECOVERY_CODES = 10


def lock_lifted_before(runtime: Runtime, now: datetime) -> datetime | None:
    """Locks placed before this moment have lifted by themselves (None: never)."""
    minutes = runtime.policy.security.lockout_minutes
    return now - timedelta(minutes=minutes) if minutes else None


def is_locked(runtime: Runtime, locked_at: datetime | None, now: datetime) -> bool:
    if locked_at is None:
        return False
    lifted_before = lock_lifted_before(runtime, now)
    return lifted_before is None or locked_at > lifted_before


def count_failure(runtime: Runtime, ctx: RequestContext, user_id: UUID, action: str, reason: str) -> None:
    """One more consecutive failure: counted, possibly locking, audited. Deferred to a
    transaction of its own (see RequestContext.deferred), so the request's rollback keeps it."""

    async def write(conn: asyncpg.Connection) -> None:
        row = await repo.record_failed_attempt(
            conn,
            user_id,
            ctx.now,
            lock_lifted_before(runtime, ctx.now),
            runtime.policy.security.lockout_threshold,
        )
        details = {"reason": reason, "consecutive_failures": row["failed_attempts"]}
        await record(conn, ctx, action, target_type="user", target_id=user_id, outcome="failure", details=details)
        if row["newly_locked"]:
            await repo.revoke_user_sessions(conn, user_id, ctx.now)
            await record(
                conn,
                ctx,
                "auth.account.locked",
                target_type="user",
                target_id=user_id,
                details={"consecutive_failures": row["failed_attempts"]},
            )

    ctx.defer(write)


async def login(runtime: Runtime, ctx: RequestContext, username: str, password: str) -> tuple[str, str]:
    """Check the password; on success return a new password-stage session token and what
    the MFA step is ('verify' or 'enroll').

    No connection is held while argon2 runs (a hash may queue behind others): the account is
    read, the connection released, the hash checked, and only then is the one transaction of
    the request opened."""
    async with runtime.db_pool().acquire() as conn:
        user = await repo.user_for_login(conn, username.strip().lower())
    ok = await runtime.hasher.verify(user["password_hash"] if user else None, password)
    if user is None:
        record_failure(ctx, "auth.login", details={"reason": "unknown username"})
        raise NotAuthenticated(LOGIN_FAILED)
    if not ok or not user["active"] or is_locked(runtime, user["locked_at"], ctx.now):
        reason = "wrong password" if not ok else ("account disabled" if not user["active"] else "account locked")
        count_failure(runtime, ctx, user["id"], "auth.login", reason)
        raise NotAuthenticated(LOGIN_FAILED)

    new_hash = await runtime.hasher.hash(password) if runtime.hasher.needs_rehash(user["password_hash"]) else None
    async with transaction(runtime) as conn:
        # Signing in again from a browser that holds a session ends that session.
        await logout(conn, ctx)
        if new_hash is not None:
            await repo.update_password_hash(conn, user["id"], new_hash)
        token = await sessions.start(conn, runtime, user["id"], "password", ctx.now, ctx.ip)
        mfa = "verify" if user["enrolled"] else "enroll"
        await record(conn, ctx, "auth.login.password", target_type="user", target_id=user["id"], details={"mfa": mfa})
    return token, mfa


async def check_code(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user_id: UUID, code: str, action: str
) -> None:
    """Accept a TOTP code from the user's enrolled authenticator, once. Used at sign-in and by
    every approval or authorization, which carries a fresh code in the same request."""
    row = await repo.user_mfa(conn, user_id)
    step = None
    if row["totp_secret"] is not None:
        secret = runtime.keyring.decrypt(bytes(row["totp_secret"]), f"users.totp_secret:{user_id}")
        step = totp.matching_step(secret, code, ctx.now)
    if step is None or not await repo.consume_totp_step(conn, user_id, step):
        reason = (
            "no authenticator enrolled"
            if row["totp_secret"] is None
            else ("wrong code" if step is None else "code already used")
        )
        count_failure(runtime, ctx, user_id, action, reason)
        raise NotAuthenticated(CODE_FAILED, field="code")


async def _promote(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user: CurrentUser, how: str) -> str:
    """Replace the password-stage session with a full one under a new token."""
    await repo.revoke_session(conn, user.session, ctx.now)
    await repo.record_success(conn, user.id, ctx.now)
    token = await sessions.start(conn, runtime, user.id, "full", ctx.now, ctx.ip)
    await record(conn, ctx, "auth.login.mfa", target_type="user", target_id=user.id, details={"method": how})
    return token


async def verify_mfa(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user: CurrentUser, code: str
) -> str:
    await check_code(conn, runtime, ctx, user.id, code, "auth.mfa")
    return await _promote(conn, runtime, ctx, user, "totp")


async def begin_enrollment(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user: CurrentUser
) -> EnrollOut:
    row = await repo.user_mfa(conn, user.id)
    if row["totp_secret"] is not None:
        raise Conflict(
            "An authenticator is already enrolled; sign in with its code, or ask an "
            "administrator to reset MFA if it is lost."
        )
    secret = totp.new_secret()
    encrypted = runtime.keyring.encrypt(secret, f"users.totp_pending:{user.id}")
    await repo.set_pending_totp(conn, user.id, encrypted, ctx.now)
    await record(conn, ctx, "auth.mfa.enroll.start", target_type="user", target_id=user.id)
    uri = totp.provisioning_uri(secret, user.username)
    return EnrollOut(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


async def confirm_enrollment(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user: CurrentUser, code: str
) -> tuple[str, list[str]]:
    row = await repo.user_mfa(conn, user.id)
    if row["totp_secret"] is not None or row["totp_pending"] is None:
        raise Conflict("There is no enrollment to confirm: start it with POST /api/auth/mfa/enroll.")
    secret = runtime.keyring.decrypt(bytes(row["totp_pending"]), f"users.totp_pending:{user.id}")
    step = totp.matching_step(secret, code, ctx.now)
    if step is None:
        count_failure(runtime, ctx, user.id, "auth.mfa.enroll.confirm", "wrong code")
        raise NotAuthenticated(CODE_FAILED, field="code")
    sealed = runtime.keyring.encrypt(secret, f"users.totp_secret:{user.id}")
    if not await repo.confirm_totp(conn, user.id, sealed, step, ctx.now):
        raise Conflict("This enrollment was already confirmed.")
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    await repo.replace_recovery_codes(conn, user.id, [runtime.keyring.digest(_normal(c)) for c in codes])
    await record(conn, ctx, "auth.mfa.enroll.confirm", target_type="user", target_id=user.id)
    return await _promote(conn, runtime, ctx, user, "enrollment"), codes


async def use_recovery_code(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user: CurrentUser, code: str
) -> str:
    if not await repo.use_recovery_code(conn, user.id, runtime.keyring.digest(_normal(code)), ctx.now):
        count_failure(runtime, ctx, user.id, "auth.recovery", "wrong or used recovery code")
        raise NotAuthenticated(RECOVERY_FAILED, field="code")
    return await _promote(conn, runtime, ctx, user, "recovery_code")


async def logout(conn: asyncpg.Connection, ctx: RequestContext) -> None:
    if ctx.user is not None:
        await repo.revoke_session(conn, ctx.user.session, ctx.now)
        await record(conn, ctx, "auth.logout", target_type="user", target_id=ctx.user.id)


def _recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _normal(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")

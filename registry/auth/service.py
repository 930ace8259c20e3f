"""Sign-in rules: password, lockout, TOTP (enrollment, verification, replay), recovery codes.

Every failure answers the same way whatever its cause (no account enumeration), is counted
towards the lockout and is audited in a transaction of its own, so no rollback erases it.

Lockout holds against guesses sent all at once: before a password or code is checked, the
attempt is reserved (counted as a failure) in a transaction of its own that commits at once,
and a locked account, or one whose attempts are all taken, is refused without a check. So at
most `lockout_threshold` guesses are ever checked before the account locks. A success gives its
attempt back (a full sign-in starts the count afresh).

Reservations use a small pool of their own (`Runtime.security_pool`): a code is checked inside
the request's transaction, which already holds a main-pool connection, and must not wait for a
second one. A reservation holds nothing of the main pool and comes before the request's
transaction touches the user's row, so neither pool waits on the other in a cycle.

A lock stops new sign-ins (and codes); it does not end sessions that already passed MFA, or a
stranger's five wrong passwords would sign the user out of work. Password attempts are also
counted per client address (policy [security] address_attempt_limit), so one address cannot
lock every account in turn.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from registry.audit.actions import Action
from registry.audit.service import record, record_failure
from registry.auth import repo, sessions, totp
from registry.auth.passwords import check_new_password
from registry.auth.schemas import EnrollOut
from registry.db.pool import transaction
from registry.errors import (
    CodeNotAccepted,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotAuthenticated,
    TooManyAttempts,
)
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
ADDRESS_LIMITED = (
    "Too many failed sign-ins from your network address: try again in {minutes} minutes, or ask "
    "an administrator if this keeps happening."
)
AWAITING_SECOND_PERSON = (
    "Your authenticator cannot be enrolled yet: a {role} must first confirm it. They will give "
    "you a one-time enrollment code."
)
ENROLLMENT_CODE_FAILED = (
    "The enrollment code was not accepted. Use the one-time code the person who confirmed your "
    "enrollment gave you; if it has expired, ask an administrator to start again."
)
PASSWORD_FAILED = "Your current password was not accepted."  # noqa: S105 - a message
RECOVERY_CODES = 10


def lock_lifted_before(runtime: Runtime, now: datetime) -> datetime | None:
    """Locks placed before this moment have lifted by themselves (None: never)."""
    minutes = runtime.policy.security.lockout_minutes
    return now - timedelta(minutes=minutes) if minutes else None


@dataclass(frozen=True)
class Attempt:
    """A reservation: whether the password or code may be checked, and the consecutive
    failures counted (this attempt's own included when reserved)."""

    reserved: bool
    failures: int


def _security_pool(runtime: Runtime) -> asyncpg.Pool:
    if runtime.security_pool is None:
        raise RuntimeError("the security pool is not open (outside the app's lifespan)")
    return runtime.security_pool


async def _lock_consequences(conn: asyncpg.Connection, ctx: RequestContext, user_id: UUID, failures: int) -> None:
    """An account has just locked: sign-ins still owing their code end (sessions that passed
    MFA stay, see the module's docstring), and the lock is audited."""
    await repo.revoke_partial_sessions(conn, user_id, ctx.now)
    await record(
        conn,
        ctx,
        Action.AUTH_ACCOUNT_LOCKED,
        target_type="user",
        target_id=user_id,
        details={"consecutive_failures": failures},
    )


async def reserve_attempt(runtime: Runtime, ctx: RequestContext, user_id: UUID) -> Attempt:
    """Take one of the user's attempts before checking a password or code, committed at once
    (on the security pool; see the module's docstring). Refused if the account is locked or its
    attempts are all taken; an account that locks here has its sessions ended at once."""
    async with _security_pool(runtime).acquire() as conn, conn.transaction():
        row = await repo.reserve_attempt(
            conn,
            user_id,
            ctx.now,
            lock_lifted_before(runtime, ctx.now),
            runtime.policy.security.lockout_threshold,
        )
        if row is None:
            return Attempt(reserved=False, failures=0)
        if row["newly_locked"]:
            await _lock_consequences(conn, ctx, user_id, row["failed_attempts"])
    return Attempt(reserved=row["reserved"], failures=row["failed_attempts"])


def count_failure(
    runtime: Runtime, ctx: RequestContext, user_id: UUID, action: Action, reason: str, attempt: Attempt
) -> None:
    """A failed attempt, already counted by its reservation (or refused: "account locked"):
    audited and, if the count has reached the threshold, the account locks. Deferred to a
    transaction of its own (see RequestContext.deferred), so the request's rollback keeps it."""

    async def write(conn: asyncpg.Connection) -> None:
        details = {"reason": reason, "consecutive_failures": attempt.failures}
        await record(conn, ctx, action, target_type="user", target_id=user_id, outcome="failure", details=details)
        if attempt.reserved:
            threshold = runtime.policy.security.lockout_threshold
            failures = await repo.lock_if_exhausted(conn, user_id, ctx.now, threshold)
            if failures is not None:
                await _lock_consequences(conn, ctx, user_id, failures)

    ctx.defer(write)


def _give_back_later(ctx: RequestContext, user_id: UUID) -> None:
    """A reserved code was right: give its attempt back once the request's transaction is over,
    whether it committed or not (a later refusal does not make the code a failed guess)."""

    async def write(conn: asyncpg.Connection) -> None:
        await repo.release_attempt(conn, user_id, ctx.now)

    ctx.defer(write)


def _start_afresh_later(ctx: RequestContext, user_id: UUID) -> None:
    """A right code from the enrolled authenticator: the count of consecutive failures starts
    afresh once the request's transaction is over, whether it committed or not."""

    async def write(conn: asyncpg.Connection) -> None:
        await repo.record_success(conn, user_id, ctx.now)

    ctx.defer(write)


async def _reserve_address_attempt(runtime: Runtime, ctx: RequestContext) -> bool:
    """Take one of the client address's failed sign-ins before a password is checked (on the
    security pool, committed at once, like the account's). No address (the console): no limit."""
    if ctx.ip is None:
        return True
    security = runtime.policy.security
    window = timedelta(minutes=security.address_window_minutes)
    async with _security_pool(runtime).acquire() as conn:
        return await repo.reserve_address_attempt(
            conn, ctx.ip, ctx.now, ctx.now - window, security.address_attempt_limit
        )


async def login(runtime: Runtime, ctx: RequestContext, username: str, password: str) -> tuple[str, str]:
    """Check the password; on success return a new password-stage session token and what
    the MFA step is ('verify' or 'enroll').

    No connection is held while argon2 runs (a hash may queue behind others): the account is
    read, the attempt reserved, the connections released, the hash checked, and only then is
    the one transaction of the request opened."""
    if not await _reserve_address_attempt(runtime, ctx):
        # Refused unchecked, and without touching the account: an address that has used its
        # attempts can lock no one.
        record_failure(ctx, Action.AUTH_LOGIN, details={"reason": "address limit"})
        minutes = runtime.policy.security.address_window_minutes
        raise TooManyAttempts(ADDRESS_LIMITED.format(minutes=minutes), retry_after=minutes * 60)
    async with runtime.db_pool().acquire() as conn:
        user = await repo.user_for_login(conn, username.strip().lower())
    attempt = await reserve_attempt(runtime, ctx, user["id"]) if user is not None else None
    # A refused attempt is not checked, but it costs a hash all the same (on the dummy, as for
    # an unknown username), so the time taken tells nothing either.
    stored = user["password_hash"] if user is not None and attempt is not None and attempt.reserved else None
    ok = await runtime.hasher.verify(stored, password)
    if user is None or attempt is None:
        record_failure(ctx, Action.AUTH_LOGIN, details={"reason": "unknown username"})
        raise NotAuthenticated(LOGIN_FAILED)
    if not attempt.reserved or not ok or not user["active"]:
        reason = "account locked" if not attempt.reserved else ("wrong password" if not ok else "account disabled")
        count_failure(runtime, ctx, user["id"], Action.AUTH_LOGIN, reason, attempt)
        raise NotAuthenticated(LOGIN_FAILED)

    new_hash = await runtime.hasher.hash(password) if runtime.hasher.needs_rehash(user["password_hash"]) else None
    async with transaction(runtime) as conn:
        # The right password gives its attempt back; the count starts afresh only at a full
        # sign-in (else knowing the password would buy more guesses at the code). The user's
        # row is written before any session row, as a lock does (user, then sessions).
        await repo.release_attempt(conn, user["id"], ctx.now)
        if ctx.ip is not None:
            await repo.release_address_attempt(conn, ctx.ip)
        if new_hash is not None:
            await repo.update_password_hash(conn, user["id"], new_hash)
        # Signing in again from a browser that holds a session ends that session.
        await logout(conn, ctx)
        token = await sessions.start(conn, runtime, user["id"], "password", ctx.now, ctx.ip)
        mfa = "verify" if user["enrolled"] else "enroll"
        await record(
            conn,
            ctx,
            Action.AUTH_LOGIN_PASSWORD,
            target_type="user",
            target_id=user["id"],
            details={"mfa": mfa},
            actor=(user["id"], user["username"]),
        )
    return token, mfa


async def check_code(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user_id: UUID, code: str, action: Action
) -> None:
    """Accept a TOTP code from the user's enrolled authenticator, once, for an approval or
    authorization, which carries a fresh code in the same request. A wrong one is refused as
    "code not accepted" (the session stands, unlike a 401); a right one starts the count of
    consecutive failures afresh."""
    await _check_code(conn, runtime, ctx, user_id, code, action, CodeNotAccepted)
    _start_afresh_later(ctx, user_id)


async def _check_code(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    user_id: UUID,
    code: str,
    action: Action,
    refusal: type[DomainError] = NotAuthenticated,
) -> None:
    # Reserved before the request's transaction touches the user's row (user_mfa is a plain
    # read), so this transaction holds no lock a reservation could wait for.
    attempt = await reserve_attempt(runtime, ctx, user_id)
    if not attempt.reserved:
        count_failure(runtime, ctx, user_id, action, "account locked", attempt)
        raise refusal(CODE_FAILED, field="code")
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
        count_failure(runtime, ctx, user_id, action, reason, attempt)
        raise refusal(CODE_FAILED, field="code")


async def _promote(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user: CurrentUser, how: str) -> str:
    """Replace the password-stage session with a full one under a new token."""
    await repo.revoke_session(conn, user.session, ctx.now)
    await repo.record_success(conn, user.id, ctx.now)
    token = await sessions.start(conn, runtime, user.id, "full", ctx.now, ctx.ip)
    await record(conn, ctx, Action.AUTH_LOGIN_MFA, target_type="user", target_id=user.id, details={"method": how})
    return token


async def verify_mfa(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user: CurrentUser, code: str
) -> str:
    await _check_code(conn, runtime, ctx, user.id, code, Action.AUTH_MFA)
    return await _promote(conn, runtime, ctx, user, "totp")


async def _gate(conn: asyncpg.Connection, runtime: Runtime, user_id: UUID) -> asyncpg.Record | None:
    """The enrollment gate (see migration 0008), refusing an enrollment still waiting for its
    second person: the password alone never enrolls an authenticator there."""
    gate = await repo.enrollment_gate(conn, user_id)
    if gate is not None and gate["confirmed_at"] is None:
        raise Forbidden(AWAITING_SECOND_PERSON.format(role=runtime.policy.security.confirms_accounts))
    return gate


async def begin_enrollment(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user: CurrentUser
) -> EnrollOut:
    row = await repo.user_mfa(conn, user.id)
    if row["totp_secret"] is not None:
        raise Conflict(
            "An authenticator is already enrolled; sign in with its code, or ask an "
            "administrator to reset MFA if it is lost."
        )
    gate = await _gate(conn, runtime, user.id)
    secret = totp.new_secret()
    encrypted = runtime.keyring.encrypt(secret, f"users.totp_pending:{user.id}")
    await repo.set_pending_totp(conn, user.id, encrypted, ctx.now)
    await record(conn, ctx, Action.AUTH_MFA_ENROLL_START, target_type="user", target_id=user.id)
    uri = totp.provisioning_uri(secret, user.username)
    return EnrollOut(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri), enrollment_code_required=gate is not None)


def enrollment_code_digest(runtime: Runtime, user_id: UUID, code: str) -> bytes:
    return runtime.keyring.digest(f"enrollment:{user_id}:{_normal(code)}")


async def confirm_enrollment(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    user: CurrentUser,
    code: str,
    enrollment_code: str | None = None,
) -> tuple[str, list[str]]:
    row = await repo.user_mfa(conn, user.id)
    if row["totp_secret"] is not None or row["totp_pending"] is None:
        raise Conflict("There is no enrollment to confirm: start it with POST /api/auth/mfa/enroll.")
    gate = await _gate(conn, runtime, user.id)
    attempt = await reserve_attempt(runtime, ctx, user.id)
    if gate is not None and attempt.reserved:
        # The second person's one-time code, within its time: a wrong one is a failed guess.
        given = enrollment_code_digest(runtime, user.id, enrollment_code or "")
        if not hmac.compare_digest(given, bytes(gate["code_hash"])) or gate["expires_at"] <= ctx.now:
            count_failure(runtime, ctx, user.id, Action.AUTH_MFA_ENROLL_CONFIRM, "wrong enrollment code", attempt)
            raise NotAuthenticated(ENROLLMENT_CODE_FAILED, field="enrollment_code")
    secret = runtime.keyring.decrypt(bytes(row["totp_pending"]), f"users.totp_pending:{user.id}")
    step = totp.matching_step(secret, code, ctx.now) if attempt.reserved else None
    if step is None:
        reason = "wrong code" if attempt.reserved else "account locked"
        count_failure(runtime, ctx, user.id, Action.AUTH_MFA_ENROLL_CONFIRM, reason, attempt)
        raise NotAuthenticated(CODE_FAILED, field="code")
    sealed = runtime.keyring.encrypt(secret, f"users.totp_secret:{user.id}")
    # Vouched for when a second person's code came with it (or no gate was ever set: an
    # account made at the console, or one without roles that read identities).
    vouched = gate is not None or await repo.mfa_vouched(conn, user.id)
    if not await repo.confirm_totp(conn, user.id, sealed, step, ctx.now, vouched=vouched):
        _give_back_later(ctx, user.id)  # the code was right; another request confirmed first
        raise Conflict("This enrollment was already confirmed.")
    if gate is not None:
        await repo.open_enrollment_gate(conn, user.id)
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    await repo.replace_recovery_codes(conn, user.id, [runtime.keyring.digest(_normal(c)) for c in codes])
    await record(
        conn,
        ctx,
        Action.AUTH_MFA_ENROLL_CONFIRM,
        target_type="user",
        target_id=user.id,
        details={"enrollment_code": gate is not None, "reason": gate["reason"] if gate else None},
    )
    return await _promote(conn, runtime, ctx, user, "enrollment"), codes


async def change_password(
    runtime: Runtime, ctx: RequestContext, user: CurrentUser, current: str, new: str, code: str
) -> None:
    """A user replaces their own password (a temporary one included) with their current one
    and a fresh code. The hashes run with no connection held; other sessions end."""
    check_new_password(new, username=user.username, display_name=user.display_name)
    if new == current:
        raise Invalid("Choose a new password, not the current one.", field="new_password")
    async with runtime.db_pool().acquire() as conn:
        stored = await repo.password_hash(conn, user.id)
    attempt = await reserve_attempt(runtime, ctx, user.id)
    ok = await runtime.hasher.verify(stored if attempt.reserved else None, current)
    if not attempt.reserved or not ok:
        reason = "wrong password" if attempt.reserved else "account locked"
        count_failure(runtime, ctx, user.id, Action.AUTH_PASSWORD_CHANGE, reason, attempt)
        raise CodeNotAccepted(PASSWORD_FAILED, field="current_password")
    _give_back_later(ctx, user.id)
    new_hash = await runtime.hasher.hash(new)
    async with transaction(runtime) as conn:
        await check_code(conn, runtime, ctx, user.id, code, Action.AUTH_PASSWORD_CHANGE)
        await repo.set_password(conn, user.id, new_hash, ctx.now, change_required=False)
        # Whoever else knew the old password (an administrator who set it) is signed out.
        await repo.revoke_other_sessions(conn, user.id, user.session, ctx.now)
        await record(
            conn,
            ctx,
            Action.AUTH_PASSWORD_CHANGE,
            target_type="user",
            target_id=user.id,
            details={"was_temporary": user.password_change_required},
        )


async def use_recovery_code(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, user: CurrentUser, code: str
) -> str:
    attempt = await reserve_attempt(runtime, ctx, user.id)
    if not attempt.reserved:
        count_failure(runtime, ctx, user.id, Action.AUTH_RECOVERY, "account locked", attempt)
        raise NotAuthenticated(RECOVERY_FAILED, field="code")
    if not await repo.use_recovery_code(conn, user.id, runtime.keyring.digest(_normal(code)), ctx.now):
        count_failure(runtime, ctx, user.id, Action.AUTH_RECOVERY, "wrong or used recovery code", attempt)
        raise NotAuthenticated(RECOVERY_FAILED, field="code")
    return await _promote(conn, runtime, ctx, user, "recovery_code")


async def logout(conn: asyncpg.Connection, ctx: RequestContext) -> None:
    if ctx.user is not None:
        await repo.revoke_session(conn, ctx.user.session, ctx.now)
        await record(conn, ctx, Action.AUTH_LOGOUT, target_type="user", target_id=ctx.user.id)


def _recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _normal(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")

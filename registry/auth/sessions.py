"""Server-side sessions: an opaque random token in a cookie, its keyed digest in PostgreSQL.

A session is created at password sign-in in the 'password' stage (good only for the MFA step,
for a few minutes) and replaced by a new 'full' session, with a new token, once MFA succeeds.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import asyncpg
from litestar.datastructures import Cookie

from registry.auth import repo
from registry.permissions import Permission
from registry.runtime import CurrentUser, Runtime

COOKIE = "registry_session"
# How long the second step of sign-in may take.
PASSWORD_STAGE_MINUTES = 10
# last_seen_at is written at most this often, so reads do not all turn into writes; the idle
# timeout is therefore exact to within this margin.
TOUCH_EVERY = timedelta(seconds=60)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def cookie(runtime: Runtime, token: str) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=token,
        path="/",
        httponly=True,
        secure=runtime.settings.cookie_secure,
        samesite="strict",
        max_age=runtime.policy.security.session_absolute_hours * 3600,
    )


def expired_cookie(runtime: Runtime) -> Cookie:
    return Cookie(
        key=COOKIE,
        value="",
        path="/",
        httponly=True,
        secure=runtime.settings.cookie_secure,
        samesite="strict",
        max_age=0,
    )


async def start(
    conn: asyncpg.Connection, runtime: Runtime, user_id: object, stage: str, now: datetime, ip: str | None
) -> str:
    token = new_token()
    await repo.create_session(conn, runtime.keyring.digest(token), user_id, stage, now, ip)  # type: ignore[arg-type]
    return token


async def authenticate(conn: asyncpg.Connection, runtime: Runtime, token: str, now: datetime) -> CurrentUser | None:
    security = runtime.policy.security
    token_hash = runtime.keyring.digest(token)
    row = await repo.session_user(
        conn,
        token_hash,
        idle_since=now - timedelta(minutes=security.session_idle_minutes),
        created_since=now - timedelta(hours=security.session_absolute_hours),
        partial_since=now - timedelta(minutes=PASSWORD_STAGE_MINUTES),
    )
    if row is None:
        return None
    if now - row["last_seen_at"] >= TOUCH_EVERY:
        await repo.touch_session(conn, token_hash, now)
    roles = tuple(row["roles"])
    change = row["password_change_required"]
    return CurrentUser(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        roles=roles,
        # A temporary password (set by an administrator) buys nothing but replacing it.
        permissions=frozenset({Permission.SELF}) if change else runtime.permissions.for_roles(roles),
        session=token_hash,
        stage=row["stage"],
        password_change_required=change,
    )

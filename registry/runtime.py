"""What a running service holds: configuration, policy, clock, keys, hasher and pool.

Built once by `create_app` and kept on `app.state.runtime`; nothing here is per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from registry.auth.passwords import Hasher
from registry.clock import Clock
from registry.crypto import Keyring
from registry.permissions import Permission, RolePermissions
from registry.policy import Policy
from registry.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    policy: Policy
    clock: Clock
    keyring: Keyring
    hasher: Hasher
    permissions: RolePermissions
    pool: asyncpg.Pool | None = field(default=None)
    # A few connections of their own for reserving sign-in attempts (registry.auth.service):
    # a code is checked inside a request's transaction, which must not wait for the main pool.
    security_pool: asyncpg.Pool | None = field(default=None)

    def db_pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("the database pool is not open (outside the app's lifespan)")
        return self.pool


class CurrentUser(msgspec.Struct, frozen=True):
    id: UUID
    username: str
    display_name: str
    roles: tuple[str, ...]
    permissions: frozenset[Permission]
    # Digest of the session token: identifies the session without holding the token.
    session: bytes
    # 'password' (MFA still owed) or 'full'.
    stage: str
    # Signed in with a temporary password: only replacing it is allowed (registry.auth.service).
    password_change_required: bool = False

    def can(self, permission: Permission) -> bool:
        return self.stage == "full" and permission in self.permissions


Deferred = Callable[[asyncpg.Connection], Awaitable[None]]


class RequestContext(msgspec.Struct, frozen=True):
    """Who is asking, from where, and when: what every audit event and rule needs."""

    now: datetime
    ip: str | None
    request_id: str
    user: CurrentUser | None
    # Writes that must outlive the request's transaction (failed attempts, refusals): run by
    # the session middleware in transactions of their own once the request's transaction has
    # ended, before the answer leaves.
    deferred: list[Deferred] = msgspec.field(default_factory=list)

    def defer(self, action: Deferred) -> None:
        self.deferred.append(action)

    @property
    def me(self) -> CurrentUser:
        """The signed-in caller, on routes whose permission already required one."""
        if self.user is None:  # pragma: no cover - the guard refuses anonymous calls first
            raise RuntimeError("this step needs a signed-in user")
        return self.user


def runtime_of(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


# Each provider below takes the one before it (runtime, then ctx, then the connection or the
# user), so Litestar resolves a handler's dependencies one after another: dependencies that
# are independent of each other it resolves concurrently, in an anyio task group that costs
# about 0.2 ms a request on a loaded 2-core machine, far more than these lookups themselves.


def provide_runtime(request: Request[Any, Any, Any]) -> Runtime:
    return runtime_of(request.app.state)


def provide_ctx(request: Request[Any, Any, Any], runtime: RuntimeDep) -> RequestContext:
    """The request's context (made by the session middleware); after `runtime` (see above)."""
    ctx: RequestContext = request.scope["state"]["ctx"]
    return ctx


def provide_user(ctx: Ctx) -> CurrentUser:
    """The signed-in user; the permission check (registry.auth.guards) has already refused
    requests without one."""
    user = ctx.user
    if user is None:  # pragma: no cover - the permission check runs first
        raise RuntimeError("route needs a user but its permission let an anonymous request through")
    return user


# Handler parameters, injected by name (`runtime: RuntimeDep`, `ctx: Ctx`, `user: Me`).
RuntimeDep = NamedDependency[Runtime]
Ctx = NamedDependency[RequestContext]
Me = NamedDependency[CurrentUser]

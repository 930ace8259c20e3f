"""The app factory: wires domains, middleware, error mapping, lifespan and OpenAPI."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncGenerator
from typing import Any

import asyncpg
from litestar import Litestar, Request, Response, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.routes import HTTPRoute

from registry.accounts.routes import routes as account_routes
from registry.activity.routes import routes as activity_routes
from registry.audit import checkpoint
from registry.audit import service as audit_service
from registry.audit.routes import routes as audit_routes
from registry.auth.guards import permission_of, require_permission
from registry.auth.middleware import SessionMiddleware
from registry.auth.passwords import Hasher
from registry.auth.routes import routes as auth_routes
from registry.clock import Clock, OffsetClock
from registry.crypto import Keyring
from registry.db.pool import (
    CONNECTION_LOST,
    UNAVAILABLE,
    create_pool,
    mark_connection_takers,
    provide_autocommit,
    provide_db,
)
from registry.disclosure.routes import routes as disclosure_routes
from registry.edge import MAX_BODY, EdgeMiddleware
from registry.equipment.routes import routes as equipment_routes
from registry.errors import AuditChainBroken, DomainError
from registry.internal_affairs.routes import routes as internal_affairs_routes
from registry.investigations.routes import routes as investigation_routes
from registry.jobs import run_forever as run_jobs
from registry.keys import service as keys
from registry.lifecycle.routes import routes as lifecycle_routes
from registry.linkage.routes import routes as linkage_routes
from registry.observability import ObservabilityMiddleware, add_response_headers
from registry.openapi import ProblemDocumentPlugin
from registry.ops.routes import routes as ops_routes
from registry.permissions import Permission, RolePermissions
from registry.personas.routes import routes as persona_routes
from registry.platforms.routes import routes as platform_routes
from registry.policy import Policy, load_policy
from registry.reviews.routes import routes as review_routes
from registry.runtime import Runtime, provide_ctx, provide_runtime, provide_user, runtime_of
from registry.settings import Settings
from registry.units.routes import routes as unit_routes
from registry.users.routes import routes as user_routes
from registry.web import render as web
from registry.web.csrf import SessionCSRFMiddleware
from registry.web.routes import routes as web_routes

log = logging.getLogger("registry.app")
PROBLEM = "application/problem+json"
# Connections reserved for sign-in attempt reservations, apart from the main pool.
SECURITY_POOL_MIN, SECURITY_POOL_MAX = 1, 4


def _problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail, **extra}
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return _problem(exc.status, exc.title, exc.detail, headers=exc.headers, **exc.extra)


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    problems = exc.extra if isinstance(exc.extra, list) else []
    messages = [str(p.get("message", "")) for p in problems if isinstance(p, dict)]
    detail = "; ".join(m for m in messages if m) or exc.detail
    return _problem(400, "Invalid request", detail, errors=problems)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    # Keeps what the exception says about itself, such as the `Allow` of a 405.
    return _problem(exc.status_code, exc.__class__.__name__, exc.detail, headers=dict(exc.headers or {}))


def _unstorable_text(_: Request[Any, Any, Any], exc: asyncpg.DataError) -> Response[dict[str, Any]]:
    # PostgreSQL text cannot hold NUL characters (and the like); the transaction rolled back.
    return _problem(400, "Invalid request", "A text field contains a character that cannot be stored (such as NUL).")


def _database_unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # The database is restarting or failing over; trying again shortly works.
    log.warning("database unavailable", extra={"fields": {"error": type(exc).__name__}})
    response = _problem(
        503, "Service unavailable", "The database is unavailable right now; try again in a few seconds."
    )
    response.headers["retry-after"] = "2"
    return response


def _client_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # asyncpg's own errors are bugs, unless the request's connection was lost under it.
    if request.scope["state"].get(CONNECTION_LOST):
        return _database_unavailable(request, exc)
    return _unexpected(request, exc)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"fields": {"request_id": request.scope["state"].get("request_id")}},
    )
    return _problem(500, "Internal error", "Something went wrong on our side; the change was not saved.")


async def _seal_audit_chain(runtime: Runtime) -> None:
    """Give committed audit events their place in the hash chain, continually. A chain whose
    head is gone is tampering, not an outage: said once as an error, and again when a head is
    back and sealing resumes (whether it is the true head, verification tells)."""
    interval = runtime.settings.audit_seal_interval_seconds
    broken = False
    while True:
        try:
            async with runtime.db_pool().acquire() as conn:
                await audit_service.seal(conn)
            if broken:
                log.warning("audit chain head present again; sealing resumed (run `registry audit verify`)")
            broken = False
        except AuditChainBroken:
            if not broken:
                log.error(
                    "audit chain broken: its head record is missing, the log has been tampered with; "
                    "nothing is sealed until it is restored"
                )
            broken = True
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The database may be restarting or failing over: keep trying, loudly.
            log.warning("audit sealing failed; will retry", extra={"fields": {"error": type(exc).__name__}})
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncGenerator[None, None]:
    runtime = runtime_of(app.state)
    settings = runtime.settings
    if settings.database_url is None:
        raise RuntimeError("no database URL: the CLI starts the embedded database before the app")
    runtime.pool = await create_pool(settings.database_url, settings.pool_min_size, settings.pool_max_size)
    try:
        # Reservations of sign-in attempts only (see registry.auth.service): never waits on the main pool.
        runtime.security_pool = await create_pool(settings.database_url, SECURITY_POOL_MIN, SECURITY_POOL_MAX)
        async with runtime.pool.acquire() as conn:
            await keys.open_keyring(conn, runtime.keyring, runtime)
    except BaseException:
        if runtime.security_pool is not None:
            await runtime.security_pool.close()
            runtime.security_pool = None
        await runtime.pool.close()
        runtime.pool = None
        raise
    background = []
    if settings.audit_seal_interval_seconds > 0:
        background.append(asyncio.create_task(_seal_audit_chain(runtime)))
        background.append(asyncio.create_task(keys.follow(runtime)))
    if settings.audit_checkpoint is not None and settings.audit_checkpoint_interval_seconds > 0:
        background.append(asyncio.create_task(checkpoint.run_forever(runtime, settings.audit_checkpoint)))
    if settings.jobs_interval_seconds > 0:
        background.append(asyncio.create_task(run_jobs(runtime)))
    # What startup built (routes, models, templates, pools) lives as long as the process: out of
    # the collector's sight, a full collection walks only what requests allocate.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        # What startup built may be garbage from here on (an app stopped inside a longer-lived
        # process, as in the tests): back in the collector's sight.
        gc.unfreeze()
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runtime.security_pool.close()
        runtime.security_pool = None
        await runtime.pool.close()
        runtime.pool = None
        runtime.hasher.close()


def _check_permissions(app: Litestar) -> None:
    """Deny by default: the service does not start with a route the permission check
    (registry.auth.guards, a `before_request` hook) would not see or could not judge: one
    without a declared permission, one with a `before_request` of its own (which would replace
    the check), one whose answers are cached (served before the hook runs), and any route that
    is not plain HTTP (a websocket or a mounted ASGI app: the hook runs for HTTP only)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            raise RuntimeError(f"route {route.path} is not plain HTTP: no permission check would run")
        for handler in route.route_handlers:
            permission_of(handler)
            if any(layer.before_request is not None for layer in handler.ownership_layers[1:]):
                raise RuntimeError(f"route {handler} has a before_request of its own: no permission check")
            if handler.cache:
                raise RuntimeError(f"route {handler} caches its answers: they would skip the permission check")


def build_runtime(settings: Settings, *, clock: Clock | None = None, policy: Policy | None = None) -> Runtime:
    """Everything the app holds that comes from its settings: apart from the pages' time zone
    (the policy's), an app's routes, middleware and handlers are the same for every settings,
    so the state on `app.state.runtime` is all that differs between two apps of one policy."""
    policy = policy or load_policy(settings.policy_path)
    return Runtime(
        settings=settings,
        policy=policy,
        clock=clock or (OffsetClock(settings.clock_file) if settings.clock_file else Clock()),
        keyring=Keyring(settings.secret_key, settings.previous_secret_keys),
        hasher=Hasher(settings.password_hash, settings.password_hash_concurrency),
        permissions=RolePermissions(policy),
    )


def create_app(settings: Settings, *, clock: Clock | None = None, policy: Policy | None = None) -> Litestar:
    runtime = build_runtime(settings, clock=clock, policy=policy)
    app = Litestar(
        route_handlers=[
            *ops_routes,
            *auth_routes,
            *user_routes,
            *unit_routes,
            *audit_routes,
            *investigation_routes,
            *persona_routes,
            *lifecycle_routes,
            *linkage_routes,
            *internal_affairs_routes,
            *equipment_routes,
            *activity_routes,
            *account_routes,
            *platform_routes,
            *review_routes,
            *disclosure_routes,
            *web_routes,
        ],
        dependencies={
            "db": Provide(provide_db),
            "autocommit": Provide(provide_autocommit),
            "runtime": Provide(provide_runtime, sync_to_thread=False),
            "ctx": Provide(provide_ctx, sync_to_thread=False),
            "user": Provide(provide_user, sync_to_thread=False),
        },
        before_request=require_permission,
        # Browser forms carry a CSRF token bound to the session; the JSON API, feeds and probes
        # are excluded (the API requires application/json bodies instead).
        middleware=[ObservabilityMiddleware(), EdgeMiddleware(), SessionMiddleware(), SessionCSRFMiddleware()],
        before_send=[add_response_headers],
        template_config=web.template_config(runtime.policy.department.time_zone),
        # Problem-details JSON, except that a browser asking for a page gets one (registry.web.render).
        exception_handlers=web.pages_for_browsers(
            {
                DomainError: _domain_error,
                ValidationException: _validation_error,
                HTTPException: _http_error,
                asyncpg.UntranslatableCharacterError: _unstorable_text,
                asyncpg.CharacterNotInRepertoireError: _unstorable_text,
                **dict.fromkeys(UNAVAILABLE, _database_unavailable),
                asyncpg.InterfaceError: _client_error,
                asyncpg.InternalClientError: _client_error,
                Exception: _unexpected,
            }
        ),
        lifespan=[_lifespan],
        openapi_config=OpenAPIConfig(
            title="Persona Registry",
            version="0.1.0",
            # Errors, statuses and content types as the service really answers (registry.openapi).
            render_plugins=[ProblemDocumentPlugin()],
            # Served without a session: the API's shape is public, its data is not. The document
            # describes the API, not itself.
            openapi_router=Router(
                path="/schema",
                route_handlers=[],
                opt={"permission": Permission.PUBLIC, "no_session": True},
                include_in_schema=False,
            ),
        ),
        state=State({"runtime": runtime}),
        request_max_body_size=MAX_BODY,
        debug=False,
        # Logging is ours (JSON, allow-listed fields): Litestar must not install its own.
        logging_config=None,
    )
    _check_permissions(app)
    mark_connection_takers(h for route in app.routes if isinstance(route, HTTPRoute) for h in route.route_handlers)
    return app

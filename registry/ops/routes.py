"""Liveness, readiness and metrics for the people who run the service."""

from __future__ import annotations

import asyncpg
from litestar import Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ControllerRouterHandler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from registry.db.migrate import pending
from registry.errors import ConfigurationError
from registry.observability import REGISTRY
from registry.permissions import Permission
from registry.runtime import RuntimeDep

PUBLIC = {"permission": Permission.PUBLIC}


@get("/healthz", opt=PUBLIC | {"no_session": True})
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", opt=PUBLIC | {"no_session": True})
async def readyz(runtime: RuntimeDep) -> Response[dict[str, object]]:
    try:
        async with runtime.db_pool().acquire(timeout=2) as conn:
            missing = await pending(conn)
    except ConfigurationError as exc:
        return Response({"status": "not ready", "reason": str(exc)}, status_code=HTTP_503_SERVICE_UNAVAILABLE)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return Response(
            {"status": "not ready", "reason": f"database unreachable: {type(exc).__name__}"},
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
        )
    if missing:
        return Response(
            {"status": "not ready", "reason": "migrations pending", "pending": missing},
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Response({"status": "ready"}, status_code=HTTP_200_OK)


@get("/metrics", opt=PUBLIC | {"no_session": True}, include_in_schema=False)
async def metrics() -> Response[bytes]:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


routes: list[ControllerRouterHandler] = [healthz, readyz, metrics]

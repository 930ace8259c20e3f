from __future__ import annotations

import re
from typing import Annotated

import msgspec
from litestar import Router, get
from litestar.params import QueryParameter
from litestar.types import ControllerRouterHandler

from registry.audit import repo, service
from registry.audit.schemas import AuditEvent, AuditPage, VerifyResult
from registry.db.pool import DB
from registry.errors import BadRequest
from registry.permissions import Permission
from registry.runtime import RuntimeDep

READ = {"permission": Permission.AUDIT_READ}


@get("/", opt=READ)
async def list_events(
    db: DB,
    cursor: Annotated[str | None, QueryParameter(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> AuditPage:
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    before = None
    if cursor is not None:
        if not re.fullmatch(r"[0-9]{1,18}", cursor):
            raise BadRequest("cursor must be the next_cursor of a previous page", field="cursor")
        before = int(cursor)
    rows = await repo.page(db, before, limit)
    items = [msgspec.convert(dict(r), AuditEvent) for r in rows]
    next_cursor = str(items[-1].id) if len(items) == limit else None
    return AuditPage(items=items, next_cursor=next_cursor)


@get("/verify", opt=READ)
async def verify(runtime: RuntimeDep) -> VerifyResult:
    """Recompute the whole hash chain; names the first event that does not hold."""
    # Not in a request transaction: verification seals first, then reads one snapshot.
    async with runtime.db_pool().acquire() as conn:
        return await service.verify(conn)


routes: list[ControllerRouterHandler] = [
    Router(path="/api/audit", route_handlers=[list_events, verify], tags=["audit"])
]

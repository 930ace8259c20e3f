from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Router, get
from litestar.params import QueryParameter
from litestar.types import ControllerRouterHandler

from registry.audit import service
from registry.audit.actions import Action
from registry.audit.schemas import AuditPage, VerifyResult
from registry.db.pool import DB
from registry.permissions import Permission
from registry.runtime import RuntimeDep

READ = {"permission": Permission.AUDIT_READ}


@get("/", opt=READ)
async def list_events(
    db: DB,
    cursor: Annotated[str | None, QueryParameter(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    action: Annotated[Action | None, QueryParameter(description="one action, such as persona.approve")] = None,
    actor: Annotated[str | None, QueryParameter(max_length=63, description="the actor's username")] = None,
    codename: Annotated[str | None, QueryParameter(max_length=40, description="events naming this persona")] = None,
    start: Annotated[datetime | None, QueryParameter(name="from")] = None,
    end: Annotated[datetime | None, QueryParameter(name="to")] = None,
) -> AuditPage:
    """Newest first, filtered by action, actor, codename and time; pass `next_cursor` back as
    `cursor` (with the same filters) for the next page."""
    return await service.page(db, cursor, limit, action=action, actor=actor, codename=codename, start=start, end=end)


@get("/verify", opt=READ)
async def verify(runtime: RuntimeDep) -> VerifyResult:
    """Recompute the whole hash chain; names the first event that does not hold."""
    # Not in a request transaction: verification seals first, then reads one snapshot.
    async with runtime.db_pool().acquire() as conn:
        return await service.verify(conn)


routes: list[ControllerRouterHandler] = [
    Router(path="/api/audit", route_handlers=[list_events, verify], tags=["audit"])
]

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Response, Router, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.types import ControllerRouterHandler

from registry.audit import log, service
from registry.audit.actions import Action
from registry.audit.schemas import AuditFilter, AuditPage, VerifyResult
from registry.db.pool import DB
from registry.permissions import Permission
from registry.runtime import Ctx, RuntimeDep

READ = {"permission": Permission.AUDIT_READ}
ActionParam = Annotated[Action | None, QueryParameter(description="one action, such as persona.approve")]
ActorParam = Annotated[str | None, QueryParameter(max_length=63, description="the actor's username")]
CodenameParam = Annotated[str | None, QueryParameter(max_length=40, description="events naming this persona")]
CaseParam = Annotated[
    str | None,
    QueryParameter(max_length=40, description="events naming this case, about it, or about one of its personas"),
]
FromParam = Annotated[datetime | None, QueryParameter(name="from")]
ToParam = Annotated[datetime | None, QueryParameter(name="to")]


def provide_filter(
    action: ActionParam = None,
    actor: ActorParam = None,
    codename: CodenameParam = None,
    case_number: CaseParam = None,
    start: FromParam = None,
    end: ToParam = None,
) -> AuditFilter:
    """The filters both the list and the export take, from the query."""
    return AuditFilter(action=action, actor=actor, codename=codename, case_number=case_number, start=start, end=end)


FILTERED = {"audit_filter": Provide(provide_filter, sync_to_thread=False)}


@get("/", opt=READ, dependencies=FILTERED)
async def list_events(
    db: DB,
    audit_filter: NamedDependency[AuditFilter],
    cursor: Annotated[str | None, QueryParameter(description="next_cursor or prev_cursor of a previous page")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> AuditPage:
    """Newest first, filtered by action, actor, codename, case number and time; pass
    `next_cursor` (older) or `prev_cursor` (newer) back as `cursor`, with the same filters."""
    return await log.page(db, cursor, limit, audit_filter)


@get("/export", opt=READ, dependencies=FILTERED)
async def export_events(
    db: DB, runtime: RuntimeDep, ctx: Ctx, audit_filter: NamedDependency[AuditFilter]
) -> Response[str]:
    """The whole filtered view (the filters of `GET /api/audit`) as CSV for inspectors, newest
    first, times in the department's zone; codenames and usernames only. The export is audited."""
    return csv_answer(await log.export(db, ctx, audit_filter, runtime.policy.department.zone))


def csv_answer(body: str) -> Response[str]:
    return Response(
        body, media_type="text/csv", headers={"content-disposition": 'attachment; filename="audit-log.csv"'}
    )


@get("/verify", opt=READ)
async def verify(runtime: RuntimeDep) -> VerifyResult:
    """Recompute the whole hash chain; names the first event that does not hold."""
    # Not in a request transaction: verification seals first, then reads one snapshot.
    async with runtime.db_pool().acquire() as conn:
        return await service.verify(conn)


routes: list[ControllerRouterHandler] = [
    Router(path="/api/audit", route_handlers=[list_events, export_events, verify], tags=["audit"])
]

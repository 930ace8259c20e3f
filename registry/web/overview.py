"""What each role finds first: the overview, and the queue of what waits for an approver."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.accounts import service as accounts
from registry.db.pool import DB
from registry.investigations import service as investigations
from registry.lifecycle import listing
from registry.permissions import Permission
from registry.personas import records
from registry.runtime import Ctx, RequestContext, Runtime, RuntimeDep
from registry.web.render import page

P = Permission
# Approvals lapsing within this many days show in the approver's queue as renewals.
RENEW_WITHIN_DAYS = 30


@get("/", opt={"permission": P.SELF})
async def overview(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Template:
    """Their personas and investigations, or what waits for them."""
    me = ctx.me
    mine = (
        await listing.page(db, runtime, ctx, status=None, investigation_id=None, cursor=None, limit=200)
        if me.can(P.PERSONA_READ)
        else None
    )
    cases = await investigations.list_visible(db, runtime, ctx) if me.can(P.INVESTIGATION_READ) else None
    waiting = await _queue_counts(db, runtime, ctx)
    return page(request, "overview.html", title="Overview", personas=mine, investigations=cases, waiting=waiting)


async def _queue_counts(db: DB, runtime: Runtime, ctx: RequestContext) -> int | None:
    me = ctx.me
    if not (me.can(P.PERSONA_APPROVE) or me.can(P.INVESTIGATION_AUTHORIZE) or me.can(P.ACCOUNT_AUTHORIZE)):
        return None
    queue = await _queue(db, runtime, ctx)
    return sum(1 for items in queue.values() for item in items if not _own(item))


def _own(item: Any) -> bool:
    return bool(item[1]) if isinstance(item, tuple) else bool(item.own)


async def _queue(db: DB, runtime: Runtime, ctx: RequestContext) -> dict[str, list[Any]]:
    me = ctx.me
    return {
        "personas": await records.awaiting_approval(db, runtime, ctx, RENEW_WITHIN_DAYS)
        if me.can(P.PERSONA_APPROVE)
        else [],
        "investigations": await investigations.awaiting_authorization(db, runtime, ctx)
        if me.can(P.INVESTIGATION_AUTHORIZE)
        else [],
        "accounts": await accounts.awaiting_authorization(db, runtime, ctx) if me.can(P.ACCOUNT_AUTHORIZE) else [],
    }


@get("/queue", opt={"permission": P.SELF})
async def queue(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Template:
    """What waits for the supervisor or authorizing official; their own shown as such."""
    return page(request, "queue.html", title="Waiting for me", queue=await _queue(db, runtime, ctx))


routes: list[ControllerRouterHandler] = [overview, queue]

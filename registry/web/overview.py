"""What each role finds first: the overview, and the queue of what waits for an approver."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.accounts import service as accounts
from registry.accounts.schemas import AuthorizeAccount, DeclineAccount
from registry.db.pool import DB
from registry.errors import NotFound
from registry.investigations import service as investigations
from registry.lifecycle import listing
from registry.permissions import Permission
from registry.personas import records
from registry.reviews import service as review_service
from registry.runtime import Ctx, RequestContext, Runtime, RuntimeDep
from registry.web import offices, reviews
from registry.web.forms import FormErrors, attempt, convert, given, text, values
from registry.web.render import done_message, page, see_other

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
    pressing = (await review_service.needs_action(db, runtime, ctx)).items if me.can(P.REVIEW_READ) else None
    warming, ageing = reviews.dormant_of(mine.items) if mine is not None else ([], [])
    return page(
        request,
        "overview.html",
        title="Overview",
        personas=mine,
        investigations=cases,
        waiting=waiting,
        pressing=pressing,
        warming=warming,
        ageing=ageing,
        today=ctx.now.date(),
        offices=await offices.waiting(db, runtime, ctx),
    )


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
async def queue(
    request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx, done: FromQuery[str | None] = None
) -> Template:
    """What waits for the supervisor or authorizing official; their own shown as such."""
    return await _queue_page(request, db, runtime, ctx, done=done_message(done))


async def _queue_page(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    *,
    errors: dict[str, str] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Template:
    return page(
        request,
        "queue.html",
        status=status,
        title="Waiting for me",
        queue=await _queue(db, runtime, ctx),
        errors=errors or {},
        done=done,
    )


@post("/queue/accounts/{account_id:uuid}/{decision:str}", opt={"permission": P.ACCOUNT_AUTHORIZE})
async def account_decision(
    request: Request[Any, Any, Any],
    account_id: FromPath[UUID],
    decision: FromPath[str],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
) -> Response[Any]:
    """The official authorizes or declines a site or profile from the queue, with a fresh code:
    they weigh the account (platform, handle, profile) without opening the persona's identity."""
    form = values(await request.form())
    try:
        if decision == "authorize":
            data = convert(given(totp_code=text(form, "totp_code")), AuthorizeAccount)
            await attempt(db, lambda: accounts.authorize(db, runtime, ctx, account_id, data))
        elif decision == "decline":
            refusal = convert(given(totp_code=text(form, "totp_code"), reason=text(form, "reason")), DeclineAccount)
            await attempt(db, lambda: accounts.decline(db, runtime, ctx, account_id, refusal))
        else:
            raise NotFound("No such decision.")
    except FormErrors as exc:
        errors = {f"account-{account_id}-{k or 'totp_code'}": m for k, m in exc.errors.items()}
        return await _queue_page(request, db, runtime, ctx, errors=errors, status=exc.status)
    return see_other(f"/queue?done={'authorize' if decision == 'authorize' else 'decline'}")


routes: list[ControllerRouterHandler] = [overview, queue, account_decision]

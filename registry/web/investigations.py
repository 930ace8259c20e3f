"""The investigation pages: the list, opening one with its justification, its page with the
authorization and the team."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.investigations import service as investigations
from registry.investigations.schemas import Authorize, InvestigationCreate, MemberAdd, Refuse
from registry.lifecycle import listing
from registry.permissions import Permission
from registry.runtime import Ctx, RequestContext, Runtime, RuntimeDep
from registry.web.forms import FormErrors, attempt, convert, given, text, values
from registry.web.render import done_message, page, see_other

P = Permission


@get("/investigations", opt={"permission": P.INVESTIGATION_READ})
async def investigation_list(
    request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx, done: FromQuery[str | None] = None
) -> Template:
    return await _investigations_page(request, db, runtime, ctx, {}, {}, 200, done_message(done))


async def _investigations_page(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    errors: dict[str, str],
    form: dict[str, Any],
    status: int,
    done: str | None = None,
) -> Template:
    items = await investigations.list_visible(db, runtime, ctx)
    return page(
        request,
        "investigations.html",
        status=status,
        title="Investigations",
        items=items.items,
        errors=errors,
        v=form,
        done=done,
    )


@post("/investigations", opt={"permission": P.INVESTIGATION_CREATE})
async def investigation_open(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    form = values(await request.form())
    names = ("case_number", "title", "purpose", "necessity", "proportionality", "collateral_intrusion")
    try:
        data = convert(given(**{n: text(form, n) for n in names}), InvestigationCreate)
        created = await attempt(db, lambda: investigations.create(db, runtime, ctx, data))
    except FormErrors as exc:
        return await _investigations_page(request, db, runtime, ctx, exc.errors, form, exc.status)
    return see_other(f"/investigations/{created.id}?done=opened")


@get("/investigations/{investigation_id:uuid}", opt={"permission": P.INVESTIGATION_READ})
async def investigation_page(
    request: Request[Any, Any, Any],
    investigation_id: FromPath[UUID],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _investigation(request, db, runtime, ctx, investigation_id, {}, 200, done_message(done))


async def _investigation(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    investigation_id: UUID,
    errors: dict[str, str],
    status: int,
    done: str | None = None,
    opened: str = "",
) -> Template:
    case = await investigations.get(db, runtime, ctx, investigation_id)
    listed = (
        await listing.page(db, runtime, ctx, status=None, investigation_id=investigation_id, cursor=None, limit=200)
        if ctx.me.can(P.PERSONA_READ)
        else None
    )
    team = (
        await investigations.member_candidates(db, runtime, ctx, investigation_id)
        if ctx.me.can(P.INVESTIGATION_MEMBERS)
        else None
    )
    return page(
        request,
        "investigation.html",
        status=status,
        title=f"Case {case.case_number}",
        case=case,
        personas=listed,
        own=case.opened_by == ctx.me.username,
        team=team,
        errors=errors,
        opened=opened,
        done=done,
    )


@post("/investigations/{investigation_id:uuid}/authorize", opt={"permission": P.INVESTIGATION_AUTHORIZE})
async def investigation_authorize(
    request: Request[Any, Any, Any], investigation_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    form = values(await request.form())
    try:
        data = convert(given(totp_code=text(form, "totp_code"), note=text(form, "note")), Authorize)
        await attempt(db, lambda: investigations.authorize(db, runtime, ctx, investigation_id, data))
    except FormErrors as exc:
        return await _investigation(request, db, runtime, ctx, investigation_id, exc.errors, exc.status)
    return see_other(f"/investigations/{investigation_id}?done=authorize")


@post("/investigations/{investigation_id:uuid}/refuse", opt={"permission": P.INVESTIGATION_AUTHORIZE})
async def investigation_refuse(
    request: Request[Any, Any, Any], investigation_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    """The official refuses false identities for the case, with a reason and a fresh code."""
    form = values(await request.form())
    try:
        data = convert(given(reason=text(form, "reason"), totp_code=text(form, "totp_code")), Refuse)
        await attempt(db, lambda: investigations.refuse(db, runtime, ctx, investigation_id, data))
    except FormErrors as exc:
        errors = {f"refuse.{name or 'totp_code'}": message for name, message in exc.errors.items()}
        return await _investigation(request, db, runtime, ctx, investigation_id, errors, exc.status, opened="refuse")
    return see_other(f"/investigations/{investigation_id}?done=refused")


@post("/investigations/{investigation_id:uuid}/members", opt={"permission": P.INVESTIGATION_MEMBERS})
async def investigation_member(
    request: Request[Any, Any, Any], investigation_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    form = values(await request.form())
    try:
        # The member is picked by name from the people the service offers; the value is their id.
        data = convert(given(user_id=text(form, "user_id")), MemberAdd)
        await attempt(db, lambda: investigations.add_member(db, runtime, ctx, investigation_id, data))
    except FormErrors as exc:
        return await _investigation(request, db, runtime, ctx, investigation_id, exc.errors, exc.status)
    return see_other(f"/investigations/{investigation_id}?done=member")


routes: list[ControllerRouterHandler] = [
    investigation_list,
    investigation_open,
    investigation_page,
    investigation_authorize,
    investigation_refuse,
    investigation_member,
]

"""The investigation pages: the list, opening one with its justification, its page with the
authorization and the team."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from registry.units import service as units
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
    # The unit select, when the opener may choose between units.
    choices = (await units.opens_in(db, ctx.me.id)).items if ctx.me.can(P.INVESTIGATION_CREATE) else []
    return page(
        request,
        "investigations.html",
        status=status,
        title="Investigations",
        items=items.items,
        unit_options=[(u.id, u.name) for u in choices] if len(choices) > 1 else [],
        errors=errors,
        v=form,
        done=done,
    )


@post("/investigations", opt={"permission": P.INVESTIGATION_CREATE})
async def investigation_open(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    form = values(await request.form())
    names = ("case_number", "title", "purpose", "necessity", "proportionality", "collateral_intrusion")
    try:
        data = convert(given(**{n: text(form, n) for n in (*names, "unit_id")}), InvestigationCreate)
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


Form = dict[str, Any]
CaseStep = Callable[[DB, Runtime, RequestContext, UUID, Form], Awaitable[object]]


def _case_step(path: str, permission: Permission, step: CaseStep, done: str, *, prefixed: bool = False) -> Any:
    """A POST that runs one service step on an investigation, then shows it again: at once with
    the error beside the field at fault (named `<path>.<field>` where two forms share a name),
    or after a redirect with what was done."""

    @post(f"/investigations/{{investigation_id:uuid}}/{path}", opt={"permission": permission}, name=f"case-{path}")
    async def handler(
        request: Request[Any, Any, Any], investigation_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
    ) -> Response[Any]:
        form = values(await request.form())
        try:
            await attempt(db, lambda: step(db, runtime, ctx, investigation_id, form))
        except FormErrors as exc:
            errors = {f"{path}.{n or 'totp_code'}": m for n, m in exc.errors.items()} if prefixed else exc.errors
            return await _investigation(request, db, runtime, ctx, investigation_id, errors, exc.status, opened=path)
        return see_other(f"/investigations/{investigation_id}?done={done}")

    return handler


async def _authorize(db: DB, runtime: Runtime, ctx: RequestContext, case: UUID, form: Form) -> object:
    data = convert(given(totp_code=text(form, "totp_code"), note=text(form, "note")), Authorize)
    return await investigations.authorize(db, runtime, ctx, case, data)


async def _refuse(db: DB, runtime: Runtime, ctx: RequestContext, case: UUID, form: Form) -> object:
    """The official refuses false identities for the case, with a reason and a fresh code."""
    data = convert(given(reason=text(form, "reason"), totp_code=text(form, "totp_code")), Refuse)
    return await investigations.refuse(db, runtime, ctx, case, data)


async def _member(db: DB, runtime: Runtime, ctx: RequestContext, case: UUID, form: Form) -> object:
    # The member is picked by name from the people the service offers; the value is their id.
    data = convert(given(user_id=text(form, "user_id")), MemberAdd)
    return await investigations.add_member(db, runtime, ctx, case, data)


routes: list[ControllerRouterHandler] = [
    investigation_list,
    investigation_open,
    investigation_page,
    _case_step("authorize", P.INVESTIGATION_AUTHORIZE, _authorize, "authorize"),
    _case_step("refuse", P.INVESTIGATION_AUTHORIZE, _refuse, "refused", prefixed=True),
    _case_step("members", P.INVESTIGATION_MEMBERS, _member, "member"),
]

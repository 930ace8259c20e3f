"""The detective's and the approvers' pages: overview, the queue, investigations, personas
(request, the gate as a checklist, accounts, equipment, terms of service, activity, every
lifecycle step). Every page calls the services the API calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.accounts import service as accounts
from registry.accounts.schemas import AccountCreate, AuthorizeAccount
from registry.activity import service as activity
from registry.activity.schemas import ActivityIn
from registry.db.pool import DB
from registry.equipment import service as equipment
from registry.equipment.schemas import AssignIn
from registry.investigations import service as investigations
from registry.investigations.schemas import Authorize, InvestigationCreate, MemberAdd
from registry.lifecycle import approval, gate, listing, steps, use
from registry.permissions import Permission
from registry.personas import identity, records
from registry.personas.schemas import Approve, CompromiseIn, PersonaCreate, ReasonIn, Reject, Renew
from registry.platforms import service as platforms
from registry.platforms.schemas import AcknowledgeIn
from registry.runtime import Ctx, RequestContext, Runtime, RuntimeDep
from registry.web.forms import FormErrors, attempt, checked, convert, given, text, utc_local
from registry.web.render import page, see_other

P = Permission
# Approvals lapsing within this many days show in the approver's queue as renewals.
RENEW_WITHIN_DAYS = 30
# What a finished step says on the page it lands on (fixed words, never user input).
DONE = {
    "requested": "Persona requested.",
    "submit": "Submitted for approval.",
    "approve": "Approved.",
    "reject": "Rejected; the handler has been given the reason.",
    "renew": "Approval renewed.",
    "activate": "The persona is active.",
    "suspend": "Suspended.",
    "resume": "Back in use.",
    "retire": "Retired.",
    "compromise": "Recorded as compromised; its equipment is quarantined.",
    "account": "Account requested; it waits for the authorizing official.",
    "authorize": "Authorized.",
    "equipment": "Device assigned.",
    "tos": "Terms of service acknowledged.",
    "activity": "Activity recorded.",
    "opened": "Investigation opened; it waits for the authorizing official.",
    "member": "Member added.",
}


def _values(form: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _done(done: str | None) -> str | None:
    return DONE.get(done or "")


@get("/", opt={"permission": P.SELF})
async def overview(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Template:
    """What each role finds first: their personas and investigations, or what waits for them."""
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


# Investigations


@get("/investigations", opt={"permission": P.INVESTIGATION_READ})
async def investigation_list(
    request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx, done: FromQuery[str | None] = None
) -> Template:
    return await _investigations_page(request, db, runtime, ctx, {}, {}, 200, _done(done))


async def _investigations_page(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    errors: dict[str, str],
    values: dict[str, Any],
    status: int,
    done: FromQuery[str | None] = None,
) -> Template:
    items = await investigations.list_visible(db, runtime, ctx)
    return page(
        request,
        "investigations.html",
        status=status,
        title="Investigations",
        items=items.items,
        errors=errors,
        v=values,
        done=done,
    )


@post("/investigations", opt={"permission": P.INVESTIGATION_CREATE})
async def investigation_open(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    form = _values(await request.form())
    names = ("case_number", "title", "purpose", "necessity", "proportionality", "collateral_intrusion")
    try:
        data = convert(given(**{n: text(form, n) for n in names}), InvestigationCreate)
        created = await attempt(db, lambda: investigations.create(db, ctx, data))
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
    return await _investigation(request, db, runtime, ctx, investigation_id, {}, 200, _done(done))


async def _investigation(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    investigation_id: UUID,
    errors: dict[str, str],
    status: int,
    done: FromQuery[str | None] = None,
) -> Template:
    case = await investigations.get(db, runtime, ctx, investigation_id)
    listed = (
        await listing.page(db, runtime, ctx, status=None, investigation_id=investigation_id, cursor=None, limit=200)
        if ctx.me.can(P.PERSONA_READ)
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
        errors=errors,
        done=done,
    )


@post("/investigations/{investigation_id:uuid}/authorize", opt={"permission": P.INVESTIGATION_AUTHORIZE})
async def investigation_authorize(
    request: Request[Any, Any, Any], investigation_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    form = _values(await request.form())
    try:
        data = convert(given(totp_code=text(form, "totp_code"), note=text(form, "note")), Authorize)
        await attempt(db, lambda: investigations.authorize(db, runtime, ctx, investigation_id, data))
    except FormErrors as exc:
        return await _investigation(request, db, runtime, ctx, investigation_id, exc.errors, exc.status)
    return see_other(f"/investigations/{investigation_id}?done=authorize")


@post("/investigations/{investigation_id:uuid}/members", opt={"permission": P.INVESTIGATION_MEMBERS})
async def investigation_member(
    request: Request[Any, Any, Any], investigation_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    form = _values(await request.form())
    try:
        data = convert(given(user_id=text(form, "user_id")), MemberAdd)
        await attempt(db, lambda: investigations.add_member(db, runtime, ctx, investigation_id, data))
    except FormErrors as exc:
        return await _investigation(request, db, runtime, ctx, investigation_id, exc.errors, exc.status)
    return see_other(f"/investigations/{investigation_id}?done=member")


# Personas


@get("/personas", opt={"permission": P.PERSONA_READ})
async def persona_list(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    status: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    known = ("draft", "submitted", "rejected", "approved", "active", "suspended", "retired", "compromised")
    chosen = status if status in known else None
    listed = await listing.page(db, runtime, ctx, status=chosen, investigation_id=None, cursor=cursor, limit=50)
    return page(request, "personas.html", title="Personas", listed=listed, chosen=chosen, statuses=known)


async def _request_page(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    errors: dict[str, str],
    values: dict[str, Any],
    status: int,
) -> Template:
    cases = await investigations.list_visible(db, runtime, ctx)
    catalog = await platforms.list_all(db, runtime, ctx)
    return page(
        request,
        "persona_new.html",
        status=status,
        title="Request a persona",
        cases=cases.items,
        platforms=catalog.items,
        errors=errors,
        v=values,
    )


@get("/personas/new", opt={"permission": P.PERSONA_REQUEST})
async def persona_new(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    investigation_id: FromQuery[str | None] = None,
) -> Template:
    values = {"investigation_id": investigation_id or "", "submit_now": "on"}
    return await _request_page(request, db, runtime, ctx, {}, values, 200)


def _identity(form: Mapping[str, Any]) -> dict[str, Any]:
    identity = given(
        alias_name=text(form, "identity.alias_name"),
        date_of_birth=text(form, "identity.date_of_birth"),
        location=text(form, "identity.location"),
        legend=text(form, "identity.legend"),
    )
    photo = "identity.photo_provenance[0]"
    source, description = text(form, f"{photo}.source"), text(form, f"{photo}.description")
    employee = checked(form, f"{photo}.depicts_department_employee")
    if source or description or employee:
        consent = given(
            given_by=text(form, f"{photo}.consent.given_by"),
            recorded_on=text(form, f"{photo}.consent.recorded_on"),
            reference=text(form, f"{photo}.consent.reference"),
        )
        identity["photo_provenance"] = [
            given(source=source, description=description, depicts_department_employee=employee)
            | ({"consent": consent} if consent else {})
        ]
    return identity


@post("/personas/new", opt={"permission": P.PERSONA_REQUEST})
async def persona_request(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    """The documented identity, the first account and the submission in one step: all or
    nothing, with deconfliction of the alias and the handle answered here."""
    form = _values(await request.form())
    try:
        data = convert(
            given(
                investigation_id=text(form, "investigation_id"),
                codename=text(form, "codename"),
                identity=_identity(form),
            ),
            PersonaCreate,
        )
        account = None
        if text(form, "platform_id") or text(form, "handle"):
            account = convert(
                given(
                    platform_id=text(form, "platform_id"),
                    handle=text(form, "handle"),
                    profile_url=text(form, "profile_url"),
                    credential_ref=text(form, "credential_ref"),
                ),
                AccountCreate,
            )

        async def request_it() -> UUID:
            created = await identity.create(db, runtime, ctx, data)
            if account is not None:
                await accounts.request(db, runtime, ctx, created.id, account)
            if checked(form, "submit_now"):
                await steps.submit(db, runtime, ctx, created.id)
            return created.id

        persona_id = await attempt(db, request_it)
    except FormErrors as exc:
        return await _request_page(request, db, runtime, ctx, exc.errors, form, exc.status)
    return see_other(f"/personas/{persona_id}?done=requested")


# Where each unmet activation condition is put right.
FIX = {
    "investigation_authorized": "investigation",
    "accounts_authorized": "#accounts",
    "isolated_equipment": "#equipment",
    "terms_of_service": "#tos",
    "approved": "#decide",
}


async def _persona(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    opened: str = "",
    status: int = 200,
    done: FromQuery[str | None] = None,
) -> Template:
    me = ctx.me
    detail = await identity.get(db, runtime, ctx, persona_id)
    checklist = await gate.gate(db, runtime, ctx, persona_id)
    log = await activity.list_for(db, runtime, ctx, persona_id, 100) if me.can(P.ACTIVITY_READ) else None
    catalog = await platforms.list_all(db, runtime, ctx) if me.can(P.PLATFORM_READ) else None
    devices = await equipment.list_equipment(db, ctx, None) if me.can(P.EQUIPMENT_READ) else None
    handler = detail.handler.id == me.id
    own = handler or detail.requested_by == me.username
    used = {a.platform_id for a in detail.accounts if a.status in ("requested", "authorized")}
    return page(
        request,
        "persona.html",
        status=status,
        title=detail.codename,
        p=detail,
        gate=checklist,
        fix=FIX,
        activity=log.items if log else [],
        platforms=[x for x in catalog.items] if catalog else [],
        used_platforms=[x for x in catalog.items if x.id in used] if catalog else [],
        assigned=[d for d in devices.items if d.assigned_to == detail.codename] if devices else [],
        available=[d for d in devices.items if d.status == "available" and d.inspection_current] if devices else [],
        handler=handler,
        own=own,
        errors=errors or {},
        v=values or {},
        opened=opened,
        done=done,
    )


@get("/personas/{persona_id:uuid}", opt={"permission": P.PERSONA_READ})
async def persona_page(
    request: Request[Any, Any, Any],
    persona_id: FromPath[UUID],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    done: FromQuery[str | None] = None,
) -> Template:
    """The full record (an audited read) and its activation gate as a checklist."""
    return await _persona(request, db, runtime, ctx, persona_id, done=_done(done))


Step = Callable[[DB, Runtime, RequestContext, UUID, dict[str, Any]], Awaitable[object]]


def _persona_step(path: str, permission: Permission, step: Step) -> Any:
    """A POST that runs one service step on a persona, then shows the persona again: at once
    with the error beside the field at fault, or after a redirect with what was done."""

    @post(f"/personas/{{persona_id:uuid}}/{path}", opt={"permission": permission}, name=f"persona-{path}")
    async def handler(
        request: Request[Any, Any, Any], persona_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
    ) -> Response[Any]:
        form = _values(await request.form())
        try:
            await attempt(db, lambda: step(db, runtime, ctx, persona_id, form))
        except FormErrors as exc:
            # Each form on the page names its inputs `<step>.<field>`: the error goes beside its own.
            errors = {(f"{path}.{name}" if name else ""): message for name, message in exc.errors.items()}
            return await _persona(
                request, db, runtime, ctx, persona_id, errors=errors, values=form, opened=path, status=exc.status
            )
        return see_other(f"/personas/{persona_id}?done={path}")

    return handler


def _reason(form: dict[str, Any]) -> ReasonIn:
    return convert(given(reason=text(form, "reason")), ReasonIn)


async def _submit(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    return await steps.submit(db, runtime, ctx, pid)


async def _activate(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    return await steps.activate(db, runtime, ctx, pid)


async def _approve(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    data = convert(
        given(
            totp_code=text(form, "totp_code"),
            note=text(form, "note"),
            review_interval_days=text(form, "review_interval_days"),
            version=text(form, "version"),
        ),
        Approve,
    )
    return await approval.approve(db, runtime, ctx, pid, data, data.version)


async def _reject(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    data = convert(
        given(reason=text(form, "reason"), totp_code=text(form, "totp_code"), version=text(form, "version")), Reject
    )
    return await approval.reject(db, runtime, ctx, pid, data, data.version)


async def _renew(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    data = convert(given(totp_code=text(form, "totp_code"), note=text(form, "note")), Renew)
    return await approval.renew(db, runtime, ctx, pid, data)


async def _suspend(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    return await steps.suspend(db, runtime, ctx, pid, _reason(form))


async def _resume(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    return await steps.resume(db, runtime, ctx, pid, _reason(form))


async def _retire(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    return await steps.retire(db, runtime, ctx, pid, _reason(form))


async def _compromise(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    return await steps.compromise(db, runtime, ctx, pid, convert(given(report=text(form, "report")), CompromiseIn))


async def _account(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    names = ("platform_id", "handle", "profile_url", "email", "phone", "credential_ref")
    data = convert(given(**{n: text(form, n) for n in names}), AccountCreate)
    return await accounts.request(db, runtime, ctx, pid, data)


async def _equipment(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    data = convert(given(equipment_id=text(form, "equipment_id")), AssignIn)
    return await equipment.assign(db, runtime, ctx, pid, data)


async def _tos(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    data = convert(given(platform_id=text(form, "platform_id")), AcknowledgeIn)
    return await platforms.acknowledge(db, runtime, ctx, pid, data)


async def _activity(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: dict[str, Any]) -> object:
    fields = given(
        occurred_at=utc_local(text(form, "occurred_at")),
        platform_id=text(form, "platform_id"),
        equipment_id=text(form, "equipment_id"),
        summary=text(form, "summary"),
    )
    return await use.record_activity(db, runtime, ctx, pid, convert(fields, ActivityIn))


persona_steps = [
    _persona_step("submit", P.PERSONA_EDIT, _submit),
    _persona_step("activate", P.PERSONA_ACTIVATE, _activate),
    _persona_step("approve", P.PERSONA_APPROVE, _approve),
    _persona_step("reject", P.PERSONA_APPROVE, _reject),
    _persona_step("renew", P.PERSONA_APPROVE, _renew),
    _persona_step("suspend", P.PERSONA_SUSPEND, _suspend),
    _persona_step("resume", P.PERSONA_SUSPEND, _resume),
    _persona_step("retire", P.PERSONA_SUSPEND, _retire),
    _persona_step("compromise", P.PERSONA_SUSPEND, _compromise),
    _persona_step("account", P.ACCOUNT_REQUEST, _account),
    _persona_step("equipment", P.EQUIPMENT_ASSIGN, _equipment),
    _persona_step("tos", P.TOS_ACKNOWLEDGE, _tos),
    _persona_step("activity", P.ACTIVITY_RECORD, _activity),
]


@post("/personas/{persona_id:uuid}/accounts/{account_id:uuid}/authorize", opt={"permission": P.ACCOUNT_AUTHORIZE})
async def account_authorize(
    request: Request[Any, Any, Any],
    persona_id: FromPath[UUID],
    account_id: FromPath[UUID],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
) -> Response[Any]:
    """The site authorization (003 IV.B.1.b), from the persona's page, with a fresh code."""
    form = _values(await request.form())
    try:
        data = convert(given(totp_code=text(form, "totp_code")), AuthorizeAccount)
        await attempt(db, lambda: accounts.authorize(db, runtime, ctx, account_id, data))
    except FormErrors as exc:
        # Several accounts may wait on one page: the error goes beside this account's code.
        errors = {(f"account-{account_id}" if k in ("totp_code", "") else k): m for k, m in exc.errors.items()}
        return await _persona(
            request, db, runtime, ctx, persona_id, errors=errors, opened="accounts", status=exc.status
        )
    return see_other(f"/personas/{persona_id}?done=authorize")


routes: list[ControllerRouterHandler] = [
    overview,
    queue,
    investigation_list,
    investigation_open,
    investigation_page,
    investigation_authorize,
    investigation_member,
    persona_list,
    persona_new,
    persona_request,
    persona_page,
    *persona_steps,
    account_authorize,
]

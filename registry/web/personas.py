"""The persona pages: the list, the request form, and the persona's own page, which renders
the lifecycle's verdicts (registry.lifecycle.gate.assess) and decides nothing itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.accounts import service as accounts
from registry.accounts.schemas import AccountCreate
from registry.activity import service as activity
from registry.audit.actions import History
from registry.db.pool import DB, Autocommit
from registry.equipment import service as equipment
from registry.investigations import service as investigations
from registry.lifecycle import approval, gate, handover, listing, steps
from registry.linkage import service as linkage
from registry.linkage.schemas import AssessmentIn
from registry.permissions import Permission
from registry.personas import identity
from registry.personas.schemas import Identity, PersonaCreate, PersonaPatch
from registry.platforms import service as platforms
from registry.runtime import Ctx, RequestContext, Runtime, RuntimeDep
from registry.status import PersonaStatus
from registry.web.forms import FormErrors, attempt, checked, convert, given, text, values
from registry.web.render import done_message, page, see_other

P = Permission


@get("/personas", opt={"permission": P.PERSONA_READ})
async def persona_list(
    request: Request[Any, Any, Any],
    autocommit: Autocommit,
    runtime: RuntimeDep,
    ctx: Ctx,
    status: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    known = [s.value for s in PersonaStatus]
    chosen = status if status in known else None
    listed = await listing.page(autocommit, runtime, ctx, status=chosen, investigation_id=None, cursor=cursor, limit=50)
    return page(request, "personas.html", title="Personas", listed=listed, chosen=chosen, statuses=known)


async def _request_page(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    errors: dict[str, str],
    form: dict[str, Any],
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
        v=form,
    )


@get("/personas/new", opt={"permission": P.PERSONA_REQUEST})
async def persona_new(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    investigation_id: FromQuery[str | None] = None,
) -> Template:
    form = {"investigation_id": investigation_id or "", "submit_now": "on"}
    return await _request_page(request, db, runtime, ctx, {}, form, 200)


PHOTO = "identity.photo_provenance[{}]"


def _photo(form: Mapping[str, Any], i: int) -> dict[str, Any] | None:
    """The i-th photo block, if any of it was filled in."""
    photo = PHOTO.format(i)
    source, description = text(form, f"{photo}.source"), text(form, f"{photo}.description")
    employee = checked(form, f"{photo}.depicts_department_employee")
    if not (source or description or employee):
        return None
    consent = given(
        given_by=text(form, f"{photo}.consent.given_by"),
        recorded_on=text(form, f"{photo}.consent.recorded_on"),
        reference=text(form, f"{photo}.consent.reference"),
    )
    return given(source=source, description=description, depicts_department_employee=employee) | (
        {"consent": consent} if consent else {}
    )


def _identity(form: Mapping[str, Any]) -> dict[str, Any]:
    documented = given(
        alias_name=text(form, "identity.alias_name"),
        date_of_birth=text(form, "identity.date_of_birth"),
        location=text(form, "identity.location"),
        legend=text(form, "identity.legend"),
    )
    blocks = 0
    while f"{PHOTO.format(blocks)}.source" in form:
        blocks += 1
    photos = [photo for i in range(blocks) if (photo := _photo(form, i)) is not None]
    if photos:
        documented["photo_provenance"] = photos
    return documented


def _identity_values(documented: Identity) -> dict[str, str]:
    """The edit form's inputs, filled with the identity as it is."""
    filled = {
        "identity.alias_name": documented.alias_name,
        "identity.date_of_birth": documented.date_of_birth.isoformat(),
        "identity.location": documented.location,
        "identity.legend": documented.legend,
    }
    for i, photo in enumerate(documented.photo_provenance):
        block = PHOTO.format(i)
        filled |= {f"{block}.source": photo.source, f"{block}.description": photo.description}
        if photo.depicts_department_employee:
            filled[f"{block}.depicts_department_employee"] = "on"
        if photo.consent is not None:
            filled |= {
                f"{block}.consent.given_by": photo.consent.given_by,
                f"{block}.consent.recorded_on": photo.consent.recorded_on.isoformat(),
                f"{block}.consent.reference": photo.consent.reference,
            }
    return filled


@post("/personas/new", opt={"permission": P.PERSONA_REQUEST})
async def persona_request(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    """The documented identity, the first account and the submission in one step: all or
    nothing, with deconfliction of the alias and the handle answered here."""
    form = values(await request.form())
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


# Where each unmet condition is put right.
FIX = {
    "investigation_authorized": "investigation",
    "accounts_authorized": "#accounts",
    "isolated_equipment": "#equipment",
    "terms_of_service": "#tos",
    "approved": "#decide",
}
# The history entries that are an approver's decision, shown again beside the next one.
DECIDED = (History.APPROVE, History.REJECT, History.RENEW)
# Account states that mean the persona is, or will be, on the platform: its terms apply.
ON_PLATFORM = ("requested", "authorized")


async def show(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    opened: str = "",
    status: int = 200,
    done: str | None = None,
    warnings: list[str] | None = None,
) -> Template:
    """The persona's page: the full record (an audited read), the lifecycle's assessment for
    this caller (conditions, devices, steps), and the forms of the steps it allows."""
    me = ctx.me
    detail = await identity.get(db, runtime, ctx, persona_id)
    verdict = await gate.assess(db, runtime, ctx, persona_id)
    by_step = {s.step: s for s in verdict.steps}
    log = await activity.list_for(db, runtime, ctx, persona_id, 100) if me.can(P.ACTIVITY_READ) else None
    catalog = (await platforms.list_all(db, runtime, ctx)).items if me.can(P.PLATFORM_READ) else []
    assign = by_step["assign_equipment"].allowed
    free = (await equipment.list_equipment(db, ctx, "available")).items if assign else []
    # Each waiting account with whether it is the caller's own (then another official decides).
    waiting = (
        {a.id: own for a, own in await accounts.awaiting_authorization(db, runtime, ctx) if a.persona_id == persona_id}
        if me.can(P.ACCOUNT_AUTHORIZE)
        else {}
    )
    on_platform = {a.platform_id for a in detail.accounts if a.status in ON_PLATFORM}
    # Activity is recorded only on an authorized account's platform (003 IV.B.1.b), from a
    # device the lifecycle says is usable now (003 IV.B.2).
    authorized = {a.platform_id: a.platform for a in detail.accounts if a.status == "authorized"}
    changes = await approval.changes(db, runtime, ctx, persona_id) if by_step["approve"].allowed else None
    successors = await handover.candidates(db, runtime, ctx, persona_id) if by_step["handover"].allowed else []
    return page(
        request,
        "persona.html",
        status=status,
        title=detail.codename,
        p=detail,
        a=verdict,
        steps=by_step,
        allowed=[s.step for s in verdict.steps if s.allowed],
        fix=FIX,
        changes=changes,
        activity=log.items if log else [],
        platforms=catalog,
        tos_platforms=[x for x in catalog if x.id in on_platform],
        activity_platforms=sorted(authorized.items(), key=lambda item: item[1]),
        usable_devices=[d for d in verdict.devices if d.usable],
        free_devices=[d for d in free if d.inspection_current],
        waiting=waiting,
        successors=successors,
        decisions=[h for h in detail.history if h.action in DECIDED],
        errors=errors or {},
        v=form or {},
        opened=opened,
        done=done,
        warnings=warnings or [],
    )


@get("/personas/{persona_id:uuid}", opt={"permission": P.PERSONA_READ})
async def persona_page(
    request: Request[Any, Any, Any],
    persona_id: FromPath[UUID],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    done: FromQuery[str | None] = None,
    open: FromQuery[str | None] = None,
) -> Template:
    """The full record (an audited read) and its conditions as a checklist; `open=renew` (from
    the approver's queue) unfolds the renewal form."""
    opened = "renew" if open == "renew" else ""
    return await show(request, db, runtime, ctx, persona_id, done=done_message(done), opened=opened)


async def _edit_page(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    """The documented identity as a form, at the version shown (an audited read); whether the
    caller may edit and submit it is the lifecycle's answer."""
    detail = await identity.get(db, runtime, ctx, persona_id)
    verdict = await gate.assess(db, runtime, ctx, persona_id)
    filled = (
        form
        if form is not None
        else _identity_values(detail.identity) | {"version": str(detail.version), "submit_now": "on"}
    )
    blocks = sum(1 for key in filled if key.startswith("identity.photo_provenance[") and key.endswith("].source"))
    return page(
        request,
        "persona_edit.html",
        status=status,
        title=f"Edit {detail.codename}",
        p=detail,
        edit=verdict.step("edit"),
        submit=verdict.step("submit"),
        errors=errors or {},
        v=filled,
        slots=blocks + (0 if form is not None else 1),
    )


@get("/personas/{persona_id:uuid}/edit", opt={"permission": P.PERSONA_EDIT})
async def persona_edit(
    request: Request[Any, Any, Any], persona_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Template:
    return await _edit_page(request, db, runtime, ctx, persona_id)


@post("/personas/{persona_id:uuid}/edit", opt={"permission": P.PERSONA_EDIT})
async def persona_update(
    request: Request[Any, Any, Any], persona_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    """The handler's change of the documented identity, at the version they edited (a change
    made meanwhile is refused, not overwritten), and the submission if they asked for it."""
    form = values(await request.form())
    try:
        data = convert(given(identity=_identity(form), version=text(form, "version")), PersonaPatch)

        async def edit_it() -> str:
            changed = await identity.update_identity(db, runtime, ctx, persona_id, data.identity, version=data.version)
            if checked(form, "submit_now"):
                await steps.submit(db, runtime, ctx, persona_id)
                return "submit"
            return "resubmitted" if changed.status == PersonaStatus.SUBMITTED else "edited"

        done = await attempt(db, edit_it)
    except FormErrors as exc:
        return await _edit_page(request, db, runtime, ctx, persona_id, errors=exc.errors, form=form, status=exc.status)
    return see_other(f"/personas/{persona_id}?done={done}")


# How each kind of link reads on the linkage page.
LINKS = {
    "device": "Used the same device",
    "recovery_email": "Same recovery e-mail",
    "recovery_phone": "Same recovery phone",
    "photo": "Same or look-alike photo",
    "egress": "Same network egress",
    "handler_platform": "Same handler on the same platform",
}


async def _linkage_page(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    opened: str = "",
    status: int = 200,
    done: str | None = None,
) -> Template:
    report = await linkage.report(db, runtime, ctx, persona_id)
    return page(
        request,
        "persona_linkage.html",
        status=status,
        title=f"Linked to {report.codename}",
        r=report,
        kinds=LINKS,
        errors=errors or {},
        v=form or {},
        opened=opened,
        done=done,
    )


@get("/personas/{persona_id:uuid}/linkage", opt={"permission": P.PERSONA_SUSPEND})
async def persona_linkage(
    request: Request[Any, Any, Any],
    persona_id: FromPath[UUID],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    done: FromQuery[str | None] = None,
) -> Template:
    """The blast radius of a burned persona (an audited read), with the assessment of each link."""
    return await _linkage_page(request, db, runtime, ctx, persona_id, done=done_message(done))


@post("/personas/{persona_id:uuid}/linkage/{other_id:uuid}/assessment", opt={"permission": P.PERSONA_SUSPEND})
async def persona_linkage_assess(
    request: Request[Any, Any, Any],
    persona_id: FromPath[UUID],
    other_id: FromPath[UUID],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
) -> Response[Any]:
    """Keep, suspend or retire one linked persona, with the reason; the lifecycle takes the step."""
    form = values(await request.form())
    try:
        data = convert(given(decision=text(form, "decision"), reason=text(form, "reason")), AssessmentIn)
        await attempt(db, lambda: linkage.assess(db, runtime, ctx, persona_id, other_id, data))
    except FormErrors as exc:
        errors = {f"{other_id}-{name or 'reason'}": message for name, message in exc.errors.items()}
        return await _linkage_page(
            request, db, runtime, ctx, persona_id, errors=errors, form=form, opened=str(other_id), status=exc.status
        )
    return see_other(f"/personas/{persona_id}/linkage?done=assessed")


routes: list[ControllerRouterHandler] = [
    persona_list,
    persona_new,
    persona_request,
    persona_page,
    persona_edit,
    persona_update,
    persona_linkage,
    persona_linkage_assess,
]

"""The forms on a persona's page: every lifecycle step, and the preparations (accounts,
equipment, terms of service, activity). Each POST runs the service the API runs, in a
savepoint of the request's one transaction, then shows the persona again: at once with the
error beside the field at fault, or after a redirect with what was done."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from litestar import Request, Response, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from registry.accounts import service as accounts
from registry.accounts.schemas import AccountCreate, AccountPatch, AuthorizeAccount, DeclineAccount, DisabledIn
from registry.activity.schemas import ActivityIn
from registry.db.pool import DB
from registry.equipment import service as equipment
from registry.equipment.schemas import AssignIn
from registry.lifecycle import approval, handover, steps, use
from registry.linkage import service as linkage
from registry.linkage.schemas import MAX_PHOTO_BODY, MAX_PHOTO_BYTES, PhotoIn
from registry.permissions import Permission
from registry.personas import records
from registry.personas.schemas import Approve, CompromiseIn, HandoverIn, ReasonIn, Reject, Renew
from registry.platforms import service as platforms
from registry.platforms.schemas import AcknowledgeIn
from registry.runtime import Ctx, RequestContext, Runtime, RuntimeDep
from registry.status import PersonaStatus
from registry.web.forms import FormErrors, attempt, checked, convert, given, text, typed_time, values
from registry.web.overview import RENEW_WITHIN_DAYS
from registry.web.personas import show
from registry.web.render import done_message, see_other

P = Permission
Form = dict[str, Any]
Step = Callable[[DB, Runtime, RequestContext, UUID, Form], Awaitable[object]]


# The approver's decisions: after one, the next request that waits for them.
DECISIONS = ("approve", "reject", "renew")


async def _after(db: DB, runtime: Runtime, ctx: RequestContext, persona_id: UUID, path: str) -> Response[Any]:
    """Where a finished step lands: the persona again, or after a decision the request that has
    waited longest for this approver (or the queue, saying nothing waits)."""
    if path not in DECISIONS:
        return see_other(f"/personas/{persona_id}?done={path}")
    waiting = [p for p in await records.awaiting_approval(db, runtime, ctx, RENEW_WITHIN_DAYS) if not p.own]
    if waiting:
        renewal = "" if waiting[0].status == PersonaStatus.SUBMITTED else "&open=renew"
        return see_other(f"/personas/{waiting[0].id}?done={path}-next{renewal}#decide")
    return see_other(f"/queue?done={path}-none")


def _persona_step(path: str, permission: Permission, step: Step) -> Any:
    """A POST that runs one service step on a persona."""

    @post(f"/personas/{{persona_id:uuid}}/{path}", opt={"permission": permission}, name=f"persona-{path}")
    async def handler(
        request: Request[Any, Any, Any], persona_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
    ) -> Response[Any]:
        form = values(await request.form())
        try:
            await attempt(db, lambda: step(db, runtime, ctx, persona_id, form))
        except FormErrors as exc:
            # Each form on the page names its inputs `<step>.<field>`: the error goes beside its own.
            errors = {(f"{path}.{name}" if name else ""): message for name, message in exc.errors.items()}
            return await show(
                request, db, runtime, ctx, persona_id, errors=errors, form=form, opened=path, status=exc.status
            )
        return await _after(db, runtime, ctx, persona_id, path)

    return handler


def _reason(form: Form) -> ReasonIn:
    return convert(given(reason=text(form, "reason")), ReasonIn)


async def _submit(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    return await steps.submit(db, runtime, ctx, pid)


async def _activate(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    return await steps.activate(db, runtime, ctx, pid)


async def _approve(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    # `version` is the one the supervisor was shown: a change since is refused (003 IV.B.3.b.2).
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


async def _reject(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    data = convert(
        given(reason=text(form, "reason"), totp_code=text(form, "totp_code"), version=text(form, "version")), Reject
    )
    return await approval.reject(db, runtime, ctx, pid, data, data.version)


async def _renew(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    data = convert(given(totp_code=text(form, "totp_code"), note=text(form, "note")), Renew)
    return await approval.renew(db, runtime, ctx, pid, data)


async def _suspend(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    return await steps.suspend(db, runtime, ctx, pid, _reason(form))


async def _resume(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    return await steps.resume(db, runtime, ctx, pid, _reason(form))


async def _retire(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    return await steps.retire(db, runtime, ctx, pid, _reason(form))


async def _compromise(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    return await steps.compromise(db, runtime, ctx, pid, convert(given(report=text(form, "report")), CompromiseIn))


async def _account(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    names = ("platform_id", "handle", "profile_url", "email", "phone", "credential_ref")
    data = convert(given(**{n: text(form, n) for n in names}), AccountCreate)
    return await accounts.request(db, runtime, ctx, pid, data)


async def _equipment(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    data = convert(given(equipment_id=text(form, "equipment_id")), AssignIn)
    return await equipment.assign(db, runtime, ctx, pid, data)


async def _tos(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    data = convert(given(platform_id=text(form, "platform_id")), AcknowledgeIn)
    return await platforms.acknowledge(db, runtime, ctx, pid, data)


async def _activity(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    fields = given(
        occurred_at=typed_time(text(form, "occurred_at"), runtime.policy.department.time_zone),
        platform_id=text(form, "platform_id"),
        equipment_id=text(form, "equipment_id"),
        summary=text(form, "summary"),
    ) | {"warming": checked(form, "warming")}
    return await use.record_activity(db, runtime, ctx, pid, convert(fields, ActivityIn))


async def _handover(db: DB, runtime: Runtime, ctx: RequestContext, pid: UUID, form: Form) -> object:
    data = convert(given(to_user_id=text(form, "to_user_id"), reason=text(form, "reason")), HandoverIn)
    return await handover.handover(db, runtime, ctx, pid, data)


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
    _persona_step("handover", P.PERSONA_HANDOVER, _handover),
]


AccountStep = Callable[[DB, Runtime, RequestContext, UUID, Form], Awaitable[object]]


def _account_step(path: str, permission: Permission, step: AccountStep) -> Any:
    """A POST on one of the persona's accounts, from its page: the error goes beside that
    account's own form (several may wait on one page)."""

    @post(
        f"/personas/{{persona_id:uuid}}/accounts/{{account_id:uuid}}/{path}",
        opt={"permission": permission},
        name=f"persona-account-{path}",
    )
    async def handler(
        request: Request[Any, Any, Any],
        persona_id: FromPath[UUID],
        account_id: FromPath[UUID],
        db: DB,
        runtime: RuntimeDep,
        ctx: Ctx,
    ) -> Response[Any]:
        form = values(await request.form())
        try:
            await attempt(db, lambda: step(db, runtime, ctx, account_id, form))
        except FormErrors as exc:
            errors = {f"{path}-{account_id}-{name or 'totp_code'}": message for name, message in exc.errors.items()}
            return await show(
                request,
                db,
                runtime,
                ctx,
                persona_id,
                errors=errors,
                form=form,
                opened=f"{path}-{account_id}",
                status=exc.status,
            )
        return see_other(f"/personas/{persona_id}?done={path}")

    return handler


async def _authorize(db: DB, runtime: Runtime, ctx: RequestContext, account_id: UUID, form: Form) -> object:
    """The site authorization (003 IV.B.1.b), with a fresh code."""
    data = convert(given(totp_code=text(form, "totp_code")), AuthorizeAccount)
    return await accounts.authorize(db, runtime, ctx, account_id, data)


async def _decline(db: DB, runtime: Runtime, ctx: RequestContext, account_id: UUID, form: Form) -> object:
    data = convert(given(reason=text(form, "reason"), totp_code=text(form, "totp_code")), DeclineAccount)
    return await accounts.decline(db, runtime, ctx, account_id, data)


async def _disabled(db: DB, runtime: Runtime, ctx: RequestContext, account_id: UUID, form: Form) -> object:
    data = convert(given(note=text(form, "note")), DisabledIn)
    return await accounts.disabled_by_site(db, runtime, ctx, account_id, data)


async def _created_on(db: DB, runtime: Runtime, ctx: RequestContext, account_id: UUID, form: Form) -> object:
    """The day the account was created on the site: its age before use counts from then."""
    data = convert(given(created_on=text(form, "created_on")), AccountPatch)
    return await accounts.record_created_on(db, runtime, ctx, account_id, data)


account_steps = [
    _account_step("authorize", P.ACCOUNT_AUTHORIZE, _authorize),
    _account_step("decline", P.ACCOUNT_AUTHORIZE, _decline),
    _account_step("disabled", P.ACCOUNT_DISABLE, _disabled),
    _account_step("created-on", P.ACCOUNT_REQUEST, _created_on),
]


@post("/personas/{persona_id:uuid}/equipment/{equipment_id:uuid}/release", opt={"permission": P.EQUIPMENT_ASSIGN})
async def equipment_release(
    request: Request[Any, Any, Any],
    persona_id: FromPath[UUID],
    equipment_id: FromPath[UUID],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
) -> Response[Any]:
    """The device goes back to the pool; the persona keeps its others."""
    try:
        await attempt(db, lambda: equipment.unassign(db, runtime, ctx, persona_id, equipment_id))
    except FormErrors as exc:
        errors = {f"release-{equipment_id}": message for message in exc.errors.values()}
        return await show(request, db, runtime, ctx, persona_id, errors=errors, status=exc.status)
    return see_other(f"/personas/{persona_id}?done=release")


@post(
    "/personas/{persona_id:uuid}/photos",
    opt={"permission": P.PERSONA_EDIT},
    request_max_body_size=MAX_PHOTO_BODY,
)
async def photo_add(
    request: Request[Any, Any, Any], persona_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    """A photo the persona uses, uploaded: the service keeps its keyed fingerprints only, and
    the page says at once when a burned or another persona uses the same photo (issue 16.1)."""
    upload = (await request.form()).get("photo")
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    try:
        if not content:
            raise FormErrors({"photo.file": "Choose the image file the persona uses."})
        if len(content) > MAX_PHOTO_BYTES:
            raise FormErrors({"photo.file": f"The image is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB."})
        data = PhotoIn(content_base64=base64.b64encode(content).decode())
        added = await attempt(db, lambda: linkage.add_photo(db, runtime, ctx, persona_id, data))
    except FormErrors as exc:
        errors = {(name if name.startswith("photo.") else "photo.file"): m for name, m in exc.errors.items()}
        return await show(request, db, runtime, ctx, persona_id, errors=errors, opened="photo", status=exc.status)
    if added.warnings:
        # Shown now, beside the record: the warnings are the point of the upload.
        return await show(request, db, runtime, ctx, persona_id, done=done_message("photo"), warnings=added.warnings)
    return see_other(f"/personas/{persona_id}?done=photo")


routes: list[ControllerRouterHandler] = [*persona_steps, *account_steps, equipment_release, photo_add]

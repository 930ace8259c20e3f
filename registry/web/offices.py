"""Pages for the offices beside the investigators: the equipment officer's inventory and
inspections, legal's platform catalog and terms-of-service reviews, the auditor's log, chain
verification and central record, and the administrator's accounts.

Steps that cannot be undone or that weaken an account (retiring a device; disabling,
unlocking or resetting an account) each have a page of their own that says what will happen
and asks to confirm; the account steps ask for a reason, which the audit event keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Annotated, Any, get_args
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.audit import log as audit_log
from registry.audit import service as audit
from registry.audit.actions import Action
from registry.audit.routes import csv_answer
from registry.audit.schemas import AuditFilter
from registry.db.pool import DB, Autocommit
from registry.equipment import service as equipment
from registry.equipment.schemas import EquipmentCreate, InspectionIn
from registry.errors import BadRequest, Forbidden, NotFound
from registry.lifecycle import gate
from registry.permissions import Permission
from registry.personas import records
from registry.personas.routes import central_record_csv
from registry.platforms import service as platforms
from registry.platforms.schemas import PlatformCreate, TosReviewIn
from registry.policy import Role
from registry.runtime import Ctx, RequestContext, Runtime, RuntimeDep
from registry.users import service as users
from registry.users.schemas import PasswordReset, UserCreate, UserOut, UserPatch
from registry.web.forms import FormErrors, attempt, convert, given, text
from registry.web.render import page, see_other

P = Permission
ROLES: tuple[str, ...] = get_args(Role)
DONE = {
    "registered": "Device registered. Record its isolation inspection before it is assigned.",
    "retired": "Device retired.",
    "platform": "Platform added to the catalog.",
    "created": "Account created. At first sign-in the user enrolls an authenticator and replaces the password.",
    "created_pending": (
        "Account created. Its roles that read identities wait for a second person's confirmation, "
        "who then hands the user a one-time enrollment code."
    ),
    "updated": "Account updated; the change applies from the user's next request.",
    "updated_pending": "Account updated; its new roles that read identities wait for a second person's confirmation.",
    "unlocked": "Account unlocked.",
    "mfa": "Authenticator reset; the user enrolls a new one once a second person confirms and gives them a code.",
    "disabled": "Account disabled; its sessions have ended.",
    "enabled": "Account enabled; the user can sign in again.",
    "password": "Temporary password set; the user's sessions have ended and they replace it at their next sign-in.",
}
# The review's two questions, as the form asks them (yes or no, neither preselected).
TOS_QUESTIONS = (
    ("prohibits_false_identity", "Do the terms prohibit false identities?"),
    ("prohibits_automation", "Do the terms prohibit automation?"),
)
AUDIT_PAGE = 50
REASON_HINT = "Kept in the audit log with this step (for example the ticket or the call that asked for it)."


def _values(form: Any) -> dict[str, Any]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _confirm(
    request: Request[Any, Any, Any],
    *,
    heading: str,
    consequence: str,
    action: str,
    button: str,
    back: str,
    subject: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    reason: bool = False,
    password: bool = False,
    status: int = 200,
) -> Template:
    """A step that cannot be undone (or weakens an account) asks once more, on a page of its own."""
    return page(
        request,
        "confirm.html",
        status=status,
        title=heading,
        heading=heading,
        consequence=consequence,
        action=action,
        button=button,
        back=back,
        subject=subject,
        ask_reason=reason,
        ask_password=password,
        reason_hint=REASON_HINT,
        errors=errors or {},
        v=values or {},
    )


# Equipment


async def _equipment_page(
    request: Request[Any, Any, Any],
    db: DB,
    ctx: RequestContext,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    done: str | None = None,
    inspected: UUID | None = None,
) -> Template:
    listed = await equipment.list_equipment(db, ctx, None)
    return page(
        request,
        "equipment.html",
        status=status,
        title="Equipment",
        items=listed.items,
        checks=equipment.CHECKS,
        inspection=await equipment.get_inspection(db, inspected) if inspected else None,
        errors=errors or {},
        v=values or {},
        done=DONE.get(done or ""),
    )


@get("/equipment", opt={"permission": P.EQUIPMENT_READ})
async def equipment_list(
    request: Request[Any, Any, Any],
    db: DB,
    ctx: Ctx,
    done: FromQuery[str | None] = None,
    inspected: FromQuery[UUID | None] = None,
) -> Template:
    return await _equipment_page(request, db, ctx, done=done, inspected=inspected)


@post("/equipment", opt={"permission": P.EQUIPMENT_MANAGE})
async def equipment_register(request: Request[Any, Any, Any], db: DB, ctx: Ctx) -> Response[Any]:
    form = _values(await request.form())
    names = ("asset_tag", "kind", "serial", "ownership", "make_model")
    try:
        data = convert(given(**{n: text(form, n) for n in names}), EquipmentCreate)
        await attempt(db, lambda: equipment.register(db, ctx, data))
    except FormErrors as exc:
        return await _equipment_page(request, db, ctx, errors=exc.errors, values=form, status=exc.status)
    return see_other("/equipment?done=registered")


def _answers(form: dict[str, Any], questions: Any, *, inputs: str = "", errors: str = "") -> dict[str, bool]:
    """Each question (name, question, …) answered yes or no; every unanswered one named at once
    (nothing is preselected, so a form left untouched records nothing). `inputs` prefixes the
    form's input names, `errors` the names the errors are shown beside."""
    answers, missing = {}, {}
    for name, question, *_ in questions:
        value = form.get(inputs + name)
        if value in ("yes", "no"):
            answers[name] = value == "yes"
        else:
            missing[errors + name] = f"Answer yes or no: {question}"
    if missing:
        raise FormErrors(missing)
    return answers


@post("/equipment/{equipment_id:uuid}/inspections", opt={"permission": P.EQUIPMENT_MANAGE})
async def equipment_inspect(
    request: Request[Any, Any, Any], equipment_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    form = _values(await request.form())
    prefix = f"{equipment_id}."
    try:
        data = convert(_answers(form, equipment.CHECKS, errors=prefix) | given(notes=text(form, "notes")), InspectionIn)
        done = await attempt(db, lambda: equipment.inspect(db, runtime, ctx, equipment_id, data))
    except FormErrors as exc:
        errors = {k if k.startswith(prefix) else prefix + (k or "notes"): m for k, m in exc.errors.items()}
        values = {prefix + k: v for k, v in form.items()}
        return await _equipment_page(request, db, ctx, errors=errors, values=values, status=exc.status)
    return see_other(f"/equipment?inspected={done.id}#device-{equipment_id}")


@get("/equipment/{equipment_id:uuid}/retire", opt={"permission": P.EQUIPMENT_MANAGE})
async def equipment_retire_form(
    request: Request[Any, Any, Any], equipment_id: FromPath[UUID], db: DB, ctx: Ctx
) -> Template:
    return _retire_page(request, await equipment.get(db, ctx, equipment_id))


def _retire_page(request: Request[Any, Any, Any], device: Any, errors: dict[str, str] | None = None) -> Template:
    return _confirm(
        request,
        heading=f"Retire {device.asset_tag} for good?",
        consequence=(
            f"{device.asset_tag} leaves service permanently: it can never be inspected or assigned to a persona "
            "again. This cannot be undone."
        ),
        subject=f"{device.asset_tag}: {device.kind}, serial {device.serial}, {device.status}",
        action=f"/equipment/{device.id}/retire",
        button=f"Retire {device.asset_tag}",
        back=f"/equipment#device-{device.id}",
        errors=errors,
        status=409 if errors else 200,
    )


@post("/equipment/{equipment_id:uuid}/retire", opt={"permission": P.EQUIPMENT_MANAGE})
async def equipment_retire(
    request: Request[Any, Any, Any], equipment_id: FromPath[UUID], db: DB, ctx: Ctx
) -> Response[Any]:
    try:
        await attempt(db, lambda: equipment.retire(db, ctx, equipment_id))
    except FormErrors as exc:
        return _retire_page(request, await equipment.get(db, ctx, equipment_id), {"": " ".join(exc.errors.values())})
    return see_other("/equipment?done=retired")


async def _equipment_waiting(db: DB, runtime: Runtime, ctx: RequestContext) -> Any:
    return await equipment.waiting(db, runtime, ctx) if ctx.me.can(P.EQUIPMENT_MANAGE) else None


# Platforms and terms of service


async def _platforms_page(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    ctx: RequestContext,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    done: str | None = None,
    reviewed: UUID | None = None,
) -> Template:
    listed = await platforms.list_all(db, runtime, ctx)
    # Codenames the current reviews stop: for legal, who weighs the catalog (codenames only).
    blocked = await gate.blocked_by_terms(db, runtime, ctx) if ctx.me.can(P.TOS_REVIEW) else {}
    return page(
        request,
        "platforms.html",
        status=status,
        title="Platforms",
        items=listed.items,
        history=await platforms.history(db, runtime, ctx),
        blocked=blocked,
        tos_questions=TOS_QUESTIONS,
        reviewed=next((p for p in listed.items if p.id == reviewed), None),
        today=ctx.now.date(),
        errors=errors or {},
        v=values or {},
        done=DONE.get(done or ""),
    )


@get("/platforms", opt={"permission": P.PLATFORM_READ})
async def platform_list(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    done: FromQuery[str | None] = None,
    reviewed: FromQuery[UUID | None] = None,
) -> Template:
    return await _platforms_page(request, db, runtime, ctx, done=done, reviewed=reviewed)


@post("/platforms", opt={"permission": P.PLATFORM_MANAGE})
async def platform_add(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    form = _values(await request.form())
    try:
        data = convert(
            given(name=text(form, "name"), url=text(form, "url"), tos_url=text(form, "tos_url")), PlatformCreate
        )
        await attempt(db, lambda: platforms.create(db, ctx, data))
    except FormErrors as exc:
        return await _platforms_page(request, db, runtime, ctx, errors=exc.errors, values=form, status=exc.status)
    return see_other("/platforms?done=platform")


@post("/platforms/{platform_id:uuid}/tos-reviews", opt={"permission": P.TOS_REVIEW})
async def platform_review(
    request: Request[Any, Any, Any], platform_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    form = _values(await request.form())
    prefix = f"{platform_id}."
    fields = given(
        reviewed_on=text(form, prefix + "reviewed_on"),
        tos_version=text(form, prefix + "tos_version"),
        risk=text(form, prefix + "risk"),
        notes=text(form, prefix + "notes"),
    )
    try:
        data = convert(fields | _answers(form, TOS_QUESTIONS, inputs=prefix, errors=prefix), TosReviewIn)
        await attempt(db, lambda: platforms.review_terms(db, runtime, ctx, platform_id, data))
    except FormErrors as exc:
        errors = {k if k.startswith(prefix) else prefix + (k or "notes"): m for k, m in exc.errors.items()}
        return await _platforms_page(request, db, runtime, ctx, errors=errors, values=form, status=exc.status)
    return see_other(f"/platforms?reviewed={platform_id}#platform-{platform_id}")


async def _platforms_waiting(db: DB, runtime: Runtime, ctx: RequestContext) -> Any:
    return await platforms.waiting(db, runtime, ctx) if ctx.me.can(P.TOS_REVIEW) else None


async def waiting(db: DB, runtime: Runtime, ctx: RequestContext) -> dict[str, Any]:
    """What waits for the equipment officer and for legal, for their overview
    (`_offices_waiting.html`); None for a role that has none of it."""
    return {
        "equipment": await _equipment_waiting(db, runtime, ctx),
        "platforms": await _platforms_waiting(db, runtime, ctx),
    }


# Audit


@dataclass(frozen=True)
class AuditView:
    """The filters as the page's form holds them (text), and as the log takes them."""

    form: dict[str, str]
    query: AuditFilter
    errors: dict[str, str]

    def link(self, **extra: str) -> str:
        """The query string of this view (with a cursor, or for the export)."""
        return urlencode({k: v for k, v in (self.form | extra).items() if v})


def _day(value: str | None, name: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None


AUDIT_FIELDS = ("action", "actor", "codename", "case_number", "from", "to")


def _audit_view(zone: tzinfo, params: dict[str, str | None]) -> AuditView:
    """From the page's fields: dates are whole days in the department's zone; an unknown
    action or a bad date is named beside its field, never a 500."""
    form = {k: (v or "").strip() for k, v in params.items()}
    errors: dict[str, str] = {}
    action = None
    if form["action"]:
        try:
            action = Action(form["action"])
        except ValueError:
            errors["action"] = "Choose one of the actions."
    start, end = _day(form["from"], "from", errors), _day(form["to"], "to", errors)
    if start and end and end < start:
        errors["to"] = "The last day must not be before the first."
    for name, limit in (("actor", 63), ("codename", 40), ("case_number", 40)):
        if len(form[name]) > limit:
            errors[name] = f"This is too long (at most {limit} characters)."
    if errors:
        return AuditView(form, AuditFilter(), errors)
    query = AuditFilter(
        action=action,
        actor=form["actor"] or None,
        codename=form["codename"] or None,
        case_number=form["case_number"] or None,
        start=datetime.combine(start, time.min, zone) if start else None,
        end=datetime.combine(end, time.max, zone) if end else None,
    )
    return AuditView(form, query, errors)


async def _audit_page(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: Runtime,
    view: AuditView,
    cursor: str | None,
    verified: Any,
) -> Template:
    zone = runtime.policy.department.zone
    events = None if view.errors else await audit_log.page(db, cursor, AUDIT_PAGE, view.query)
    return page(
        request,
        "audit.html",
        status=400 if view.errors else 200,
        title="Audit log",
        events=events,
        view=view,
        errors=view.errors,
        actions=list(Action),
        people=sorted(await users.list_users(db), key=lambda u: u.display_name.casefold()),
        zone=runtime.policy.department.time_zone,
        local=lambda at: at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        readable=audit_log.readable,
        verified=verified,
    )


DayParam = Annotated[str | None, QueryParameter(name="from", max_length=40)]
DayEndParam = Annotated[str | None, QueryParameter(name="to", max_length=40)]


def provide_view(
    runtime: RuntimeDep,
    action: FromQuery[str | None] = None,
    actor: FromQuery[str | None] = None,
    codename: FromQuery[str | None] = None,
    case_number: FromQuery[str | None] = None,
    start: DayParam = None,
    end: DayEndParam = None,
) -> AuditView:
    """The log's filters as the page's form sends them (the page and its export share them)."""
    params = {"action": action, "actor": actor, "codename": codename, "case_number": case_number}
    return _audit_view(runtime.policy.department.zone, params | {"from": start, "to": end})


VIEW = {"view": Provide(provide_view, sync_to_thread=False)}


@get("/audit", opt={"permission": P.AUDIT_READ}, dependencies=VIEW)
async def audit_log_page(
    request: Request[Any, Any, Any],
    db: DB,
    runtime: RuntimeDep,
    view: NamedDependency[AuditView],
    cursor: FromQuery[str | None] = None,
) -> Response[Any]:
    """The log filtered by actor, action, codename, case number and days (in the department's
    zone), 50 events a page, newest first; `from` and `to` are days as YYYY-MM-DD."""
    return await _audit_page(request, db, runtime, view, cursor, None)


@get("/audit.csv", opt={"permission": P.AUDIT_READ}, dependencies=VIEW)
async def audit_export(db: DB, runtime: RuntimeDep, ctx: Ctx, view: NamedDependency[AuditView]) -> Response[str]:
    """The filtered view as CSV (as `GET /api/audit/export`), audited as an export."""
    if view.errors:
        raise BadRequest(" ".join(view.errors.values()))
    return csv_answer(await audit_log.export(db, ctx, view.query, runtime.policy.department.zone))


@post("/audit/verify", opt={"permission": P.AUDIT_READ})
async def audit_verify(request: Request[Any, Any, Any], autocommit: Autocommit, runtime: RuntimeDep) -> Template:
    """Recompute the whole chain (as `GET /api/audit/verify`), then show the newest events. On
    the request's connection outside a transaction, as verification needs (it seals first, then
    reads one snapshot); the page only reads."""
    verified = await audit.verify(autocommit)
    view = _audit_view(runtime.policy.department.zone, dict.fromkeys(AUDIT_FIELDS))
    return await _audit_page(request, autocommit, runtime, view, None, verified)


@get("/central-record", opt={"permission": P.CENTRAL_RECORD_READ})
async def central_record(request: Request[Any, Any, Any], db: DB, ctx: Ctx) -> Template:
    record = await records.central_record(db, ctx)
    return page(request, "central_record.html", title="Central record", record=record)


@get("/central-record.csv", opt={"permission": P.CENTRAL_RECORD_READ})
async def central_record_export(db: DB, ctx: Ctx) -> Response[str]:
    """For inspectors: the same record as `GET /api/central-record` with Accept: text/csv."""
    record = await records.central_record(db, ctx)
    return Response(
        central_record_csv(record),
        media_type="text/csv",
        headers={"content-disposition": 'attachment; filename="central-record.csv"'},
    )


# Users


async def _users_page(
    request: Request[Any, Any, Any],
    db: DB,
    ctx: RequestContext,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    done: str | None = None,
) -> Template:
    return page(
        request,
        "users.html",
        status=status,
        title="Users",
        items=await users.list_users(db),
        # Risky steps are offered on others' accounts only (the service refuses them on one's own).
        administers=lambda user_id: users.administers(ctx, user_id),
        roles=ROLES,
        errors=errors or {},
        v=values or {},
        done=DONE.get(done or ""),
    )


@get("/users", opt={"permission": P.USER_MANAGE})
async def user_list(request: Request[Any, Any, Any], db: DB, ctx: Ctx, done: FromQuery[str | None] = None) -> Template:
    return await _users_page(request, db, ctx, done=done)


@post("/users", opt={"permission": P.USER_MANAGE})
async def user_create(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    form = await request.form()
    values = _values(form)
    fields = given(
        username=text(form, "username"),
        display_name=text(form, "display_name"),
        password=form.get("password") or None,
    ) | {"roles": [r for r in form.getall("roles", []) if isinstance(r, str)]}
    try:
        data = convert(fields, UserCreate)
        # On the page's connection: a page never waits for a second one while it holds one.
        _, grant = await attempt(db, lambda: users.create(runtime, ctx, data, held=db))
    except FormErrors as exc:
        values.pop("password", None)
        values["roles"] = fields["roles"]
        return await _users_page(request, db, ctx, errors=exc.errors, values=values, status=exc.status)
    return see_other("/users?done=created" + ("_pending" if grant else ""))


@post("/users/{user_id:uuid}", opt={"permission": P.USER_MANAGE})
async def user_update(
    request: Request[Any, Any, Any], user_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    """Display name and roles; disabling and enabling are steps of their own (with a reason)."""
    form = await request.form()
    fields = {"roles": [r for r in form.getall("roles", []) if isinstance(r, str)]} | given(
        display_name=text(form, "display_name")
    )
    try:
        data = convert(fields, UserPatch)
        _, grant = await attempt(db, lambda: users.update(db, runtime, ctx, user_id, data))
    except FormErrors as exc:
        errors = {f"{user_id}.{k or 'roles'}": m for k, m in exc.errors.items()}
        return await _users_page(request, db, ctx, errors=errors, status=exc.status)
    return see_other("/users?done=updated" + ("_pending" if grant else ""))


@dataclass(frozen=True)
class AccountStep:
    """A risky step on someone else's account: what the confirmation page says, and where it lands."""

    heading: str
    consequence: str
    button: str
    done: str
    password: bool = False


ACCOUNT_STEPS = {
    "unlock": AccountStep(
        "Unlock {name}'s account?",
        "The lock after repeated failed sign-ins is lifted now: anyone holding {name}'s password and "
        "authenticator can try again at once. Unlock only once you know the failures were {name}'s own.",
        "Unlock the account",
        "unlocked",
    ),
    "reset-mfa": AccountStep(
        "Reset {name}'s authenticator?",
        "{name}'s authenticator and recovery codes stop working now and their sessions end. They enroll a new "
        "authenticator only once a second person confirms the reset and hands them a one-time code.",
        "Reset the authenticator",
        "mfa",
    ),
    "disable": AccountStep(
        "Disable {name}'s account?",
        "{name} can no longer sign in, and every session of theirs ends now. Their records stay.",
        "Disable the account",
        "disabled",
    ),
    "enable": AccountStep(
        "Enable {name}'s account?",
        "{name} can sign in again with their password and authenticator.",
        "Enable the account",
        "enabled",
    ),
    "reset-password": AccountStep(
        "Set a temporary password for {name}?",
        "Their sessions end now; the temporary password signs in once, to be replaced by one of their own. "
        "Their authenticator stays, so the password alone gives no one access.",
        "Set the temporary password",
        "password",
        password=True,
    ),
}


async def _account(db: DB, ctx: RequestContext, user_id: UUID, step: str) -> tuple[UserOut, AccountStep]:
    found = ACCOUNT_STEPS.get(step)
    if found is None:
        raise NotFound("No such step.")
    user = await users.get(db, user_id)
    if not users.administers(ctx, user_id):
        raise Forbidden("This is your own account: ask another administrator.")
    return user, found


def _account_page(
    request: Request[Any, Any, Any],
    user: UserOut,
    step: str,
    found: AccountStep,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    name = user.display_name
    return _confirm(
        request,
        heading=found.heading.format(name=name),
        consequence=found.consequence.format(name=name),
        subject=f"{name}, account {user.username} ({', '.join(r.replace('_', ' ') for r in user.roles) or 'no roles'})",
        action=f"/users/{user.id}/{step}",
        button=found.button,
        back="/users",
        reason=True,
        password=found.password,
        errors=errors,
        values=values,
        status=status,
    )


@get("/users/{user_id:uuid}/{step:str}", opt={"permission": P.USER_MANAGE})
async def account_step_form(
    request: Request[Any, Any, Any], user_id: FromPath[UUID], step: FromPath[str], db: DB, ctx: Ctx
) -> Template:
    user, found = await _account(db, ctx, user_id, step)
    return _account_page(request, user, step, found)


@post("/users/{user_id:uuid}/{step:str}", opt={"permission": P.USER_MANAGE})
async def account_step(
    request: Request[Any, Any, Any], user_id: FromPath[UUID], step: FromPath[str], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    """The step, once confirmed, with its reason (required here; the audit event keeps it)."""
    user, found = await _account(db, ctx, user_id, step)
    form = _values(await request.form())
    reason = text(form, "reason")
    try:
        if reason is None or len(reason) < 3:
            raise FormErrors(
                {"reason": "Give the reason for this step (at least 3 characters); the audit log keeps it."}
            )
        await attempt(db, lambda: _take(db, runtime, ctx, user_id, step, reason, form))
    except FormErrors as exc:
        errors = {k or "reason": m for k, m in exc.errors.items()}
        return _account_page(request, user, step, found, errors, {"reason": reason}, exc.status)
    return see_other(f"/users?done={found.done}")


async def _take(
    db: DB, runtime: Runtime, ctx: RequestContext, user_id: UUID, step: str, reason: str, form: dict[str, Any]
) -> Any:
    if step == "unlock":
        return await users.unlock(db, ctx, user_id, reason)
    if step == "reset-mfa":
        return await users.reset_mfa(db, ctx, user_id, reason)
    if step == "reset-password":
        data = convert({"password": form.get("password") or "", "reason": reason}, PasswordReset)
        return await users.reset_password(runtime, ctx, user_id, data, held=db)
    return await users.update(db, runtime, ctx, user_id, UserPatch(active=step == "enable", reason=reason))


routes: list[ControllerRouterHandler] = [
    equipment_list,
    equipment_register,
    equipment_inspect,
    equipment_retire_form,
    equipment_retire,
    platform_list,
    platform_add,
    platform_review,
    audit_log_page,
    audit_export,
    audit_verify,
    central_record,
    central_record_export,
    user_list,
    user_create,
    user_update,
    account_step_form,
    account_step,
]

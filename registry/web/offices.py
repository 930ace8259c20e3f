"""Pages for the offices beside the investigators: the equipment officer's inventory and
inspections, legal's platform catalog and terms-of-service reviews, the auditor's log, chain
verification and central record, and the administrator's accounts."""

from __future__ import annotations

from typing import Any, get_args
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.audit import service as audit
from registry.db.pool import DB
from registry.equipment import service as equipment
from registry.equipment.schemas import EquipmentCreate, InspectionIn
from registry.permissions import Permission
from registry.personas import records
from registry.personas.routes import central_record_csv
from registry.platforms import service as platforms
from registry.platforms.schemas import PlatformCreate, TosReviewIn
from registry.policy import Role
from registry.runtime import Ctx, RequestContext, Runtime, RuntimeDep
from registry.users import service as users
from registry.users.schemas import UserCreate, UserPatch
from registry.web.forms import FormErrors, attempt, checked, convert, given, text
from registry.web.render import page, see_other

P = Permission
ROLES: tuple[str, ...] = get_args(Role)
DONE = {
    "registered": "Device registered. Record its isolation inspection before it is assigned.",
    "inspected": "Inspection recorded.",
    "retired": "Device retired.",
    "platform": "Platform added to the catalog.",
    "reviewed": "Terms-of-service review recorded.",
    "created": "Account created. The user enrolls an authenticator at first sign-in.",
    "updated": "Account updated; the change applies from the user's next request.",
    "unlocked": "Account unlocked.",
    "mfa": "Authenticator reset; the user enrolls a new one at next sign-in.",
}


def _values(form: Any) -> dict[str, Any]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


# Equipment


async def _equipment_page(
    request: Request[Any, Any, Any],
    db: DB,
    ctx: RequestContext,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    done: FromQuery[str | None] = None,
) -> Template:
    listed = await equipment.list_equipment(db, ctx, None)
    return page(
        request,
        "equipment.html",
        status=status,
        title="Equipment",
        items=listed.items,
        errors=errors or {},
        v=values or {},
        done=DONE.get(done or ""),
    )


@get("/equipment", opt={"permission": P.EQUIPMENT_READ})
async def equipment_list(
    request: Request[Any, Any, Any], db: DB, ctx: Ctx, done: FromQuery[str | None] = None
) -> Template:
    return await _equipment_page(request, db, ctx, done=done)


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


@post("/equipment/{equipment_id:uuid}/inspections", opt={"permission": P.EQUIPMENT_MANAGE})
async def equipment_inspect(
    request: Request[Any, Any, Any], equipment_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    form = _values(await request.form())
    fields = {
        "on_department_network": checked(form, "on_department_network"),
        "department_identifiers_present": checked(form, "department_identifiers_present"),
        "attributable_connection": checked(form, "attributable_connection"),
    } | given(notes=text(form, "notes"))
    try:
        data = convert(fields, InspectionIn)
        await attempt(db, lambda: equipment.inspect(db, runtime, ctx, equipment_id, data))
    except FormErrors as exc:
        errors = {f"{equipment_id}.{k or 'notes'}": m for k, m in exc.errors.items()}
        return await _equipment_page(request, db, ctx, errors=errors, status=exc.status)
    return see_other("/equipment?done=inspected")


@post("/equipment/{equipment_id:uuid}/retire", opt={"permission": P.EQUIPMENT_MANAGE})
async def equipment_retire(
    request: Request[Any, Any, Any], equipment_id: FromPath[UUID], db: DB, ctx: Ctx
) -> Response[Any]:
    try:
        await attempt(db, lambda: equipment.retire(db, ctx, equipment_id))
    except FormErrors as exc:
        errors = {f"{equipment_id}.retire": m for m in exc.errors.values()}
        return await _equipment_page(request, db, ctx, errors=errors, status=exc.status)
    return see_other("/equipment?done=retired")


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
    done: FromQuery[str | None] = None,
) -> Template:
    listed = await platforms.list_all(db, runtime, ctx)
    return page(
        request,
        "platforms.html",
        status=status,
        title="Platforms",
        items=listed.items,
        today=ctx.now.date(),
        errors=errors or {},
        v=values or {},
        done=DONE.get(done or ""),
    )


@get("/platforms", opt={"permission": P.PLATFORM_READ})
async def platform_list(
    request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx, done: FromQuery[str | None] = None
) -> Template:
    return await _platforms_page(request, db, runtime, ctx, done=done)


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
    ) | {
        "prohibits_false_identity": checked(form, prefix + "prohibits_false_identity"),
        "prohibits_automation": checked(form, prefix + "prohibits_automation"),
    }
    try:
        data = convert(fields, TosReviewIn)
        await attempt(db, lambda: platforms.review_terms(db, runtime, ctx, platform_id, data))
    except FormErrors as exc:
        errors = {prefix + (k or "notes"): m for k, m in exc.errors.items()}
        return await _platforms_page(request, db, runtime, ctx, errors=errors, values=form, status=exc.status)
    return see_other("/platforms?done=reviewed")


# Audit


@get("/audit", opt={"permission": P.AUDIT_READ})
async def audit_log(request: Request[Any, Any, Any], db: DB, cursor: FromQuery[str | None] = None) -> Response[Any]:
    events = await audit.page(db, cursor, 100)
    return page(request, "audit.html", title="Audit log", events=events, verified=None)


@post("/audit/verify", opt={"permission": P.AUDIT_READ})
async def audit_verify(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep) -> Template:
    """Recompute the whole chain (as `GET /api/audit/verify`), then show the newest events."""
    async with runtime.db_pool().acquire() as conn:
        verified = await audit.verify(conn)
    events = await audit.page(db, None, 100)
    return page(request, "audit.html", title="Audit log", events=events, verified=verified)


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
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    done: FromQuery[str | None] = None,
) -> Template:
    return page(
        request,
        "users.html",
        status=status,
        title="Users",
        items=await users.list_users(db),
        roles=ROLES,
        errors=errors or {},
        v=values or {},
        done=DONE.get(done or ""),
    )


@get("/users", opt={"permission": P.USER_MANAGE})
async def user_list(request: Request[Any, Any, Any], db: DB, done: FromQuery[str | None] = None) -> Template:
    return await _users_page(request, db, done=done)


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
        # The service hashes with no connection held and writes in a transaction of its own.
        await attempt(db, lambda: users.create(runtime, ctx, data))
    except FormErrors as exc:
        values.pop("password", None)
        values["roles"] = fields["roles"]
        return await _users_page(request, db, errors=exc.errors, values=values, status=exc.status)
    return see_other("/users?done=created")


@post("/users/{user_id:uuid}", opt={"permission": P.USER_MANAGE})
async def user_update(
    request: Request[Any, Any, Any], user_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    form = await request.form()
    fields = {
        "roles": [r for r in form.getall("roles", []) if isinstance(r, str)],
        "active": checked(form, "active"),
    } | given(display_name=text(form, "display_name"))
    try:
        data = convert(fields, UserPatch)
        await attempt(db, lambda: users.update(db, runtime, ctx, user_id, data))
    except FormErrors as exc:
        errors = {f"{user_id}.{k or 'roles'}": m for k, m in exc.errors.items()}
        return await _users_page(request, db, errors=errors, status=exc.status)
    return see_other("/users?done=updated")


@post("/users/{user_id:uuid}/unlock", opt={"permission": P.USER_MANAGE})
async def user_unlock(user_id: FromPath[UUID], db: DB, ctx: Ctx) -> Response[Any]:
    await users.unlock(db, ctx, user_id)
    return see_other("/users?done=unlocked")


@post("/users/{user_id:uuid}/reset-mfa", opt={"permission": P.USER_MANAGE})
async def user_reset_mfa(user_id: FromPath[UUID], db: DB, ctx: Ctx) -> Response[Any]:
    await users.reset_mfa(db, ctx, user_id)
    return see_other("/users?done=mfa")


routes: list[ControllerRouterHandler] = [
    equipment_list,
    equipment_register,
    equipment_inspect,
    equipment_retire,
    platform_list,
    platform_add,
    platform_review,
    audit_log,
    audit_verify,
    central_record,
    central_record_export,
    user_list,
    user_create,
    user_update,
    user_unlock,
    user_reset_mfa,
]

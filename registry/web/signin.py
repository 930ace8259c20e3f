"""Sign-in as pages: the system-use notice, password, then the authenticator code; first
enrollment with a QR code and recovery codes shown once; sign-out. The same auth service and
session cookie as the API."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.auth import service, sessions
from registry.db.pool import DB
from registry.errors import Conflict, DomainError, NotAuthenticated
from registry.permissions import Permission
from registry.runtime import Ctx, RequestContext, RuntimeDep
from registry.web.forms import FormErrors, attempt, refusal, text
from registry.web.render import SIGN_IN, local_path, page, see_other

PUBLIC = {"permission": Permission.PUBLIC}
PENDING = {"permission": Permission.MFA_PENDING}
SELF = {"permission": Permission.SELF}
CHANGE_PAGE = "/account/password"


def _notice(runtime: RuntimeDep) -> dict[str, Any]:
    department = runtime.policy.department
    return {"department": department.name, "notice": department.system_use_notice.strip()}


def _back_to(value: Any) -> str | None:
    """Where to go once signed in: a local path the sign-in was asked from, or nowhere."""
    return local_path(value) if isinstance(value, str) else None


def _with_next(path: str, back_to: str | None) -> str:
    return f"{path}?{urlencode({'next': back_to})}" if back_to else path


@get("/login", opt=PUBLIC)
async def login_alias() -> Response[Any]:
    """The address people guess for signing in."""
    return see_other(SIGN_IN)


@get(SIGN_IN, opt=PUBLIC)
async def sign_in_form(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    ctx: Ctx,
    ended: FromQuery[bool] = False,
    signed_out: FromQuery[bool] = False,
    back_to: Annotated[str | None, QueryParameter(name="next")] = None,
) -> Response[Any]:
    target = _back_to(back_to)
    if ctx.user is not None and ctx.user.stage == "full":
        return see_other(target or "/")
    return page(
        request,
        "sign_in.html",
        ended=ended,
        signed_out=signed_out,
        errors={},
        username="",
        back_to=target,
        **_notice(runtime),
    )


@post(SIGN_IN, opt=PUBLIC)
async def sign_in(request: Request[Any, Any, Any], runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    form = await request.form()
    back_to = _back_to(form.get("next"))
    username, password = text(form, "username") or "", form.get("password") or ""
    errors = {}
    if not username:
        errors["username"] = "Enter your username."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - a message, not a password
    if not errors:
        try:
            token, mfa = await service.login(runtime, ctx, username[:64], str(password)[:1024])
        except NotAuthenticated as exc:
            errors[""] = exc.detail
        else:
            response = see_other(_with_next(f"{SIGN_IN}/{'code' if mfa == 'verify' else 'enroll'}", back_to))
            response.set_cookie(sessions.cookie(runtime, token))
            return response
    context = _notice(runtime) | {"ended": False, "signed_out": False, "back_to": back_to}
    return page(
        request, "sign_in.html", status=401 if "" in errors else 400, errors=errors, username=username, **context
    )


@get(f"{SIGN_IN}/code", opt=PENDING)
async def code_form(
    request: Request[Any, Any, Any], back_to: Annotated[str | None, QueryParameter(name="next")] = None
) -> Template:
    return page(request, "sign_in_code.html", errors={}, back_to=_back_to(back_to))


@post(f"{SIGN_IN}/code", opt=PENDING)
async def code(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    form = await request.form()
    back_to = _back_to(form.get("next"))
    try:
        token = await attempt(db, lambda: service.verify_mfa(db, runtime, ctx, ctx.me, text(form, "totp_code") or ""))
    except FormErrors as exc:
        return page(request, "sign_in_code.html", status=exc.status, errors=exc.errors, back_to=back_to)
    response = see_other(_after_sign_in(ctx, back_to))
    response.set_cookie(sessions.cookie(runtime, token))
    return response


def _after_sign_in(ctx: RequestContext, back_to: str | None = None) -> str:
    """A temporary password is replaced before anything else; then the page asked for."""
    return CHANGE_PAGE if ctx.me.password_change_required else back_to or "/"


@get(f"{SIGN_IN}/recovery", opt=PENDING)
async def recovery_form(
    request: Request[Any, Any, Any], back_to: Annotated[str | None, QueryParameter(name="next")] = None
) -> Template:
    return page(request, "sign_in_recovery.html", errors={}, back_to=_back_to(back_to))


@post(f"{SIGN_IN}/recovery", opt=PENDING)
async def recovery(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    form = await request.form()
    given = text(form, "recovery_code") or ""
    back_to = _back_to(form.get("next"))
    try:
        token = await attempt(db, lambda: service.use_recovery_code(db, runtime, ctx, ctx.me, given))
    except FormErrors as exc:
        errors = {"recovery_code": next(iter(exc.errors.values()))}
        return page(request, "sign_in_recovery.html", status=exc.status, errors=errors, back_to=back_to)
    response = see_other(_after_sign_in(ctx, back_to))
    response.set_cookie(sessions.cookie(runtime, token))
    return response


@get(f"{SIGN_IN}/enroll", opt=PENDING)
async def enroll_form(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    """A new secret each time the page is shown; only the one confirmed with a code counts."""
    try:
        enrollment = await service.begin_enrollment(db, runtime, ctx, ctx.me)
    except Conflict:
        return see_other(f"{SIGN_IN}/code")
    return page(
        request, "sign_in_enroll.html", enrollment=enrollment, needs_code=enrollment.enrollment_code_required, errors={}
    )


@post(f"{SIGN_IN}/enroll", opt=PENDING)
async def enroll(request: Request[Any, Any, Any], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    form = await request.form()
    given = text(form, "enrollment_code")
    try:
        token, codes = await attempt(
            db, lambda: service.confirm_enrollment(db, runtime, ctx, ctx.me, text(form, "totp_code") or "", given)
        )
    except FormErrors as exc:
        # The pending secret stays the same: show the same QR code again with the error.
        needs_code = given is not None or "enrollment_code" in exc.errors
        return page(
            request, "sign_in_enroll.html", status=exc.status, enrollment=None, needs_code=needs_code, errors=exc.errors
        )
    response = page(request, "recovery_codes.html", codes=codes, next=_after_sign_in(ctx))
    response.set_cookie(sessions.cookie(runtime, token))
    return response


@get(CHANGE_PAGE, opt=SELF)
async def password_form(request: Request[Any, Any, Any], done: FromQuery[bool] = False) -> Template:
    return page(request, "password.html", errors={}, done=done)


@post(CHANGE_PAGE, opt=SELF)
async def password_change(request: Request[Any, Any, Any], runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    form = await request.form()
    current, new = str(form.get("current_password") or ""), str(form.get("new_password") or "")
    errors, status = {}, 400
    if not current:
        errors["current_password"] = "Enter your current password."  # noqa: S105 - a message
    if not new:
        errors["new_password"] = "Enter a new password."  # noqa: S105 - a message
    if not errors:
        try:
            await service.change_password(
                runtime, ctx, ctx.me, current[:1024], new[:1024], text(form, "totp_code") or ""
            )
        except DomainError as exc:
            errors, status = refusal(exc).errors, exc.status
        else:
            return see_other(f"{CHANGE_PAGE}?done=1")
    return page(request, "password.html", status=status, errors=errors)


@post("/sign-out", opt=PUBLIC)
async def sign_out(db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[Any]:
    await service.logout(db, ctx)
    response = see_other(f"{SIGN_IN}?signed_out=1")
    response.set_cookie(sessions.expired_cookie(runtime))
    return response


routes: list[ControllerRouterHandler] = [
    login_alias,
    sign_in_form,
    sign_in,
    code_form,
    code,
    recovery_form,
    recovery,
    enroll_form,
    enroll,
    password_form,
    password_change,
    sign_out,
]

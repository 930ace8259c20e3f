"""Sign-in over HTTP: notice, password, MFA (verify, enroll, recovery), logout, me."""

from __future__ import annotations

from litestar import Response, Router, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from litestar.types import ControllerRouterHandler

from registry.auth import service, sessions
from registry.auth.schemas import (
    CodeIn,
    EnrollConfirmIn,
    EnrollOut,
    LoginIn,
    LoginOut,
    MeOut,
    NoticeOut,
    PasswordChangeIn,
    RecoveryCodesOut,
)
from registry.db.pool import DB
from registry.permissions import Permission
from registry.runtime import Ctx, Me, RuntimeDep


@get("/notice", opt={"permission": Permission.PUBLIC})
async def notice(runtime: RuntimeDep) -> NoticeOut:
    """The system-use notice (CJIS AC-8) to show before sign-in."""
    department = runtime.policy.department
    return NoticeOut(department=department.name, notice=department.system_use_notice.strip())


@post("/login", status_code=HTTP_200_OK, opt={"permission": Permission.PUBLIC})
async def login(data: JSONBody[LoginIn], runtime: RuntimeDep, ctx: Ctx) -> Response[LoginOut]:
    """Password step. Answers which MFA step follows and sets a short-lived session cookie good
    only for that step."""
    token, mfa = await service.login(runtime, ctx, data.username, data.password)
    return Response(LoginOut(mfa=mfa), cookies=[sessions.cookie(runtime, token)])  # type: ignore[arg-type]


@post("/mfa", status_code=HTTP_200_OK, opt={"permission": Permission.MFA_PENDING})
async def mfa(data: JSONBody[CodeIn], db: DB, runtime: RuntimeDep, ctx: Ctx, user: Me) -> Response[None]:
    token = await service.verify_mfa(db, runtime, ctx, user, data.code)
    return Response(None, status_code=HTTP_200_OK, cookies=[sessions.cookie(runtime, token)])


@post("/mfa/enroll", status_code=HTTP_200_OK, opt={"permission": Permission.MFA_PENDING})
async def enroll(db: DB, runtime: RuntimeDep, ctx: Ctx, user: Me) -> EnrollOut:
    """Start enrolling an authenticator: a new secret, as text, an otpauth URI and a QR code."""
    return await service.begin_enrollment(db, runtime, ctx, user)


@post("/mfa/enroll/confirm", status_code=HTTP_200_OK, opt={"permission": Permission.MFA_PENDING})
async def enroll_confirm(
    data: JSONBody[EnrollConfirmIn], db: DB, runtime: RuntimeDep, ctx: Ctx, user: Me
) -> Response[RecoveryCodesOut]:
    """Confirm enrollment with a first code (and, after a reset or for a role that reads
    identities, the one-time enrollment code a second person gave). Answers the recovery
    codes, shown this once."""
    token, codes = await service.confirm_enrollment(db, runtime, ctx, user, data.code, data.enrollment_code)
    return Response(RecoveryCodesOut(recovery_codes=codes), cookies=[sessions.cookie(runtime, token)])


@post("/recovery", status_code=HTTP_200_OK, opt={"permission": Permission.MFA_PENDING})
async def recovery(data: JSONBody[CodeIn], db: DB, runtime: RuntimeDep, ctx: Ctx, user: Me) -> Response[None]:
    token = await service.use_recovery_code(db, runtime, ctx, user, data.code)
    return Response(None, status_code=HTTP_200_OK, cookies=[sessions.cookie(runtime, token)])


@post("/logout", status_code=HTTP_204_NO_CONTENT, opt={"permission": Permission.PUBLIC})
async def logout(db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[None]:
    await service.logout(db, ctx)
    return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[sessions.expired_cookie(runtime)])


@get("/api/me", opt={"permission": Permission.SELF})
async def me(user: Me) -> MeOut:
    return MeOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=list(user.roles),
        permissions=sorted(p.value for p in user.permissions),
        password_change_required=user.password_change_required,
    )


@post("/api/me/password", status_code=HTTP_204_NO_CONTENT, opt={"permission": Permission.SELF})
async def change_password(data: JSONBody[PasswordChangeIn], runtime: RuntimeDep, ctx: Ctx, user: Me) -> None:
    """Replace your password (a temporary one included) with your current one and a fresh code;
    your other sessions end."""
    await service.change_password(runtime, ctx, user, data.current_password, data.new_password, data.totp_code)


auth_router = Router(
    path="/api/auth",
    route_handlers=[notice, login, mfa, enroll, enroll_confirm, recovery, logout],
    tags=["auth"],
)
routes: list[ControllerRouterHandler] = [auth_router, me, change_password]

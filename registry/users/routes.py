from __future__ import annotations

from uuid import UUID

from litestar import Response, Router, get, patch, post, put
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.permissions import Permission
from registry.runtime import Ctx, RuntimeDep
from registry.units.schemas import UserUnits
from registry.users import grants, service
from registry.users.schemas import (
    AdminAction,
    Confirmation,
    EnrollmentCode,
    GrantConfirmed,
    OwnEmail,
    PasswordReset,
    RoleGrantList,
    RoleGrantOut,
    UserCreate,
    UserList,
    UserOut,
    UserPatch,
)

MANAGE = {"permission": Permission.USER_MANAGE}
# A role that reads identities was proposed, not granted: the pending grant.
PROPOSED = {
    HTTP_202_ACCEPTED: ResponseSpec(
        RoleGrantOut, description="A role that reads identities is proposed: the pending grant, for a second person"
    )
}
CONFIRM = {"permission": Permission.USER_CONFIRM}


def _answer(user: UserOut, grant: RoleGrantOut | None, done: int) -> Response[UserOut | RoleGrantOut]:
    """A role that reads identities was proposed, not granted: 202 and the pending grant."""
    if grant is not None:
        return Response(grant, status_code=HTTP_202_ACCEPTED)
    return Response(user, status_code=done)


@post(
    "/",
    status_code=HTTP_201_CREATED,
    opt=MANAGE,
    responses={HTTP_201_CREATED: ResponseSpec(UserOut, description="The account, created"), **PROPOSED},
)
async def create_user(data: JSONBody[UserCreate], runtime: RuntimeDep, ctx: Ctx) -> Response[UserOut | RoleGrantOut]:
    """Create an account with a temporary password. Roles that read identities are proposed: 202
    with the pending grant, which a second person confirms (POST /api/role-grants/{id}/confirm).
    No connection is held while the password is hashed; the account is written after."""
    return _answer(*await service.create(runtime, ctx, data), HTTP_201_CREATED)


@get("/", opt=MANAGE)
async def list_users(db: DB) -> UserList:
    return UserList(items=await service.list_users(db))


@patch(
    "/{user_id:uuid}",
    status_code=HTTP_200_OK,
    opt=MANAGE,
    responses={HTTP_200_OK: ResponseSpec(UserOut, description="The account, changed"), **PROPOSED},
)
async def update_user(
    user_id: FromPath[UUID], data: JSONBody[UserPatch], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> Response[UserOut | RoleGrantOut]:
    """Change roles, display name or active; a change applies from the user's next request. New
    roles that read identities are proposed: 202 with the pending grant."""
    return _answer(*await service.update(db, runtime, ctx, user_id, data), HTTP_200_OK)


@put("/{user_id:uuid}/units", status_code=HTTP_200_OK, opt={"permission": Permission.UNIT_MANAGE})
async def set_units(user_id: FromPath[UUID], data: JSONBody[UserUnits], db: DB, ctx: Ctx) -> UserOut:
    """Replace the units the user belongs to (at least one)."""
    return await service.set_units(db, ctx, user_id, data.unit_ids)


@post("/{user_id:uuid}/unlock", status_code=HTTP_200_OK, opt=MANAGE)
async def unlock_user(user_id: FromPath[UUID], db: DB, ctx: Ctx, data: JSONBody[AdminAction | None] = None) -> UserOut:
    """Release a locked account (never your own); the optional `reason` is kept in the audit event."""
    return await service.unlock(db, ctx, user_id, data.reason if data else None)


@post("/{user_id:uuid}/reset-password", status_code=HTTP_200_OK, opt=MANAGE)
async def reset_password(
    user_id: FromPath[UUID], data: JSONBody[PasswordReset], runtime: RuntimeDep, ctx: Ctx
) -> UserOut:
    """Set a temporary password, to be replaced at the next sign-in; the user's sessions end."""
    return await service.reset_password(runtime, ctx, user_id, data)


@post("/{user_id:uuid}/reset-mfa", status_code=HTTP_200_OK, opt=MANAGE)
async def reset_mfa(user_id: FromPath[UUID], db: DB, ctx: Ctx, data: JSONBody[AdminAction | None] = None) -> UserOut:
    """Forget the user's authenticator and recovery codes (never your own). They enroll again
    once a second person confirms (POST /api/users/{id}/reset-mfa/confirm) and hands them a
    one-time code. The optional `reason` is kept in the audit event."""
    return await service.reset_mfa(db, ctx, user_id, data.reason if data else None)


@post("/{user_id:uuid}/reset-mfa/confirm", status_code=HTTP_200_OK, opt=CONFIRM)
async def confirm_mfa_reset(
    user_id: FromPath[UUID], data: JSONBody[Confirmation], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> EnrollmentCode:
    """Confirm an authenticator reset with your fresh code; answers the one-time enrollment code
    to hand to the user in person."""
    return await service.confirm_mfa_reset(db, runtime, ctx, user_id, data.totp_code)


@get("/", opt=CONFIRM)
async def list_grants(db: DB) -> RoleGrantList:
    """Grants of roles that read identities waiting for confirmation."""
    return RoleGrantList(items=await grants.pending(db))


@post("/{grant_id:uuid}/confirm", status_code=HTTP_200_OK, opt=CONFIRM)
async def confirm_grant(
    grant_id: FromPath[UUID], data: JSONBody[Confirmation], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> GrantConfirmed:
    """Confirm a grant with your fresh code (never your own, never one you proposed). If the
    user's authenticator was not enrolled through a second person, answers a one-time
    enrollment code to hand them in person."""
    return await grants.confirm(db, runtime, ctx, grant_id, data.totp_code)


@patch("/api/me", status_code=HTTP_200_OK, opt={"permission": Permission.SELF}, tags=["auth"])
async def set_own_email(data: JSONBody[OwnEmail], db: DB, ctx: Ctx) -> OwnEmail:
    """Your own address for reminders and notices (`null` stops them); codenames only ever go there."""
    return await service.set_own_email(db, ctx, data)


routes: list[ControllerRouterHandler] = [
    Router(
        path="/api/users",
        route_handlers=[
            create_user,
            list_users,
            update_user,
            set_units,
            unlock_user,
            reset_password,
            reset_mfa,
            confirm_mfa_reset,
        ],
        tags=["users"],
    ),
    Router(path="/api/role-grants", route_handlers=[list_grants, confirm_grant], tags=["users"]),
    set_own_email,
]

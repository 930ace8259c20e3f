from __future__ import annotations

from uuid import UUID

from litestar import Router, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.permissions import Permission
from registry.runtime import Ctx, RuntimeDep
from registry.users import service
from registry.users.schemas import UserCreate, UserList, UserOut, UserPatch

MANAGE = {"permission": Permission.USER_MANAGE}


@post("/", status_code=HTTP_201_CREATED, opt=MANAGE)
async def create_user(data: JSONBody[UserCreate], db: DB, runtime: RuntimeDep, ctx: Ctx) -> UserOut:
    return await service.create(runtime, ctx, data)


@get("/", opt=MANAGE)
async def list_users(db: DB) -> UserList:
    return UserList(items=await service.list_users(db))


@patch("/{user_id:uuid}", opt=MANAGE)
async def update_user(
    user_id: FromPath[UUID], data: JSONBody[UserPatch], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> UserOut:
    """Change roles, display name or active; a change applies from the user's next request."""
    return await service.update(db, runtime, ctx, user_id, data)


@post("/{user_id:uuid}/unlock", status_code=HTTP_200_OK, opt=MANAGE)
async def unlock_user(user_id: FromPath[UUID], db: DB, ctx: Ctx) -> UserOut:
    return await service.unlock(db, ctx, user_id)


@post("/{user_id:uuid}/reset-mfa", status_code=HTTP_200_OK, opt=MANAGE)
async def reset_mfa(user_id: FromPath[UUID], db: DB, ctx: Ctx) -> UserOut:
    """Forget the user's authenticator and recovery codes; they enroll again at next sign-in."""
    return await service.reset_mfa(db, ctx, user_id)


routes: list[ControllerRouterHandler] = [
    Router(
        path="/api/users",
        route_handlers=[create_user, list_users, update_user, unlock_user, reset_mfa],
        tags=["users"],
    )
]

from __future__ import annotations

from uuid import UUID

from litestar import Router, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from registry.accounts import service
from registry.accounts.schemas import (
    AccountCreate,
    AccountCreated,
    AccountOut,
    AccountPatch,
    AuthorizeAccount,
    AwaitingAccount,
    DeclineAccount,
    DisabledIn,
)
from registry.db.pool import DB
from registry.permissions import Permission
from registry.runtime import Ctx, RuntimeDep


@post(
    "/api/personas/{persona_id:uuid}/accounts",
    status_code=HTTP_201_CREATED,
    opt={"permission": Permission.ACCOUNT_REQUEST},
)
async def request_account(
    persona_id: FromPath[UUID], data: JSONBody[AccountCreate], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> AccountCreated:
    """Request a site or profile for a persona; it needs its own authorization (003 IV.B.1.b)."""
    return await service.request(db, runtime, ctx, persona_id, data)


@post("/{account_id:uuid}/authorize", status_code=HTTP_200_OK, opt={"permission": Permission.ACCOUNT_AUTHORIZE})
async def authorize_account(
    account_id: FromPath[UUID], data: JSONBody[AuthorizeAccount], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> AccountOut:
    return await service.authorize(db, runtime, ctx, account_id, data)


@post("/{account_id:uuid}/disabled", status_code=HTTP_200_OK, opt={"permission": Permission.ACCOUNT_DISABLE})
async def account_disabled(
    account_id: FromPath[UUID], data: JSONBody[DisabledIn], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> AccountOut:
    """Record that the site disabled the account."""
    return await service.disabled_by_site(db, runtime, ctx, account_id, data)


@get("/", opt={"permission": Permission.ACCOUNT_AUTHORIZE})
async def awaiting_authorization(db: DB, runtime: RuntimeDep, ctx: Ctx) -> list[AwaitingAccount]:
    """Accounts waiting for the site authorization (003 IV.B.1.b), oldest first; `own` ones
    (requested by you, or of a persona you handle) another official must authorize."""
    return [AwaitingAccount(account=a, own=own) for a, own in await service.awaiting_authorization(db, runtime, ctx)]


@post("/{account_id:uuid}/decline", status_code=HTTP_200_OK, opt={"permission": Permission.ACCOUNT_AUTHORIZE})
async def decline_account(
    account_id: FromPath[UUID], data: JSONBody[DeclineAccount], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> AccountOut:
    """Decline a site or profile, with a reason (fresh TOTP code): the request is closed."""
    return await service.decline(db, runtime, ctx, account_id, data)


@patch("/{account_id:uuid}", opt={"permission": Permission.ACCOUNT_REQUEST})
async def record_created_on(
    account_id: FromPath[UUID], data: JSONBody[AccountPatch], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> AccountOut:
    """Record the day the account was created on the site: its age before use counts from then."""
    return await service.record_created_on(db, runtime, ctx, account_id, data)


routes: list[ControllerRouterHandler] = [
    request_account,
    Router(
        path="/api/accounts",
        tags=["accounts"],
        route_handlers=[
            awaiting_authorization,
            authorize_account,
            decline_account,
            account_disabled,
            record_created_on,
        ],
    ),
]

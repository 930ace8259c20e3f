"""The signed-in user's own account: who they are, where reminders reach them, and the way to
their password."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.permissions import Permission
from registry.runtime import Ctx, RequestContext
from registry.users import service as users
from registry.users.schemas import OwnEmail
from registry.web.forms import FormErrors, convert, text, values
from registry.web.render import page, see_other

DONE = {
    "email": "Saved: reminders and notices go to this address.",
    "no-email": "Saved: no e-mail will be sent to you.",
}


async def _account_page(
    request: Request[Any, Any, Any],
    db: DB,
    ctx: RequestContext,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
    done: str | None = None,
) -> Template:
    own = await users.own_email(db, ctx)
    return page(
        request,
        "account.html",
        status=status,
        title="My account",
        email=(form or {}).get("email", own.email or ""),
        errors=errors or {},
        done=DONE.get(done or ""),
    )


@get("/account", opt={"permission": Permission.SELF})
async def account(request: Request[Any, Any, Any], db: DB, ctx: Ctx, done: FromQuery[str | None] = None) -> Template:
    return await _account_page(request, db, ctx, done=done)


@post("/account/email", opt={"permission": Permission.SELF})
async def account_email(request: Request[Any, Any, Any], db: DB, ctx: Ctx) -> Response[Any]:
    form = values(await request.form())
    try:
        data = convert({"email": text(form, "email")}, OwnEmail)
    except FormErrors as exc:
        errors = {"email": "Enter an e-mail address such as name@example.org, or leave it empty."}
        return await _account_page(request, db, ctx, errors=errors, form=form, status=exc.status)
    await users.set_own_email(db, ctx, data)
    return see_other("/account?done=" + ("email" if data.email else "no-email"))


routes: list[ControllerRouterHandler] = [account, account_email]

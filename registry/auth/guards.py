"""Deny by default: every route names one permission in its `opt`, and `require_permission`
enforces it.

It is the app's `before_request` hook rather than a guard, because Litestar calls each guard
with a copy of the route handler, a cost on every request. It runs after the middlewares and
before the handler's parameters and dependencies are read, where a guard ran, with two
differences the app refuses to start with (registry.app): a router or handler with a
`before_request` of its own would replace it, and a cached answer is served before it runs
(guards also ran for websockets and mounted ASGI apps; the registry has neither). A refusal is
audited on its own connection (the request's transaction never starts)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.handlers.base import BaseRouteHandler
from litestar.handlers.http_handlers import HTTPRouteHandler

from registry.audit.actions import Action
from registry.audit.service import record_failure
from registry.errors import Forbidden, NotAuthenticated, NotPermitted
from registry.permissions import Permission
from registry.runtime import RequestContext

SIGN_IN = "Sign in first: this needs a signed-in session with a verified authenticator code."
SIGN_IN_MFA = "Sign in with your password first, then send the code from your authenticator."
REPLACE_TEMPORARY_FIRST = (
    "Your password was set by an administrator: replace it with one of your own first "
    "(POST /api/me/password with current_password, new_password and a totp_code)."
)


def permission_of(handler: BaseRouteHandler) -> Permission:
    permission = handler.opt.get("permission")
    if permission is None and isinstance(handler, HTTPRouteHandler) and handler.http_methods == {"OPTIONS"}:
        # Litestar answers OPTIONS on every path itself, with the methods the path allows and
        # nothing else (a browser's preflight carries no credentials). Any other route, an
        # OPTIONS one written here included, names its permission.
        return Permission.PUBLIC
    if not isinstance(permission, Permission):
        raise RuntimeError(f"route {handler} declares no permission (deny by default)")
    return permission


async def require_permission(request: Request[Any, Any, Any]) -> None:
    permission = permission_of(request.route_handler)
    if permission is Permission.PUBLIC:
        return
    ctx: RequestContext = request.scope["state"]["ctx"]
    user = ctx.user
    if permission is Permission.MFA_PENDING:
        if user is None or user.stage != "password":
            raise NotAuthenticated(SIGN_IN_MFA)
        return
    if user is None or user.stage != "full":
        raise NotAuthenticated(SIGN_IN)
    if permission not in user.permissions and user.password_change_required:
        raise Forbidden(REPLACE_TEMPORARY_FIRST, field="password")
    if permission not in user.permissions:
        record_failure(
            ctx,
            Action.ACCESS_DENIED,
            outcome="denied",
            details={"permission": permission.value, "route": request.scope.get("path_template", "")},
        )
        roles = ", ".join(user.roles) or "none"
        raise NotPermitted(
            f"Your roles ({roles}) do not allow this ({permission.value}).",
            f"Your roles ({roles}) do not allow this page or step. If your duties need it, ask an administrator.",
        )

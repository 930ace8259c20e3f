"""Deny by default, checked as the app is built (registry.app): a route that names no
permission, or that has a before_request of its own (which would take the place of the
permission check, registry.auth.guards), stops the service from starting."""

from __future__ import annotations

import pytest
from litestar import Router, get

from registry.app import _check_permissions, create_app
from registry.permissions import Permission
from registry.settings import Settings, new_secret_key


async def _nothing() -> None:
    return None


@get("/unguarded")
async def unguarded() -> str:
    return "anyone"


@get("/public", opt={"permission": Permission.PUBLIC})
async def public() -> str:
    return "anyone"


@pytest.mark.parametrize(
    ("router", "refusal"),
    [
        (Router(path="/x", route_handlers=[unguarded]), "declares no permission"),
        (Router(path="/y", route_handlers=[public], before_request=_nothing), "before_request of its own"),
    ],
)
def test_a_route_that_would_skip_the_permission_check_stops_the_service(router: Router, refusal: str) -> None:
    app = create_app(Settings.from_env({"REGISTRY_SECRET_KEY": new_secret_key()}))
    _check_permissions(app)  # the service's own routes all pass
    app.register(router)
    with pytest.raises(RuntimeError, match=refusal):
        _check_permissions(app)

"""Deny by default, checked as the app is built (registry.app): a route the permission check
(registry.auth.guards, a before_request hook) would not see or could not judge stops the
service from starting: one that names no permission, one with a before_request of its own
(which would take the check's place), one whose answers are cached (served before the check
runs), a websocket (the check runs for HTTP only)."""

from __future__ import annotations

import pytest
from litestar import Router, WebSocket, get, websocket

from registry.app import _check_permissions, create_app
from registry.permissions import Permission
from registry.settings import Settings, new_secret_key
from tests.harness import World


async def _nothing() -> None:
    return None


@get("/unguarded")
async def unguarded() -> str:
    return "anyone"


@get("/public", opt={"permission": Permission.PUBLIC})
async def public() -> str:
    return "anyone"


@get("/cached", opt={"permission": Permission.PERSONA_READ}, cache=60)
async def cached() -> str:
    return "whoever asked first"


@websocket("/socket", opt={"permission": Permission.PERSONA_READ})
async def socket(socket: WebSocket) -> None:
    await socket.close()


@pytest.mark.parametrize(
    ("router", "refusal"),
    [
        (Router(path="/x", route_handlers=[unguarded]), "declares no permission"),
        (Router(path="/y", route_handlers=[public], before_request=_nothing), "before_request of its own"),
        (Router(path="/z", route_handlers=[cached]), "caches its answers"),
        (Router(path="/w", route_handlers=[socket]), "not plain HTTP"),
    ],
)
def test_a_route_that_would_skip_the_permission_check_stops_the_service(router: Router, refusal: str) -> None:
    app = create_app(Settings.from_env({"REGISTRY_SECRET_KEY": new_secret_key()}))
    _check_permissions(app)  # the service's own routes all pass
    app.register(router)
    with pytest.raises(RuntimeError, match=refusal):
        _check_permissions(app)


async def test_options_is_answered_with_the_methods_a_path_allows_and_nothing_else(world: World) -> None:
    anonymous = world.client()
    response = await anonymous.options("/api/me")
    assert response.status_code == 204, response.text
    assert set(response.headers["allow"].split(", ")) == {"GET", "OPTIONS"}
    assert response.content == b""
    # Nothing else opens to an anonymous caller for it.
    assert (await anonymous.get("/api/me")).status_code == 401

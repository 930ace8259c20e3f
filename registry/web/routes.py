"""The web interface's router: every page, with no-store, and refusals rendered as pages."""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from registry.permissions import Permission
from registry.web import (
    account,
    disclosures,
    investigations,
    offices,
    overview,
    persona_steps,
    personas,
    reviews,
    signin,
    units,
)
from registry.web.render import STATIC, exception_handlers

pages = Router(
    path="/",
    route_handlers=[
        *signin.routes,
        *account.routes,
        *overview.routes,
        *investigations.routes,
        *personas.routes,
        *persona_steps.routes,
        *reviews.routes,
        *offices.routes,
        *disclosures.routes,
        *units.routes,
    ],
    exception_handlers=exception_handlers,
    # Pages carry confidential records: never kept by a browser or a proxy.
    cache_control=CacheControlHeader(no_store=True),
    include_in_schema=False,
)
static = create_static_files_router(
    path="/static",
    directories=[STATIC],
    opt={"permission": Permission.PUBLIC, "no_session": True},
    include_in_schema=False,
)
routes: list[ControllerRouterHandler] = [pages, static]

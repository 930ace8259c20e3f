from __future__ import annotations

from uuid import UUID

from litestar import get
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.internal_affairs import service
from registry.internal_affairs.schemas import OfficerReport
from registry.permissions import Permission
from registry.runtime import Ctx


@get(
    "/api/internal-affairs/officers/{user_id:uuid}",
    opt={"permission": Permission.INTERNAL_AFFAIRS_READ},
    tags=["internal affairs"],
)
async def officer_report(user_id: FromPath[UUID], db: DB, ctx: Ctx) -> OfficerReport:
    """For an internal investigation (003 IV.C.3): every persona and account the officer
    requested, handled, received by handover or approved, with dates; audited."""
    return await service.officer_report(db, ctx, user_id)


routes: list[ControllerRouterHandler] = [officer_report]

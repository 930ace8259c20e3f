from __future__ import annotations

from uuid import UUID

from litestar import get, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.gate import service
from registry.gate.schemas import GateOut
from registry.permissions import Permission
from registry.personas.schemas import StatusOut
from registry.runtime import Ctx, RuntimeDep


@get("/api/personas/{persona_id:uuid}/gate", opt={"permission": Permission.PERSONA_READ}, tags=["personas"])
async def gate(persona_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx) -> GateOut:
    """Every condition for putting the persona into use: met or not, its clause, what to do."""
    return await service.gate(db, runtime, ctx, persona_id)


@post(
    "/api/personas/{persona_id:uuid}/activate",
    status_code=HTTP_200_OK,
    opt={"permission": Permission.PERSONA_ACTIVATE},
    tags=["personas"],
)
async def activate(persona_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx) -> StatusOut:
    """Put an approved persona into use; 409 with every unmet condition otherwise."""
    return await service.activate(db, runtime, ctx, persona_id)


routes: list[ControllerRouterHandler] = [gate, activate]

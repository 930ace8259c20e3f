from __future__ import annotations

from uuid import UUID

from litestar import Router, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.linkage import service
from registry.linkage.schemas import AssessmentIn, AssessmentOut, LinkageReport, PhotoIn, PhotoOut
from registry.permissions import Permission
from registry.runtime import Ctx, RuntimeDep


@post("/{persona_id:uuid}/photos", status_code=HTTP_201_CREATED, opt={"permission": Permission.PERSONA_EDIT})
async def add_photo(
    persona_id: FromPath[UUID], data: JSONBody[PhotoIn], db: DB, runtime: RuntimeDep, ctx: Ctx
) -> PhotoOut:
    """Record a photo the persona uses: only keyed fingerprints are kept, never the image; the
    answer warns when a burned or another persona uses the same photo or one that looks alike."""
    return await service.add_photo(db, runtime, ctx, persona_id, data)


@get("/{persona_id:uuid}/linkage", opt={"permission": Permission.PERSONA_SUSPEND})
async def linkage(persona_id: FromPath[UUID], db: DB, runtime: RuntimeDep, ctx: Ctx) -> LinkageReport:
    """The blast radius: every live persona linked to this one, and how; an audited read."""
    return await service.report(db, runtime, ctx, persona_id)


@post(
    "/{persona_id:uuid}/linkage/{other_id:uuid}/assessment",
    status_code=HTTP_200_OK,
    opt={"permission": Permission.PERSONA_SUSPEND},
)
async def assess(
    persona_id: FromPath[UUID],
    other_id: FromPath[UUID],
    data: JSONBody[AssessmentIn],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
) -> AssessmentOut:
    """Keep, suspend or retire a linked persona, with the reason recorded."""
    return await service.assess(db, runtime, ctx, persona_id, other_id, data)


routes: list[ControllerRouterHandler] = [
    Router(path="/api/personas", tags=["linkage"], route_handlers=[add_photo, linkage, assess])
]

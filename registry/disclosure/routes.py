from __future__ import annotations

from litestar import Response, Router, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from litestar.types import ControllerRouterHandler

from registry.db.pool import DB
from registry.disclosure import service
from registry.disclosure.schemas import DisclosureIn
from registry.disclosure.service import Pack
from registry.permissions import Permission
from registry.runtime import Ctx, RuntimeDep


def download(made: Pack) -> Response[bytes]:
    return Response(
        made.content,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{made.filename}"'},
    )


@post(
    "/",
    status_code=HTTP_200_OK,
    media_type="application/zip",
    opt={"permission": Permission.DISCLOSURE_CREATE},
    response_description="the pack (application/zip)",
)
async def create(data: JSONBody[DisclosureIn], db: DB, runtime: RuntimeDep, ctx: Ctx) -> Response[bytes]:
    """A disclosure pack for an investigation or a persona; with `passphrase`, an identity part
    encrypted under it (legal only). Check it with `registry disclosure verify FILE`."""
    await service.seal_chain(runtime)
    return download(await service.create(db, runtime, ctx, data))


routes: list[ControllerRouterHandler] = [Router(path="/api/disclosures", route_handlers=[create], tags=["disclosures"])]

from __future__ import annotations

from litestar import Response, Router, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from litestar.types import ControllerRouterHandler

from registry.db.pool import Autocommit, in_transaction
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
async def create(
    data: JSONBody[DisclosureIn], autocommit: Autocommit, runtime: RuntimeDep, ctx: Ctx
) -> Response[bytes]:
    """A disclosure pack for an investigation or a persona; with `passphrase`, an identity part
    encrypted under it (legal only). Check it with `registry disclosure verify FILE`. The chain
    is sealed first, then the pack made in a transaction, both on the request's connection."""
    await service.seal_chain(autocommit)
    async with in_transaction(autocommit):
        made = await service.create(autocommit, runtime, ctx, data)
    return download(made)


routes: list[ControllerRouterHandler] = [Router(path="/api/disclosures", route_handlers=[create], tags=["disclosures"])]

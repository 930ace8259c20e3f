"""The auditor's and legal's page for disclosure packs: pick a case or a persona by its name,
download the pack (legal may add the identity part under a passphrase)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK
from litestar.types import ControllerRouterHandler

from registry.db.pool import Autocommit
from registry.disclosure import service
from registry.disclosure.routes import download
from registry.disclosure.schemas import DisclosureIn
from registry.permissions import Permission
from registry.runtime import Ctx, RuntimeDep
from registry.web.forms import FormErrors, attempt, convert, text
from registry.web.render import page

CREATE = {"permission": Permission.DISCLOSURE_CREATE}


def _page(
    request: Request[Any, Any, Any],
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    values = {k: v for k, v in (values or {}).items() if k != "passphrase"}  # never echoed back
    return page(request, "disclosures.html", title="Disclosure packs", errors=errors or {}, v=values, status=status)


@get("/disclosures", opt=CREATE)
async def disclosures(request: Request[Any, Any, Any]) -> Template:
    return _page(request)


@post("/disclosures", opt=CREATE, status_code=HTTP_200_OK)
async def disclosure_create(
    request: Request[Any, Any, Any], autocommit: Autocommit, runtime: RuntimeDep, ctx: Ctx
) -> Response[Any]:
    """As `POST /api/disclosures`: the chain sealed, then the pack made in a transaction of its own
    (`attempt`), on the request's connection."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    case_number, codename = text(form, "case_number"), text(form, "codename")
    try:
        if (case_number is None) == (codename is None):
            raise FormErrors({"case_number": "Give a case number or a codename, not both."})
        subject = await attempt(autocommit, lambda: service.subject_of(autocommit, case_number, codename))
        data = convert({**_fields(subject), "passphrase": text(form, "passphrase")}, DisclosureIn)
        await service.seal_chain(autocommit)
        # Outside any transaction here, so attempt's is a fresh one: create makes it one snapshot.
        made = await attempt(autocommit, lambda: service.create(autocommit, runtime, ctx, data))
    except FormErrors as exc:
        return _page(request, errors=exc.errors, values=form, status=exc.status)
    return download(made)


def _fields(subject: DisclosureIn) -> dict[str, Any]:
    return {k: v for k, v in (("investigation_id", subject.investigation_id), ("persona_id", subject.persona_id)) if v}


routes: list[ControllerRouterHandler] = [disclosures, disclosure_create]

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, Router, get, patch, post
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from registry import exports
from registry.db.pool import DB, Autocommit
from registry.errors import BadRequest
from registry.lifecycle import listing
from registry.permissions import Permission
from registry.personas import identity, records
from registry.personas.schemas import (
    CentralRecord,
    ConflictList,
    Deconflict,
    PersonaCreate,
    PersonaCreated,
    PersonaDetail,
    PersonaPage,
    PersonaPatch,
    StatusOut,
)
from registry.runtime import Ctx, RuntimeDep
from registry.status import PersonaStatus

PersonaId = FromPath[UUID]
Status = Annotated[str | None, QueryParameter(pattern=PersonaStatus.pattern())]
IfMatch = Annotated[
    str | None,
    HeaderParameter(name="if-match", description="the persona's ETag (its version) the request is about"),
]


def named_version(body: int | None, if_match: str | None) -> int | None:
    """The version a decision names: in the body, or as If-Match ("3", W/"3" or 3)."""
    if if_match is None:
        return body
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise BadRequest('If-Match must be the persona\'s ETag, such as "3".', field="if-match")
    if body is not None and body != int(text):
        raise BadRequest("version and If-Match name different versions; send one.", field="version")
    return int(text)


@post("/", status_code=HTTP_201_CREATED, opt={"permission": Permission.PERSONA_REQUEST})
async def create_persona(data: JSONBody[PersonaCreate], db: DB, runtime: RuntimeDep, ctx: Ctx) -> PersonaCreated:
    """Request a persona: its documented identity, under an investigation you belong to."""
    return await identity.create(db, runtime, ctx, data)


@get("/", opt={"permission": Permission.PERSONA_READ})
async def list_personas(
    autocommit: Autocommit,
    runtime: RuntimeDep,
    ctx: Ctx,
    status: Status = None,
    investigation_id: Annotated[UUID | None, QueryParameter()] = None,
    cursor: Annotated[str | None, QueryParameter()] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> PersonaPage:
    """The personas you may see, newest first; codenames only, never identity fields. Reads
    only (see Autocommit)."""
    return await listing.page(
        autocommit, runtime, ctx, status=status, investigation_id=investigation_id, cursor=cursor, limit=limit
    )


@get("/{persona_id:uuid}", opt={"permission": Permission.PERSONA_READ})
async def get_persona(
    persona_id: PersonaId, autocommit: Autocommit, runtime: RuntimeDep, ctx: Ctx
) -> Response[PersonaDetail]:
    """Everything, identity included; the read is audited (in the read's own statement). The
    ETag is the version that approve and reject name in If-Match."""
    detail = await identity.get(autocommit, runtime, ctx, persona_id)
    return Response(detail, headers={"etag": f'"{detail.version}"'})


@patch("/{persona_id:uuid}", opt={"permission": Permission.PERSONA_EDIT})
async def update_persona(
    persona_id: PersonaId,
    data: JSONBody[PersonaPatch],
    db: DB,
    runtime: RuntimeDep,
    ctx: Ctx,
    if_match: IfMatch = None,
) -> StatusOut:
    """Change the documented identity; `version` (or If-Match, the ETag of the read) refuses
    with 409 an edit of details that changed since they were read."""
    version = named_version(data.version, if_match)
    return await identity.update_identity(
        db, runtime, ctx, persona_id, data.identity, data.acknowledge_retired, version
    )


@post("/api/deconfliction", status_code=HTTP_200_OK, opt={"permission": Permission.DECONFLICT})
async def deconfliction(data: JSONBody[Deconflict], db: DB, runtime: RuntimeDep, ctx: Ctx) -> ConflictList:
    """Would this alias or handle collide with a live persona? Answers whom to contact."""
    return await identity.deconflict(db, runtime, ctx, data)


@get("/api/central-record", opt={"permission": Permission.CENTRAL_RECORD_READ})
async def central_record(
    request: Request[Any, Any, Any],
    db: DB,
    ctx: Ctx,
    start: Annotated[date | None, QueryParameter(name="from")] = None,
    end: Annotated[date | None, QueryParameter(name="to")] = None,
    status: Status = None,
    unit_id: Annotated[UUID | None, QueryParameter()] = None,
) -> Response[Any]:
    """Every investigation's authorization, and every persona's request, approvals, renewals,
    site authorizations, reviews, suspensions, handovers, retirement or compromise, by whom and
    under which policy version; codenames only. `from`/`to` keep what has a dated entry in the
    range, `unit_id` what belongs to that unit or one below it; JSON, or CSV with
    `Accept: text/csv`."""
    if start and end and end < start:
        raise BadRequest("to must not be before from.", field="to")
    record = await records.central_record(
        db,
        ctx,
        start=datetime.combine(start, time.min, UTC) if start else None,
        end=datetime.combine(end, time.max, UTC) if end else None,
        status=status,
        unit_id=unit_id,
    )
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            central_record_csv(record),
            media_type="text/csv",
            headers={"content-disposition": 'attachment; filename="central-record.csv"'},
        )
    return Response(record)


def central_record_csv(record: CentralRecord) -> str:
    """The central record as CSV (also the web interface's export)."""
    out = io.StringIO()
    writer = exports.Writer(out)
    writer.writerow(
        [
            "codename",
            "case_number",
            "status",
            "requested_at",
            "requested_by",
            "approvals",
            "renewals",
            "reviews",
            "suspensions",
            "retired_at",
            "compromised_at",
            "accounts",
            "handovers",
        ]
    )

    def stamps(entries: list[dict[str, Any]]) -> str:
        return "; ".join(
            f"{e['at']} by {e['by']}" + (f" (policy {e['policy_version']})" if e.get("policy_version") else "")
            for e in entries
        )

    for row in record.items:
        writer.writerow(
            [
                row.codename,
                row.case_number,
                row.status,
                row.requested_at.isoformat(),
                row.requested_by,
                stamps(row.approvals),
                stamps(row.renewals),
                stamps(row.reviews),
                "; ".join(s.isoformat() for s in row.suspensions),
                row.retired_at.isoformat() if row.retired_at else "",
                row.compromised_at.isoformat() if row.compromised_at else "",
                "; ".join(
                    f"{a['platform']} {a['status']}"
                    + (f" authorized {a['authorized_at']} by {a['authorized_by']}" if a["authorized_at"] else "")
                    + (f" declined {a['declined_at']} by {a['declined_by']}" if a["declined_at"] else "")
                    for a in row.accounts
                ),
                "; ".join(f"{h['at']} {h['from']} to {h['to']} by {h['by']}" for h in row.handovers),
            ]
        )
    return out.getvalue()


routes: list[ControllerRouterHandler] = [
    Router(
        path="/api/personas",
        tags=["personas"],
        route_handlers=[
            create_persona,
            list_personas,
            get_persona,
            update_persona,
        ],
    ),
    deconfliction,
    central_record,
]

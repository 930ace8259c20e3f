from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from registry.audit.service import record
from registry.errors import NotFound
from registry.internal_affairs import repo
from registry.internal_affairs.schemas import Officer, OfficerAccount, OfficerPersona, OfficerReport
from registry.runtime import RequestContext


async def officer_report(conn: asyncpg.Connection, ctx: RequestContext, user_id: UUID) -> OfficerReport:
    """Every persona and account the officer requested, handled, received by handover or
    approved, with dates (003 IV.C.3); codenames only, and every report audited."""
    found = await repo.officer(conn, user_id)
    if found is None:
        raise NotFound("No such officer.")
    report = OfficerReport(
        officer=Officer(id=found["id"], username=found["username"], display_name=found["display_name"]),
        personas=[
            OfficerPersona(
                codename=r["codename"],
                case_number=r["case_number"],
                status=r["status"],
                parts=list(r["parts"]),
                requested_at=r["created_at"],
                dates=msgspec.convert(r["dates"], list[dict[str, object]]),
            )
            for r in await repo.personas(conn, user_id)
        ],
        accounts=[
            OfficerAccount(
                codename=r["codename"],
                platform=r["platform"],
                status=r["status"],
                parts=list(r["parts"]),
                requested_at=r["created_at"],
                authorized_at=r["authorized_at"],
            )
            for r in await repo.accounts(conn, user_id)
        ],
    )
    await record(
        conn,
        ctx,
        "internal_affairs.officer_report",
        target_type="user",
        target_id=user_id,
        details={"username": found["username"], "personas": len(report.personas), "accounts": len(report.accounts)},
    )
    return report

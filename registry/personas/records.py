"""What the department's records and queues show of personas: the central record an
inspector reads, and what waits for an approver. Codenames only, never an identity."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from registry.audit.service import record
from registry.personas import repo
from registry.personas.schemas import AwaitingApproval, CentralRecord, CentralRecordRow
from registry.runtime import RequestContext, Runtime
from registry.status import PersonaStatus


async def central_record(conn: asyncpg.Connection, ctx: RequestContext) -> CentralRecord:
    """Per persona, the dates of request, approval (and by whom), renewals, reviews, suspensions,
    cancellation or compromise: codenames only, no identity and no free text."""
    items = []
    for row in await repo.central_record(conn):
        events: list[dict[str, Any]] = row["events"]

        def dated(action: str, events: list[dict[str, Any]] = events) -> list[dict[str, Any]]:
            return [{"at": e["at"], "by": e["by"]} for e in events if e["action"] == action]

        def last(action: str, events: list[dict[str, Any]] = events) -> datetime | None:
            stamps = [e["at"] for e in events if e["action"] == action]
            return msgspec.convert(stamps[-1], datetime) if stamps else None

        items.append(
            CentralRecordRow(
                codename=row["codename"],
                case_number=row["case_number"],
                status=row["status"],
                requested_at=row["created_at"],
                requested_by=row["requested_by"],
                approvals=dated("approve"),
                renewals=dated("renew"),
                reviews=dated("review"),
                suspensions=[msgspec.convert(e["at"], datetime) for e in events if e["action"] == "suspend"],
                retired_at=last("retire"),
                compromised_at=last("compromise"),
            )
        )
    await record(conn, ctx, "central_record.read", details={"personas": len(items)})
    return CentralRecord(items=items)


async def awaiting_approval(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, renew_within_days: int
) -> list[AwaitingApproval]:
    """What waits for an approver: submitted personas and approvals about to lapse."""
    rows = await repo.awaiting_approval(
        conn, ctx.me.id, runtime.permissions.unit_wide_roles, ctx.now + timedelta(days=renew_within_days)
    )
    return [
        AwaitingApproval(
            id=r["id"],
            codename=r["codename"],
            status=r["status"],
            case_number=r["case_number"],
            handler=r["handler"],
            approval_expires_at=r["approval_expires_at"],
            material_change=r["status"] == PersonaStatus.SUBMITTED and r["approved_before"],
            own=r["own"],
        )
        for r in rows
    ]

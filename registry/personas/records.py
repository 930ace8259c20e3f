"""What the department's records and queues show of personas: the central record an
inspector reads, and what waits for an approver. Codenames only, never an identity."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from registry.audit.actions import Action
from registry.audit.service import record
from registry.personas import repo
from registry.personas.schemas import AwaitingApproval, CentralInvestigation, CentralRecord, CentralRecordRow
from registry.runtime import RequestContext, Runtime
from registry.status import PersonaStatus


def _cause(event: dict[str, Any]) -> str | list[str]:
    """Why a persona was suspended, without free text: by hand, or what the sweep found."""
    if event["by"] is not None:
        return "by_hand"
    return list(event["lapsed"]) if event["lapsed"] else "conduct_review_overdue"


async def central_record(
    conn: asyncpg.Connection,
    ctx: RequestContext,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    unit_id: UUID | None = None,
) -> CentralRecord:
    """The record an inspector expects (the UK CHIS code's central record is the model): every
    investigation's authorization, and per persona its request, approvals and renewals with the
    policy version, each site or profile's authorization or decline, conduct reviews and their
    outcomes, suspensions (who and why), handovers, retirement and compromise. Codenames, case
    numbers and usernames only: no identity and no free text (reasons stay in the history).
    `unit_id` keeps that unit's and those of the units below it."""
    items = []
    for row in await repo.central_record(conn, start=start, end=end, status=status, unit_id=unit_id):
        events: list[dict[str, Any]] = row["events"]

        def of(action: str, events: list[dict[str, Any]] = events) -> list[dict[str, Any]]:
            return [e for e in events if e["action"] == action]

        def dated(action: str) -> list[dict[str, Any]]:
            return [{"at": e["at"], "by": e["by"], "policy_version": e["policy_version"]} for e in of(action)]

        def last(action: str) -> dict[str, Any] | None:
            found = of(action)
            return {"at": found[-1]["at"], "by": found[-1]["by"]} if found else None

        retired, compromised = last("retire"), last("compromise")
        items.append(
            CentralRecordRow(
                codename=row["codename"],
                case_number=row["case_number"],
                status=row["status"],
                requested_at=row["created_at"],
                requested_by=row["requested_by"],
                approvals=dated("approve"),
                renewals=dated("renew"),
                reviews=[
                    {"at": e["at"], "by": e["by"], "outcome": e["outcome"], "policy_version": e["policy_version"]}
                    for e in of("review")
                ],
                suspensions=[msgspec.convert(e["at"], datetime) for e in of("suspend")],
                retired_at=msgspec.convert(retired["at"], datetime) if retired else None,
                compromised_at=msgspec.convert(compromised["at"], datetime) if compromised else None,
                suspended=[{"at": e["at"], "by": e["by"], "cause": _cause(e)} for e in of("suspend")],
                handovers=[{"at": e["at"], "by": e["by"], "from": e["from"], "to": e["to"]} for e in of("handover")],
                accounts=list(row["accounts"]),
                retired=retired,
                compromised=compromised,
                unit=row["unit"],
            )
        )
    investigations = [
        CentralInvestigation(
            case_number=r["case_number"],
            status=r["status"],
            opened_at=r["created_at"],
            opened_by=r["opened_by"],
            authorized_at=r["authorized_at"],
            authorized_by=r["authorized_by"],
            authorized_until=r["authorized_until"],
            lapsed=r["authorized_until"] is not None and r["authorized_until"] <= ctx.now,
            refused_at=r["refused_at"],
            refused_by=r["refused_by"],
            unit=r["unit"],
        )
        for r in await repo.central_investigations(conn, start=start, end=end, unit_id=unit_id)
    ]
    await record(
        conn,
        ctx,
        Action.CENTRAL_RECORD_READ,
        details={
            "personas": len(items),
            "investigations": len(investigations),
            "status": status,
            "unit_id": str(unit_id) if unit_id else None,
        },
    )
    return CentralRecord(items=items, investigations=investigations)


async def awaiting_approval(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, renew_within_days: int
) -> list[AwaitingApproval]:
    """What waits for an approver, the longest waiting first: submitted personas and approvals
    about to lapse."""
    rows = await repo.awaiting_approval(
        conn, ctx.me.id, runtime.permissions.unit_wide_roles, ctx.now, renew_within_days
    )
    return [
        AwaitingApproval(
            id=r["id"],
            codename=r["codename"],
            status=r["status"],
            case_number=r["case_number"],
            handler=r["handler"],
            requested_by=r["requested_by"],
            waiting_since=r["waiting_since"],
            approval_expires_at=r["approval_expires_at"],
            material_change=r["status"] == PersonaStatus.SUBMITTED and r["approved_before"],
            own=r["own"],
        )
        for r in rows
    ]

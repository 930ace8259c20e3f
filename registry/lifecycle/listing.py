"""The persona list: one keyset page of what the caller may see, each with the conditions an
active persona no longer meets (judged by registry.lifecycle.conditions, like its gate)."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg

from registry.errors import BadRequest
from registry.lifecycle import conditions
from registry.lifecycle import repo as lifecycle_repo
from registry.lifecycle.schemas import GateOut
from registry.personas.identity import approval_current
from registry.personas.schemas import PersonaPage, PersonaSummary
from registry.reviews import service as reviews
from registry.runtime import RequestContext, Runtime
from registry.status import PersonaStatus


def _account_age_opens_on(gate: GateOut | None) -> date | None:
    """When a dormant persona's accounts come of age, as its gate says."""
    found = next((c for c in gate.conditions if c.condition == conditions.ACCOUNT_AGE), None) if gate else None
    return found.met_on if found is not None and not found.met else None


async def warming_due(conn: asyncpg.Connection, runtime: Runtime, persona_ids: list[UUID]) -> dict[UUID, date]:
    """For dormant personas: when light activity on their accounts is next due under the
    policy's warming plan (none without a plan)."""
    interval = runtime.policy.platforms.warming_interval_days
    if not interval or not persona_ids:
        return {}
    since = await lifecycle_repo.last_warmed(conn, persona_ids)
    return {pid: (at + timedelta(days=interval)).date() for pid, at in since.items()}


def _encode_cursor(created_at: datetime, persona_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{persona_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        stamp, _, pid = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), UUID(pid)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("cursor must be the next_cursor of a previous page", field="cursor") from exc


async def page(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    *,
    status: str | None,
    investigation_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> PersonaPage:
    rows = await lifecycle_repo.visible_page(
        conn,
        ctx.me.id,
        runtime.permissions.unit_wide_roles,
        status=status,
        investigation_id=investigation_id,
        after=_decode_cursor(cursor) if cursor else None,
        limit=limit,
    )
    # Active personas: the conditions they no longer meet; dormant ones: their accounts' age. Their
    # gates are judged from the facts the page's own statement gathered.
    gates = {
        r["id"]: conditions.evaluate(r, runtime.policy, ctx.now) for r in rows if r["status"] in lifecycle_repo.JUDGED
    }
    warming = await warming_due(conn, runtime, [r["id"] for r in rows if r["status"] == PersonaStatus.APPROVED])
    today = ctx.now.date()
    items = [
        PersonaSummary(
            id=r["id"],
            codename=r["codename"],
            status=r["status"],
            handler=r["handler"],
            investigation_id=r["investigation_id"],
            case_number=r["case_number"],
            approval_expires_at=r["approval_expires_at"],
            approval_current=approval_current(r["status"], r["approval_expires_at"], ctx.now),
            next_review_due=r["review_due_on"],
            lapsed=[c.condition for c in conditions.unmet(gates[r["id"]])]
            if r["status"] == PersonaStatus.ACTIVE and r["id"] in gates
            else [],
            warming_due_on=warming.get(r["id"]),
            account_age_opens_on=_account_age_opens_on(gates.get(r["id"]))
            if r["status"] == PersonaStatus.APPROVED
            else None,
            review_standing=reviews.standing(r["review_due_on"], runtime.policy, today)
            if r["review_due_on"] is not None
            else None,
        )
        for r in rows
    ]
    last = rows[-1] if len(rows) == limit else None
    return PersonaPage(items=items, next_cursor=_encode_cursor(last["created_at"], last["id"]) if last else None)

"""The conduct-review obligations a lifecycle step creates or ends (003 IV.B.4)."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import asyncpg

from registry.audit.service import record
from registry.reviews import repo as reviews_repo
from registry.runtime import RequestContext, Runtime


async def schedule_review(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, row: asyncpg.Record, due_on: date | None = None
) -> None:
    """An approved persona's handler has a conduct review on the calendar for its
    investigation, due within the persona's review interval, or by `due_on` when an earlier
    obligation carries over. An open review keeps its date when that is earlier: approving,
    renewing or handing over never postpones a review."""
    interval = row["review_interval_days"] or runtime.policy.personas.review_interval_days
    due = (ctx.now + timedelta(days=interval)).date()
    await reviews_repo.ensure_open(
        conn, row["investigation_id"], row["handler_id"], min(due, due_on) if due_on else due, ctx.now
    )


async def release_review(
    conn: asyncpg.Connection, ctx: RequestContext, investigation_id: UUID, handler_id: UUID
) -> None:
    """When a handler has no persona left to review in an investigation, their open review
    leaves the calendar, unless it has come due (then it stays until held)."""
    cancelled = await reviews_repo.cancel_if_uncovered(conn, investigation_id, handler_id, ctx.now)
    if cancelled is not None:
        await record(conn, ctx, "review.cancel", target_type="conduct_review", target_id=cancelled, details={})

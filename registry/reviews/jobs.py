"""Periodic work on conduct reviews: reminders before a review, and enforcement once one is
past due plus the policy's grace (003 IV.B.4).

Each review is claimed with FOR UPDATE SKIP LOCKED and marked done in the transaction that
acts on it, so however many instances sweep at once, a review is reminded once and enforced
once. Messages go to the outbox in that same transaction (registry.notify delivers them)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import asyncpg
import msgspec

from registry.audit.actions import Action, History
from registry.audit.service import record
from registry.notify import repo as outbox
from registry.personas import repo as personas_repo
from registry.reviews import repo
from registry.runtime import RequestContext, Runtime

BATCH = 20


class SweepResult(msgspec.Struct):
    overdue: int = 0
    reminders: int = 0
    suspended: int = 0


def system_context(now: datetime) -> RequestContext:
    """The actor of periodic work: no user; audit events show it as the system."""
    return RequestContext(now=now, ip=None, request_id=f"job-{uuid.uuid4().hex[:16]}", user=None)


def _when(due_on: date, scheduled_for: datetime | None) -> str:
    text = f"due on {due_on:%Y-%m-%d}"
    if scheduled_for is not None:
        text += f", scheduled for {scheduled_for:%Y-%m-%d %H:%M} UTC"
    return text


async def _notify(
    conn: asyncpg.Connection,
    runtime: Runtime,
    review: asyncpg.Record,
    kind: str,
    subject: str,
    body: str,
    now: datetime,
) -> None:
    """To the handler and whoever holds conduct reviews in the review's unit (or above it);
    codenames and times only."""
    holds = runtime.policy.placeholders.holds_conduct_reviews
    recipients = [review["handler_id"], *await outbox.holders(conn, [holds], review["unit_id"])]
    for recipient in dict.fromkeys(recipients):
        await outbox.enqueue(
            conn,
            # A review moved to a new date is reminded again.
            dedupe_key=f"{kind}:{review['id']}:{review['due_on']}:{recipient}",
            kind=kind,
            recipient_id=recipient,
            review_id=review["id"],
            subject=subject,
            body=body,
            now=now,
        )


async def _remind(conn: asyncpg.Connection, runtime: Runtime, now: datetime) -> int:
    horizon = now.date() + timedelta(days=runtime.policy.personas.review_reminder_days)
    async with conn.transaction():
        claimed = await repo.claim_reminders(conn, horizon, BATCH)
        for review in claimed:
            codenames = ", ".join(
                p["codename"] for p in await repo.covered(conn, review["investigation_id"], review["handler_id"])
            )
            when = _when(review["due_on"], review["scheduled_for"])
            await _notify(
                conn,
                runtime,
                review,
                "review_reminder",
                f"Conduct review {when}: {codenames}",
                f"A conduct review with the investigations commander covering {codenames} is {when}.\n"
                "Policy 003 IV.B.4 requires it; the review is on the registry's calendar.\n",
                now,
            )
            await repo.mark_reminded(conn, review["id"], now)
    return len(claimed)


async def _enforce(conn: asyncpg.Connection, runtime: Runtime, now: datetime) -> tuple[int, int]:
    """One batch: (reviews enforced, personas suspended)."""
    policy = runtime.policy.personas
    overdue_before = now.date() - timedelta(days=policy.review_grace_days)
    ctx = system_context(now)
    total_suspended = 0
    async with conn.transaction():
        claimed = await repo.claim_overdue(conn, overdue_before, BATCH)
        for review in claimed:
            await repo.mark_overdue(conn, review["id"], now)
            suspended = []
            if policy.overdue_review_action == "suspend":
                reason = (
                    f"Conduct review overdue: due {review['due_on']:%Y-%m-%d}, not held within "
                    f"{policy.review_grace_days} days of grace (003 IV.B.4); suspended until it is held."
                )
                covered_ids = [
                    p["id"] for p in await repo.covered(conn, review["investigation_id"], review["handler_id"])
                ]
                suspended = await personas_repo.suspend_by_system(conn, covered_ids, now)
                for persona in suspended:
                    await personas_repo.add_history(conn, persona["id"], now, History.SUSPEND, None, {"reason": reason})
                    await record(
                        conn,
                        ctx,
                        Action.PERSONA_SUSPEND,
                        target_type="persona",
                        target_id=persona["id"],
                        details={"codename": persona["codename"], "status": "suspended", "reason": "overdue review"},
                    )
            covered = await repo.covered(conn, review["investigation_id"], review["handler_id"])
            codenames = ", ".join(p["codename"] for p in covered)
            await record(
                conn,
                ctx,
                Action.REVIEW_OVERDUE,
                target_type="conduct_review",
                target_id=review["id"],
                details={
                    "codenames": [p["codename"] for p in covered],
                    "due_on": review["due_on"].isoformat(),
                    "action": policy.overdue_review_action,
                    "suspended": [p["codename"] for p in suspended],
                },
            )
            consequence = (
                "Its personas are suspended until the review is held."
                if policy.overdue_review_action == "suspend"
                else "Hold it with the investigations commander now."
            )
            await _notify(
                conn,
                runtime,
                review,
                "review_overdue",
                f"Conduct review overdue: {codenames}",
                f"The conduct review covering {codenames} was due on {review['due_on']:%Y-%m-%d} and is past the "
                f"policy's {policy.review_grace_days} days of grace (003 IV.B.4).\n{consequence}\n",
                now,
            )
            total_suspended += len(suspended)
    return len(claimed), total_suspended


async def sweep(pool: asyncpg.Pool, runtime: Runtime, now: datetime) -> SweepResult:
    """Enforce overdue reviews, then queue reminders, in batches until nothing is left."""
    result = SweepResult()
    async with pool.acquire() as conn:
        while True:
            enforced, suspended = await _enforce(conn, runtime, now)
            if not enforced:
                break
            result.overdue += enforced
            result.suspended += suspended
        while count := await _remind(conn, runtime, now):
            result.reminders += count
    return result

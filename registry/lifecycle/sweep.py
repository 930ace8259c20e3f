"""Periodic work that keeps the policy holding while personas are in use.

- An active persona that no longer meets a condition of use is suspended (policy
  `personas.lapse_action = "suspend"`), with the reason and clause, audited with no user as
  actor; or, under `"report"`, its handler and the chain are told once.
- Before an approval, an investigation's authorization or a device's inspection lapses, the
  handler and whoever can renew it are reminded (`personas.lapse_reminder_days` ahead).

Active personas are claimed in batches with FOR UPDATE SKIP LOCKED and suspended by a guarded
statement, and every message is queued under a dedupe key, so however many instances sweep at
once, each persona is suspended once and each message goes once."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from registry.audit.actions import Action, History
from registry.audit.service import record
from registry.lifecycle import conditions, repo
from registry.lifecycle.schemas import Condition
from registry.notify import repo as outbox
from registry.personas import repo as personas_repo
from registry.reviews.jobs import system_context
from registry.runtime import Runtime

BATCH = 50


class LapseResult(msgspec.Struct):
    lapsed: int = 0
    suspended: int = 0
    reminders: int = 0


def _reason(codename: str, unmet: list[Condition]) -> str:
    return f"{codename} no longer meets its conditions of use: " + " ".join(
        f"[{c.condition}, {c.clause}] {c.detail}" for c in unmet
    )


async def _tell(
    conn: asyncpg.Connection,
    recipients: list[UUID],
    *,
    key: str,
    kind: str,
    subject: str,
    body: str,
    now: datetime,
) -> int:
    sent = 0
    for recipient in dict.fromkeys(recipients):
        if await outbox.enqueue(
            conn,
            dedupe_key=f"{key}:{recipient}",
            kind=kind,
            recipient_id=recipient,
            review_id=None,
            subject=subject,
            body=body,
            now=now,
        ):
            sent += 1
    return sent


async def _chain(conn: asyncpg.Connection, runtime: Runtime, unit_id: UUID) -> list[UUID]:
    """Who approves identity details and who holds conduct reviews in the persona's unit or
    above it: who must know of a lapse."""
    placeholders = runtime.policy.placeholders
    roles = [placeholders.approves_identity_details, placeholders.holds_conduct_reviews]
    return await outbox.holders(conn, roles, unit_id)


async def _lapse_batch(
    conn: asyncpg.Connection, runtime: Runtime, now: datetime, after: UUID | None, result: LapseResult
) -> UUID | None:
    """One batch of active personas; the last id seen, or None when there are no more."""
    action = runtime.policy.personas.lapse_action
    ctx = system_context(now)
    async with conn.transaction():
        rows = await repo.claim_active(conn, after, BATCH)
        for row in rows:
            judged = conditions.evaluate(row, runtime.policy, now)
            unmet = [c for c in conditions.unmet(judged) if c.condition in conditions.LAPSING]
            if not unmet:
                continue
            result.lapsed += 1
            reason = _reason(row["codename"], unmet)
            names = [c.condition for c in unmet]
            if action == "suspend":
                if not await personas_repo.suspend_by_system(conn, [row["id"]], now):
                    continue
                result.suspended += 1
                await personas_repo.add_history(
                    conn, row["id"], now, History.SUSPEND, None, {"reason": reason, "lapsed": names}
                )
                await record(
                    conn,
                    ctx,
                    Action.PERSONA_SUSPEND,
                    target_type="persona",
                    target_id=row["id"],
                    details={"codename": row["codename"], "status": "suspended", "reason": "lapsed", "lapsed": names},
                )
                consequence = "It is suspended until every condition holds again and the chain resumes it."
            else:
                consequence = "It is still active: put it right or suspend it."
            # Once per persona and set of lapsed conditions: a report is not repeated every sweep.
            told = await _tell(
                conn,
                [row["handler_id"], *await _chain(conn, runtime, row["unit_id"])],
                key=f"persona_lapsed:{row['id']}:{','.join(names)}:{row['version']}",
                kind="persona_lapsed",
                subject=f"{row['codename']} no longer meets its conditions of use",
                body=f"{reason}\n{consequence}\n",
                now=now,
            )
            if action == "report" and told:
                await record(
                    conn,
                    ctx,
                    Action.PERSONA_LAPSE_REPORT,
                    target_type="persona",
                    target_id=row["id"],
                    details={"codename": row["codename"], "lapsed": names},
                )
    return rows[-1]["id"] if rows else None


_RENEWS = {
    "approval_lapsing": ("approval", "a supervisor renews it"),
    "authorization_lapsing": ("investigation's authorization", "the authorizing official authorizes it again"),
    "inspection_lapsing": ("device inspection", "the equipment officer inspects the device again"),
}


async def _renewers(conn: asyncpg.Connection, role: str, by_unit: bool, unit_id: UUID) -> list[UUID]:
    return await outbox.holders(conn, [role], unit_id if by_unit else None)


async def _remind(conn: asyncpg.Connection, runtime: Runtime, now: datetime) -> int:
    days = runtime.policy.personas.lapse_reminder_days
    if days == 0:
        return 0
    placeholders = runtime.policy.placeholders
    # The supervisor of the persona's unit (or above) renews an approval; the authorizing
    # official and the equipment officer serve the whole department.
    renewers = {
        "approval_lapsing": (placeholders.approves_identity_details, True),
        "authorization_lapsing": (placeholders.authorizes_false_identities, False),
        "inspection_lapsing": ("equipment_officer", False),
    }
    sent = 0
    async with conn.transaction():
        for item in await repo.lapsing(conn, now, now + timedelta(days=days)):
            what, fix = _RENEWS[item["kind"]]
            device = f" on {item['asset_tag']}" if item["asset_tag"] else ""
            when = f"{item['lapses_at']:%Y-%m-%d %H:%M} UTC"
            sent += await _tell(
                conn,
                [item["handler_id"], *await _renewers(conn, *renewers[item["kind"]], item["unit_id"])],
                key=f"{item['kind']}:{item['persona_id']}:{item['asset_tag'] or ''}:{item['lapses_at'].isoformat()}",
                kind=item["kind"],
                subject=f"{item['codename']}: the {what}{device} lapses on {when}",
                body=(
                    f"The {what}{device} of {item['codename']} (case {item['case_number']}) lapses on {when}.\n"
                    f"After that the persona may not be used until {fix} (003 IV.B.2, IV.B.3.b.2).\n"
                ),
                now=now,
            )
    return sent


async def sweep(pool: asyncpg.Pool, runtime: Runtime, now: datetime) -> LapseResult:
    result = LapseResult()
    async with pool.acquire() as conn:
        after: UUID | None = None
        while (after := await _lapse_batch(conn, runtime, now, after, result)) is not None:
            pass
        result.reminders = await _remind(conn, runtime, now)
    return result

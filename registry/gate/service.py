"""The activation gate (DESIGN: persona lifecycle): a persona goes into use only when every
condition of the policy holds, and the answer says, for each one that does not, what to do.

`evaluate` is a pure function of the facts the repo gathers in one query, so the gate, the
activation step and any later sweep judge by the same rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from registry.audit.service import record
from registry.errors import Forbidden, GateFailed, InvalidTransition, NotFound
from registry.gate import repo
from registry.gate.schemas import Condition, GateOut
from registry.personas import repo as personas_repo
from registry.personas.schemas import StatusOut
from registry.policy import Policy
from registry.runtime import RequestContext, Runtime


def _day(value: Any) -> date:
    return msgspec.convert(value, date)


def evaluate(facts: asyncpg.Record, policy: Policy, now: datetime) -> GateOut:
    today = now.date()
    conditions = [
        _approval(facts, now),
        _investigation(facts, now),
        _accounts(facts["accounts"]),
        _equipment(facts["devices"]),
        _terms_of_service(facts["platforms"], policy, today),
        _conduct_review(facts["review_due_on"], facts["review_enforced"], policy, today),
    ]
    return GateOut(ready=all(c.met for c in conditions), conditions=conditions)


def _approval(facts: asyncpg.Record, now: datetime) -> Condition:
    clause = "003 IV.B.3.b.2"
    status, expires = facts["status"], facts["approval_expires_at"]
    if status not in ("approved", "active", "suspended"):
        detail = {
            "draft": "Complete the documented identity and submit it for approval.",
            "rejected": "The supervisor rejected it: edit the identity as asked and submit it again.",
            "submitted": "Waiting for the investigations supervisor to approve the documented details.",
        }.get(status, f"The persona is {status} and cannot be used.")
        return Condition("approved", False, clause, detail)
    if expires is None or expires <= now:
        return Condition(
            "approved", False, clause, f"The approval expired on {expires:%Y-%m-%d}: ask a supervisor to renew it."
        )
    return Condition("approved", True, clause, f"Approved until {expires:%Y-%m-%d}.")


def _investigation(facts: asyncpg.Record, now: datetime) -> Condition:
    clause = "003 IV.B.1.a, IV.B.3.a"
    until = facts["authorized_until"]
    case = facts["case_number"]
    if until is None:
        return Condition(
            "investigation_authorized",
            False,
            clause,
            f"Case {case} is not yet authorized to use false identities: ask the authorizing official.",
        )
    if until <= now:
        return Condition(
            "investigation_authorized",
            False,
            clause,
            f"Case {case}'s authorization lapsed on {until:%Y-%m-%d}: ask the authorizing official to "
            "authorize it again.",
        )
    return Condition("investigation_authorized", True, clause, f"Case {case} authorized until {until:%Y-%m-%d}.")


def _accounts(accounts: list[dict[str, Any]]) -> Condition:
    clause = "003 IV.B.1.b"
    if not accounts:
        return Condition(
            "accounts_authorized", False, clause, "Request the platform account (site or profile) the persona will use."
        )
    waiting = [a["platform"] for a in accounts if a["status"] != "authorized"]
    if waiting:
        return Condition(
            "accounts_authorized",
            False,
            clause,
            f"Waiting for the authorizing official to authorize the account on {', '.join(waiting)}.",
        )
    return Condition("accounts_authorized", True, clause, f"{len(accounts)} account(s) authorized.")


def _equipment(devices: list[dict[str, Any]]) -> Condition:
    clause = "003 IV.B.2"
    if any(d["current"] for d in devices):
        tags = ", ".join(d["asset_tag"] for d in devices if d["current"])
        return Condition("isolated_equipment", True, clause, f"Assigned and inspected: {tags}.")
    if not devices:
        return Condition(
            "isolated_equipment",
            False,
            clause,
            "Assign a department device that has passed a current isolation inspection.",
        )
    problems = [
        f"{d['asset_tag']} "
        + (
            "has never been inspected"
            if d["passed"] is None
            else "failed its isolation inspection"
            if not d["passed"]
            else "has an expired isolation inspection"
        )
        for d in devices
    ]
    return Condition(
        "isolated_equipment",
        False,
        clause,
        "; ".join(problems) + ": ask the equipment officer to inspect it, or assign another device.",
    )


def _terms_of_service(platforms: list[dict[str, Any]], policy: Policy, today: date) -> Condition:
    clause = "003 IV.B.3.c"
    if not platforms:
        return Condition(
            "terms_of_service",
            False,
            clause,
            "No platform yet: request an account, then acknowledge that platform's terms of service.",
        )
    oldest = today - timedelta(days=policy.platforms.tos_review_max_age_days)
    problems = []
    for p in platforms:
        if p["reviewed_on"] is None:
            problems.append(f"{p['platform']} has no terms-of-service review: ask legal to review it")
        elif _day(p["reviewed_on"]) < oldest:
            problems.append(
                f"{p['platform']}'s terms-of-service review of {p['reviewed_on']} is stale: ask legal "
                "to review it again"
            )
        elif not p["acknowledged"]:
            problems.append(f"acknowledge the current terms-of-service review of {p['platform']}")
    if problems:
        return Condition("terms_of_service", False, clause, "; ".join(problems).capitalize() + ".")
    return Condition("terms_of_service", True, clause, "Current reviews acknowledged for every platform.")


CONDUCT_REVIEW = "conduct_review_scheduled"


def _conduct_review(due_on: date | None, enforced: bool, policy: Policy, today: date) -> Condition:
    clause = "003 IV.B.4"
    if due_on is None:
        return Condition(
            CONDUCT_REVIEW,
            False,
            clause,
            "No conduct review is scheduled; one is scheduled when the persona is approved.",
        )
    grace = policy.personas.review_grace_days
    past = due_on + timedelta(days=grace) < today
    if enforced or past:
        consequence = (
            "the persona stays suspended until it is held"
            if policy.personas.overdue_review_action == "suspend"
            else "hold it now"
        )
        what = (
            f"The conduct review due {due_on:%Y-%m-%d} is overdue (past {grace} days of grace)"
            if past
            else f"A conduct review was missed and not held since (now due {due_on:%Y-%m-%d})"
        )
        return Condition(
            CONDUCT_REVIEW, False, clause, f"{what}: {consequence}; ask the investigations commander to hold it."
        )
    return Condition(CONDUCT_REVIEW, True, clause, f"Conduct review due {due_on:%Y-%m-%d}.")


def only(result: GateOut, condition: str) -> GateOut:
    """The gate narrowed to one condition."""
    kept = [c for c in result.conditions if c.condition == condition]
    return GateOut(ready=all(c.met for c in kept), conditions=kept)


async def _facts(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> asyncpg.Record:
    rows = await repo.facts(conn, [persona_id], ctx.me.id, runtime.permissions.unit_wide_roles, ctx.now)
    if not rows:
        raise NotFound("No such persona, or it is outside your need-to-know.")
    return rows[0]


def refusal(codename: str, step: str, result: GateOut) -> GateFailed:
    """The 409 for a step the gate does not allow: every unmet condition, its clause, what to do."""
    unmet = [c for c in result.conditions if not c.met]
    return GateFailed(
        f"{codename} cannot {step} yet: " + " ".join(f"[{c.condition}] {c.detail}" for c in unmet),
        unmet=[{"condition": c.condition, "clause": c.clause, "detail": c.detail} for c in unmet],
    )


async def gate(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> GateOut:
    return evaluate(await _facts(conn, runtime, ctx, persona_id), runtime.policy, ctx.now)


async def lapsed(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_ids: list[UUID]
) -> dict[UUID, list[str]]:
    """For active personas: the conditions they no longer meet (one query for a whole page)."""
    if not persona_ids:
        return {}
    rows = await repo.facts(conn, persona_ids, ctx.me.id, runtime.permissions.unit_wide_roles, ctx.now)
    return {
        row["id"]: [c.condition for c in evaluate(row, runtime.policy, ctx.now).conditions if not c.met] for row in rows
    }


async def activate(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> StatusOut:
    """approved -> active, only when the gate passes; otherwise 409 with every unmet condition."""
    me = ctx.me
    unit_roles = runtime.permissions.unit_wide_roles
    facts = await _facts(conn, runtime, ctx, persona_id)
    result = evaluate(facts, runtime.policy, ctx.now)
    if facts["handler_id"] != me.id:
        raise Forbidden("Only the persona's handler activates it.")
    if not result.ready:
        raise refusal(facts["codename"], "be activated", result)
    row = await personas_repo.transition(
        conn,
        persona_id,
        me.id,
        unit_roles,
        allowed_from=("approved",),
        to="active",
        who=personas_repo.HANDLER,
        now=ctx.now,
    )
    if row is None:
        raise InvalidTransition(f"The persona is {facts['status']}; only an approved persona is activated.")
    await personas_repo.add_history(conn, persona_id, ctx.now, "activate", me.id, {})
    await record(
        conn,
        ctx,
        "persona.activate",
        target_type="persona",
        target_id=persona_id,
        details={"codename": row["codename"]},
    )
    return StatusOut.of(row)

"""The one answer to "what holds for this persona, and what may this caller do with it now".

The API's gate, every lifecycle step's refusal, activity recording, the persona page and the
periodic sweep all ask here, so none of them can say the opposite of another."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from registry.errors import Forbidden, GateFailed, InvalidTransition, NotFound
from registry.lifecycle import conditions, repo
from registry.lifecycle.schemas import Assessment, Condition, Device, GateOut, Step
from registry.permissions import Permission
from registry.runtime import CurrentUser, RequestContext, Runtime
from registry.status import PersonaStatus

S = PersonaStatus

# The steps, in the order a page offers them.
STEPS = (
    "edit",
    "submit",
    "approve",
    "reject",
    "renew",
    "activate",
    "record_activity",
    "record_warming",
    "suspend",
    "resume",
    "retire",
    "compromise",
    "handover",
    "assess_linkage",
    # Preparations beside the lifecycle, which their own domains carry out.
    "request_account",
    "acknowledge_terms",
    "assign_equipment",
    "release_equipment",
    "record_disabled_account",
)


async def facts(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> asyncpg.Record:
    rows = await repo.facts(conn, [persona_id], ctx.me.id, runtime.permissions.unit_wide_roles)
    if not rows:
        raise NotFound("No such persona, or it is outside your need-to-know.")
    return rows[0]


async def gate(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> GateOut:
    return conditions.evaluate(await facts(conn, runtime, ctx, persona_id), runtime.policy, ctx.now)


async def assess(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> Assessment:
    row = await facts(conn, runtime, ctx, persona_id)
    return assessment(row, runtime, ctx)


def assessment(row: asyncpg.Record, runtime: Runtime, ctx: RequestContext) -> Assessment:
    result = conditions.evaluate(row, runtime.policy, ctx.now)
    return Assessment(
        persona_id=row["id"],
        codename=row["codename"],
        status=row["status"],
        version=row["version"],
        ready=result.ready,
        conditions=result.conditions,
        devices=conditions.devices(row, ctx.now),
        steps=steps_for(row, result, ctx.me, runtime),
    )


def resume_conditions(row: asyncpg.Record, result: GateOut) -> GateOut:
    """A persona going back into use passes the whole gate again; one that was not in use must
    still not be past a missed conduct review (003 IV.B.4)."""
    if row["suspended_from"] == S.ACTIVE:
        return result
    return conditions.only(result, conditions.CONDUCT_REVIEW)


# Why a step is refused, which decides the answer: 403 for the wrong person or role, 409 for the
# wrong state, 409 with every unmet condition.
ROLE, PERSON, STATE, CONDITIONS = "role", "person", "state", "conditions"

Check = tuple[bool, str, str, list[Condition]]  # (holds, refused_by, reason, the unmet conditions)


def steps_for(row: asyncpg.Record, result: GateOut, me: CurrentUser, runtime: Runtime) -> list[Step]:
    """Every step, and for each the first reason this caller may not take it now."""
    status = S(row["status"])
    handler = row["handler_id"] == me.id
    own = me.id in (row["handler_id"], row["requested_by"])
    chain: bool = row["in_chain"]

    def met(gate: GateOut) -> Check:
        missing = conditions.unmet(gate)
        return not missing, CONDITIONS, " ".join(f"[{c.condition}] {c.detail}" for c in missing), missing

    def state(*allowed: PersonaStatus) -> Check:
        if status in S.closed():
            return False, STATE, f"The persona is {status}; its record is closed.", []
        return status in allowed, STATE, f"The persona is {status}; this needs it to be {' or '.join(allowed)}.", []

    def step(name: str, permission: Permission, *checks: Check) -> Step:
        if not me.can(permission):
            return Step(name, False, ROLE, "Your roles do not include this step.")
        for holds, refused_by, reason, missing in checks:
            if not holds:
                return Step(name, False, refused_by, reason, missing)
        return Step(name, True)

    only_handler: Check = (handler, PERSON, "Only the persona's handler takes this step.", [])
    not_own: Check = (
        not own,
        PERSON,
        "You requested or handle this persona: another supervisor must decide (003 IV.B.3.b.2).",
        [],
    )
    no_pending_change: Check = (
        row["suspended_from"] != S.SUBMITTED,
        STATE,
        "Its documented details changed since the approval: lift the suspension, then approve the change.",
        [],
    )

    # The supervisors of the persona's unit (or one above it) decide; one who sees it only
    # through the investigation's team does not.
    def of_chain(does: str) -> Check:
        return (chain, PERSON, f"Only a supervisor of the persona's unit, or of a unit above it, {does}.", [])

    of_unit = of_chain("decides")
    handler_or_chain: Check = (
        handler or chain,
        PERSON,
        "Only the handler or the supervisor and commander chain takes this step.",
        [],
    )
    in_chain: Check = (chain, PERSON, "Only the supervisor and commander chain lifts a suspension.", [])
    steps = {
        "edit": step("edit", Permission.PERSONA_EDIT, only_handler, state(*S.editable())),
        "submit": step("submit", Permission.PERSONA_EDIT, only_handler, state(S.DRAFT, S.REJECTED)),
        "approve": step("approve", Permission.PERSONA_APPROVE, of_unit, not_own, state(S.SUBMITTED)),
        "reject": step("reject", Permission.PERSONA_APPROVE, of_unit, not_own, state(S.SUBMITTED)),
        "renew": step(
            "renew", Permission.PERSONA_APPROVE, of_unit, not_own, state(*S.approved_like()), no_pending_change
        ),
        # Into use: every unmet condition is the answer (an unapproved persona's is among them).
        "activate": step("activate", Permission.PERSONA_ACTIVATE, only_handler, met(result), state(S.APPROVED)),
        "record_activity": step(
            "record_activity", Permission.ACTIVITY_RECORD, only_handler, met(result), state(S.ACTIVE)
        ),
        # Warming a dormant persona's accounts is a use too: every condition but their age holds.
        "record_warming": step(
            "record_warming",
            Permission.ACTIVITY_RECORD,
            only_handler,
            met(conditions.without(result, conditions.ACCOUNT_AGE)),
            state(S.APPROVED),
        ),
        "suspend": step("suspend", Permission.PERSONA_SUSPEND, handler_or_chain, state(*S.suspendable())),
        "resume": step(
            "resume", Permission.PERSONA_SUSPEND, in_chain, state(S.SUSPENDED), met(resume_conditions(row, result))
        ),
        "retire": step("retire", Permission.PERSONA_SUSPEND, handler_or_chain, state(*S.live())),
        "compromise": step("compromise", Permission.PERSONA_SUSPEND, handler_or_chain, state(*S.live())),
        "handover": step("handover", Permission.PERSONA_HANDOVER, of_chain("hands a persona over"), state(*S.live())),
        # The blast radius of a burn: which live personas share a link with this one, and what
        # becomes of each (issue 16.1).
        "assess_linkage": step(
            "assess_linkage",
            Permission.PERSONA_SUSPEND,
            (chain, PERSON, "The supervisor and commander chain assess a burned persona's links.", []),
        ),
        # The handler prepares a live persona's accounts and terms; the handler or the chain
        # equips it, releases its devices and records a site's disabling of an account.
        "request_account": step("request_account", Permission.ACCOUNT_REQUEST, only_handler, state(*S.live())),
        "acknowledge_terms": step("acknowledge_terms", Permission.TOS_ACKNOWLEDGE, only_handler, state(*S.live())),
        "assign_equipment": step("assign_equipment", Permission.EQUIPMENT_ASSIGN, handler_or_chain, state(*S.live())),
        "release_equipment": step("release_equipment", Permission.EQUIPMENT_ASSIGN, handler_or_chain, state(*S.live())),
        "record_disabled_account": step(
            "record_disabled_account", Permission.ACCOUNT_DISABLE, handler_or_chain, state(*S.live())
        ),
    }
    return [steps[name] for name in STEPS]


def refusal(codename: str, step: str, result: GateOut) -> GateFailed:
    """The 409 for a step the conditions do not allow: every unmet condition, its clause, what to do."""
    unmet = conditions.unmet(result)
    return GateFailed(
        f"{codename} cannot {step} now: " + " ".join(f"[{c.condition}] {c.detail}" for c in unmet),
        unmet=[{"condition": c.condition, "clause": c.clause, "detail": c.detail} for c in unmet],
    )


def require(row: asyncpg.Record, name: str, runtime: Runtime, ctx: RequestContext, verb: str) -> GateOut:
    """The conditions, if the caller may take step `name` now; otherwise the error its reason
    calls for."""
    result = conditions.evaluate(row, runtime.policy, ctx.now)
    found = next(s for s in steps_for(row, result, ctx.me, runtime) if s.step == name)
    if found.allowed:
        return result
    reason = found.reason or ""
    if found.refused_by == CONDITIONS:
        raise refusal(row["codename"], verb, resume_conditions(row, result) if name == "resume" else result)
    if found.refused_by == STATE:
        raise InvalidTransition(reason, status_now=row["status"])
    raise Forbidden(reason)


async def blocked_by_terms(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext) -> dict[str, list[str]]:
    """By platform name, the codenames of active personas its terms-of-service condition now
    stops (003 IV.B.3.c): a new review blocks each until its handler acknowledges it."""
    blocked: dict[str, list[str]] = {}
    for row in await repo.active_on_platforms(conn):
        for platform in conditions.platforms_blocking(row, runtime.policy, ctx.now.date()):
            blocked.setdefault(platform, []).append(row["codename"])
    return blocked


def usable_device(devices: list[Device], equipment_id: UUID) -> Device | None:
    return next((d for d in devices if d.id == equipment_id), None)

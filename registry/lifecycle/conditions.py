"""The policy's conditions for a persona in use (DESIGN: persona lifecycle), judged from the facts
`repo.fact_columns` names (gathered by `repo.facts` for a gate, and by a list page's own
statement for its personas). They are judged when a persona is activated or resumed, on
every use (recording activity), and by the periodic sweep while it is active: a condition that
stops holding stops the use, not just the next activation.

Everything here is a pure function of the facts, the policy and the time, so the gate, the
steps, the sweep and every page judge by the same rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from registry.lifecycle.schemas import Condition, Device, GateOut
from registry.policy import Policy
from registry.reviews import service as reviews
from registry.status import PersonaStatus

APPROVED = "approved"
INVESTIGATION = "investigation_authorized"
ACCOUNTS = "accounts_authorized"
EQUIPMENT = "isolated_equipment"
TERMS = "terms_of_service"
ACCOUNT_AGE = "account_old_enough"
CONDUCT_REVIEW = "conduct_review_scheduled"

# The conditions a persona can stop meeting while in use, which `personas.lapse_action` acts
# on. An overdue conduct review has its own rule and sweep (`overdue_review_action`).
LAPSING = (APPROVED, INVESTIGATION, ACCOUNTS, EQUIPMENT, TERMS)


def _day(value: Any) -> date:
    return msgspec.convert(value, date)


def _stamp(value: Any) -> datetime:
    return msgspec.convert(value, datetime)


def _on(value: date | datetime) -> str:
    """A day as the messages give it, YYYY-MM-DD (a timestamp's own day, in UTC). Not strftime,
    which costs several times as much, and a list page judges dozens of gates."""
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def evaluate(facts: asyncpg.Record, policy: Policy, now: datetime) -> GateOut:
    today = now.date()
    conditions = [
        _approval(facts, now),
        _investigation(facts, now),
        _accounts(facts["accounts"]),
        _account_age(facts["accounts"], policy, today),
        _equipment(devices(facts, now)),
        _terms_of_service(facts["platforms"], policy, today),
        _conduct_review(facts["review_due_on"], facts["review_enforced"], policy, today),
    ]
    return GateOut(ready=all(c.met for c in conditions), conditions=conditions)


def devices(facts: asyncpg.Record, now: datetime) -> list[Device]:
    """The department devices the persona holds, each with whether it may be used now."""
    held = []
    for d in facts["devices"]:
        valid_until = _stamp(d["valid_until"]) if d["valid_until"] is not None else None
        usable = bool(d["passed"]) and valid_until is not None and valid_until > now
        if d["passed"] is None:
            problem = f"{d['asset_tag']} has never been inspected"
        elif not d["passed"]:
            problem = f"{d['asset_tag']} failed its isolation inspection of {_on(_stamp(d['inspected_at']))}"
        elif not usable:
            until = _on(valid_until) if valid_until is not None else "a day not recorded"
            problem = f"{d['asset_tag']}'s isolation inspection of {_on(_stamp(d['inspected_at']))} expired on {until}"
        else:
            problem = None
        held.append(
            Device(
                id=UUID(d["id"]),
                asset_tag=d["asset_tag"],
                kind=d["kind"],
                usable=usable,
                inspection_valid_until=valid_until,
                problem=problem,
            )
        )
    return held


def _approval(facts: asyncpg.Record, now: datetime) -> Condition:
    clause = "003 IV.B.3.b.2"
    status, expires = facts["status"], facts["approval_expires_at"]
    if status == PersonaStatus.SUSPENDED and facts["suspended_from"] == PersonaStatus.SUBMITTED:
        return Condition(
            APPROVED,
            False,
            clause,
            "Its documented details changed since the approval: a supervisor must approve them.",
        )
    if status not in PersonaStatus.approved_like():
        detail = {
            PersonaStatus.DRAFT: "Complete the documented identity and submit it for approval.",
            PersonaStatus.REJECTED: "The supervisor rejected it: edit the identity as asked and submit it again.",
            PersonaStatus.SUBMITTED: "Waiting for the investigations supervisor to approve the documented details.",
        }.get(status, f"The persona is {status} and cannot be used.")
        return Condition(APPROVED, False, clause, detail)
    if expires is None or expires <= now:
        return Condition(
            APPROVED, False, clause, f"The approval expired on {_on(expires)}: ask a supervisor to renew it."
        )
    return Condition(APPROVED, True, clause, f"Approved until {_on(expires)}.")


def _investigation(facts: asyncpg.Record, now: datetime) -> Condition:
    clause = "003 IV.B.1.a, IV.B.3.a"
    until = facts["authorized_until"]
    case = facts["case_number"]
    if facts["investigation_status"] == "refused":
        return Condition(
            INVESTIGATION,
            False,
            clause,
            f"The authorizing official refused case {case} on {_on(facts['refused_at'])} "
            f"({facts['refusal_reason']}): no persona may be used under it.",
        )
    if until is None:
        return Condition(
            INVESTIGATION,
            False,
            clause,
            f"Case {case} is not yet authorized to use false identities: ask the authorizing official.",
        )
    if until <= now:
        return Condition(
            INVESTIGATION,
            False,
            clause,
            f"Case {case}'s authorization lapsed on {_on(until)}: ask the authorizing official to authorize it again.",
        )
    return Condition(INVESTIGATION, True, clause, f"Case {case} authorized until {_on(until)}.")


def _accounts(accounts: list[dict[str, Any]]) -> Condition:
    clause = "003 IV.B.1.b"
    live = [a for a in accounts if a["status"] in ("requested", "authorized")]
    # A site that disabled an account may have found the persona out: until a new account on
    # that platform is authorized, the persona is not used there or anywhere.
    replaced = {a["platform"] for a in live if a["status"] == "authorized"}
    disabled = sorted({a["platform"] for a in accounts if a["status"] == "disabled"} - replaced)
    if disabled:
        return Condition(
            ACCOUNTS,
            False,
            clause,
            f"The site disabled the account on {', '.join(disabled)}: a supervisor should weigh whether the persona "
            "is exposed; it can be used again once a new account there is authorized.",
        )
    if not live:
        return Condition(
            ACCOUNTS, False, clause, "Request the platform account (site or profile) the persona will use."
        )
    waiting = [a["platform"] for a in live if a["status"] != "authorized"]
    if waiting:
        return Condition(
            ACCOUNTS,
            False,
            clause,
            f"Waiting for the authorizing official to authorize the account on {', '.join(waiting)}.",
        )
    return Condition(ACCOUNTS, True, clause, f"{len(live)} account(s) authorized.")


def _account_age(accounts: list[dict[str, Any]], policy: Policy, today: date) -> Condition:
    """A profile made last week is the first thing a platform or a target notices: each account
    must have existed on its site for the policy's minimum age before use."""
    clause = "department policy: platforms.account_minimum_age_days"
    waiting = []
    # The day the last account comes of age, unless one's creation date is still unknown.
    met_on: date | None = None
    undated = False
    for a in accounts:
        days = policy.platforms.minimum_age_days(a["platform"])
        if a["status"] not in ("requested", "authorized") or days == 0:
            continue
        if a["created_on"] is None:
            waiting.append(f"record when the account on {a['platform']} was created on the site")
            undated = True
            continue
        opens = _day(a["created_on"]) + timedelta(days=days)
        if opens > today:
            waiting.append(
                f"the account on {a['platform']} was created on {a['created_on']}; at {days} days old it may be "
                f"used from {_on(opens)}"
            )
            met_on = max(met_on or opens, opens)
    if waiting:
        return Condition(ACCOUNT_AGE, False, clause, "; ".join(waiting).capitalize() + ".", None if undated else met_on)
    return Condition(ACCOUNT_AGE, True, clause, "Every account is old enough to use.")


def _equipment(held: list[Device]) -> Condition:
    clause = "003 IV.B.2"
    usable = [d.asset_tag for d in held if d.usable]
    if usable:
        return Condition(EQUIPMENT, True, clause, f"Assigned and inspected: {', '.join(usable)}.")
    if not held:
        return Condition(
            EQUIPMENT, False, clause, "Assign a department device that has passed a current isolation inspection."
        )
    problems = "; ".join(d.problem for d in held if d.problem)
    return Condition(
        EQUIPMENT, False, clause, f"{problems}: ask the equipment officer to inspect it, or assign another device."
    )


def _terms_of_service(platforms: list[dict[str, Any]], policy: Policy, today: date) -> Condition:
    clause = "003 IV.B.3.c"
    if not platforms:
        return Condition(
            TERMS,
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
                f"{p['platform']}'s terms-of-service review of {p['reviewed_on']} is stale: ask legal to "
                "review it again"
            )
        elif not p["acknowledged"]:
            problems.append(f"acknowledge the current terms-of-service review of {p['platform']} ({p['reviewed_on']})")
    if problems:
        return Condition(TERMS, False, clause, "; ".join(problems).capitalize() + ".")
    return Condition(TERMS, True, clause, "Current reviews acknowledged for every platform.")


def platforms_blocking(facts: asyncpg.Record, policy: Policy, today: date) -> list[str]:
    """The platforms whose terms-of-service condition the persona does not meet (no review, a
    stale one, or a current one its handler has not acknowledged)."""
    return [p["platform"] for p in facts["platforms"] if not _terms_of_service([p], policy, today).met]


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
    past = reviews.standing(due_on, policy, today) == "overdue"
    if enforced or past:
        consequence = (
            "the persona stays suspended until it is held"
            if policy.personas.overdue_review_action == "suspend"
            else "hold it now"
        )
        what = (
            f"The conduct review due {_on(due_on)} is overdue (past {grace} days of grace)"
            if past
            else f"A conduct review was missed and not held since (now due {_on(due_on)})"
        )
        return Condition(
            CONDUCT_REVIEW, False, clause, f"{what}: {consequence}; ask the investigations commander to hold it."
        )
    return Condition(CONDUCT_REVIEW, True, clause, f"Conduct review due {_on(due_on)}.")


def only(result: GateOut, *names: str) -> GateOut:
    """The gate narrowed to some conditions."""
    kept = [c for c in result.conditions if c.condition in names]
    return GateOut(ready=all(c.met for c in kept), conditions=kept)


def without(result: GateOut, *names: str) -> GateOut:
    """The gate less some conditions."""
    kept = [c for c in result.conditions if c.condition not in names]
    return GateOut(ready=all(c.met for c in kept), conditions=kept)


def unmet(result: GateOut) -> list[Condition]:
    return [c for c in result.conditions if not c.met]

"""Disclosure packs (003 IV.B.4: "to protect the employee from later claims of secrecy and
investigational misconduct"): for an investigation or a persona, what was authorized, by whom
and when, and whether the policy's conditions held on each day the persona was used; every item
cites the audit event that recorded it, and the pack carries the chain's head at export, so the
pack is proved against the registry by `verify`.

Who: auditors and legal (`disclosure:create`), department-wide, since they answer to the court
and the inspector rather than to the unit. The clear part of a pack carries codenames, case
numbers and usernames only; whatever the registry encrypts at rest (the documented identity, an
account's handle, e-mail, phone and vault path, activity summaries, review notes) stays out of
it. The identity and account details go, only when a passphrase is given, into a part encrypted
under it, and only for a role that may disclose identities (`disclosure:identity`: legal, who
answers a court's order); auditors never read legends (DESIGN), so their passphrase is refused.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from jinja2 import Environment, FileSystemLoader, select_autoescape

from registry.accounts.service import for_persona as accounts_for_persona
from registry.audit import repo as audit_repo
from registry.audit import service as audit_service
from registry.audit.actions import Action
from registry.audit.service import record, record_failure
from registry.disclosure import pack, repo
from registry.disclosure.pack import PackError, Problem
from registry.disclosure.schemas import ChainHead, DisclosureIn, VerifyOut
from registry.errors import Forbidden, NotFound
from registry.lifecycle import conditions
from registry.permissions import Permission
from registry.personas.identity import open_identity
from registry.runtime import RequestContext, Runtime

_REPORT = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Pack:
    filename: str
    content: bytes


async def subject_of(conn: asyncpg.Connection, case_number: str | None, codename: str | None) -> DisclosureIn:
    """The request for a case number or a codename (the page and the command take names, not ids)."""
    if case_number:
        found = await repo.investigation_by_case(conn, case_number.strip())
        if found is None:
            raise NotFound(f"No investigation has case number {case_number.strip()}.", field="case_number")
        return DisclosureIn(investigation_id=found)
    if codename:
        found = await repo.persona_by_codename(conn, codename.strip())
        if found is None:
            raise NotFound(f"No persona has the codename {codename.strip()}.", field="codename")
        return DisclosureIn(persona_id=found)
    raise NotFound("Give a case number or a codename.", field="case_number")


async def seal_chain(conn: asyncpg.Connection) -> None:
    """Give every committed event its place in the chain, so the pack can cite its hash. Outside
    any transaction (one statement, committed by itself): sealing holds the chain head's lock
    until it commits, so it must not wait for the pack's transaction to end. A chain whose head
    is gone makes no pack (AuditChainBroken, 409)."""
    await audit_service.seal(conn)


def _text(value: Any) -> Any:
    return msgspec.to_builtins(value)


class _Citations:
    """Finds the audit event that recorded an item: the same record, at the same moment (every
    step writes its rows and its event with the request's one `now`)."""

    def __init__(self, events: list[asyncpg.Record]) -> None:
        self._at: dict[tuple[str, datetime], list[asyncpg.Record]] = defaultdict(list)
        for e in events:
            self._at[(e["target_id"], e["occurred_at"])].append(e)
        self.cited: dict[int, asyncpg.Record] = {}

    def cite(self, at: datetime | None, targets: Iterable[object], action: str | None = None) -> dict[str, Any] | None:
        if at is None:
            return None
        for target in targets:
            if target is None:
                continue
            for e in self._at.get((str(target), at), []):
                if e["outcome"] == "success" and (action is None or e["action"] == action):
                    self.cited[e["id"]] = e
                    return {"event_id": e["id"], "seq": e["seq"], "hash": e["hash"], "action": e["action"]}
        return None

    def keep(self, e: asyncpg.Record) -> dict[str, Any]:
        self.cited[e["id"]] = e
        return {"event_id": e["id"], "seq": e["seq"], "hash": e["hash"], "action": e["action"]}


def _event(e: asyncpg.Record) -> dict[str, Any]:
    return {
        "event_id": e["id"],
        "seq": e["seq"],
        "hash": e["hash"],
        "occurred_at": _text(e["occurred_at"]),
        "actor": e["actor"],
        "action": e["action"],
        "target_type": e["target_type"],
        "target_id": e["target_id"],
        "outcome": e["outcome"],
        "details": e["details"],
    }


Timeline = list[tuple[datetime, Any]]
# History entries whose audit event is named otherwise than `persona.<action>`.
_EVENT_OF = {
    "requested": "persona.create",
    "identity_changed": "persona.identity_change",
    "account_requested": "account.request",
    "account_authorized": "account.authorize",
    "account_disabled": "account.disabled",
    "account_declined": "account.decline",
    "equipment_assigned": "equipment.assign",
    "equipment_released": "equipment.release",
    "review": "review.hold",
}


def _as_of(timeline: Timeline, at: datetime, default: Any) -> Any:
    value = default
    for when, v in timeline:
        if when > at:
            break
        value = v
    return value


async def _gate_at(
    conn: asyncpg.Connection,
    runtime: Runtime,
    persona_id: UUID,
    timelines: tuple[Timeline, Timeline],
    at: datetime,
    warming: bool,
) -> dict[str, Any]:
    """The policy's conditions judged on the facts as they stood at `at`."""
    statuses, authorizations = timelines
    status = _as_of(statuses, at, "draft")
    until = _as_of(authorizations, at, None)
    facts = await repo.facts_as_of(conn, persona_id, at, status, msgspec.convert(until, datetime) if until else None)
    result = conditions.evaluate(facts, runtime.policy, at)
    if warming:
        # Warming keeps a dormant account looking used before it is old enough.
        result = conditions.without(result, conditions.ACCOUNT_AGE)
    return {"at": _text(at), "status": status, **_text(result)}


async def _gather(conn: asyncpg.Connection, runtime: Runtime, data: DisclosureIn) -> dict[str, Any]:
    if data.persona_id is not None:
        investigation_id = await conn.fetchval("SELECT investigation_id FROM personas WHERE id = $1", data.persona_id)
        if investigation_id is None:
            raise NotFound("No such persona.", field="persona_id")
    else:
        investigation_id = data.investigation_id
    inv = await repo.investigation(conn, investigation_id)
    if inv is None:
        raise NotFound("No such investigation.", field="investigation_id")
    personas = await repo.personas(conn, investigation_id, data.persona_id)
    persona_ids = [p["id"] for p in personas]
    history = await repo.history(conn, persona_ids)
    accounts = await repo.accounts(conn, persona_ids)
    platform_ids = sorted({a["platform_id"] for a in accounts})
    tos = await repo.tos_reviews(conn, platform_ids)
    acks = await repo.acknowledgements(conn, persona_ids)
    assignments = await repo.assignments(conn, persona_ids)
    equipment_ids = sorted({a["equipment_id"] for a in assignments})
    inspections = await repo.inspections(conn, equipment_ids)
    reviews = await repo.reviews(conn, investigation_id, persona_ids)
    activity = await repo.activity(conn, persona_ids)
    # The whole trail of the case's own records; devices and platforms serve other cases too,
    # so only their events that an item cites are carried.
    own = [investigation_id, *persona_ids, *(a["id"] for a in accounts), *(r["id"] for r in reviews)]
    shared = [*platform_ids, *equipment_ids]
    head = await audit_repo.head(conn)
    head_seq = head["seq"] if head is not None else 0
    events = await repo.audit_events(conn, [str(i) for i in [*own, *shared]], head_seq)
    recordings = {
        e["details"].get("activity_id"): e
        for e in events
        if e["action"] == "activity.record" and e["outcome"] == "success"
    }
    c = _Citations(events)
    own_ids = {str(i) for i in own}

    # The authorization chain (003 IV.B.1.a): every authorization, not only the latest.
    authorizations = []
    authorized_timeline: Timeline = []
    for e in events:
        if (e["target_id"], e["action"], e["outcome"]) == (str(investigation_id), "investigation.authorize", "success"):
            until = e["details"].get("authorized_until")
            authorized_timeline.append((e["occurred_at"], until))
            authorizations.append(
                {"at": _text(e["occurred_at"]), "by": e["actor"], "authorized_until": until, "audit": c.keep(e)}
            )
    investigation = {
        "case_number": inv["case_number"],
        "title": inv["title"],
        "purpose": inv["purpose"],
        "necessity": inv["necessity"],
        "proportionality": inv["proportionality"],
        "collateral_intrusion": inv["collateral_intrusion"],
        "status": inv["status"],
        "opened_by": inv["opened_by"],
        "opened_at": _text(inv["created_at"]),
        "opened_audit": c.cite(inv["created_at"], [investigation_id], "investigation.create"),
        "authorized_by": inv["authorized_by"],
        "authorized_at": _text(inv["authorized_at"]),
        "authorized_until": _text(inv["authorized_until"]),
        "authorization_note": inv["authorization_note"],
        "refused_by": inv["refused_by"],
        "refused_at": _text(inv["refused_at"]),
        "refusal_reason": inv["refusal_reason"],
        "refusal_audit": c.cite(inv["refused_at"], [investigation_id], "investigation.refuse"),
        "authorizations": authorizations,
    }

    by_persona: dict[UUID, dict[str, list[asyncpg.Record]]] = defaultdict(lambda: defaultdict(list))
    for kind, rows in (
        ("history", history),
        ("accounts", accounts),
        ("acks", acks),
        ("assignments", assignments),
        ("activity", activity),
    ):
        for row in rows:
            by_persona[row["persona_id"]][kind].append(row)
    inspections_of: dict[UUID, list[asyncpg.Record]] = defaultdict(list)
    for row in inspections:
        inspections_of[row["equipment_id"]].append(row)

    out = []
    for p in personas:
        mine = by_persona[p["id"]]
        status_timeline = [
            (e["occurred_at"], e["details"]["status"])
            for e in events
            if e["target_id"] == str(p["id"]) and e["outcome"] == "success" and "status" in e["details"]
        ]
        entries = []
        for h in mine["history"]:
            details = h["details"]
            named = [details.get(k) for k in ("account_id", "equipment_id", "review_id")]
            # The event of the step, on the persona or the account, device or review the entry
            # names; else any event on those (never one on the persona of the same moment).
            action = _EVENT_OF.get(h["action"], f"persona.{h['action']}")
            cited = c.cite(h["at"], [p["id"], *named], action) or c.cite(h["at"], named)
            entries.append(
                {
                    "at": _text(h["at"]),
                    "action": h["action"],
                    "actor": h["actor"],
                    "details": details,
                    "audit": cited,
                }
            )
        account_items = [
            {
                "platform": a["platform"],
                "status": a["status"],
                "created_on_site": _text(a["created_on_site"]),
                "requested_by": a["requested_by"],
                "requested_at": _text(a["requested_at"]),
                "request_audit": c.cite(a["requested_at"], [a["id"]], "account.request"),
                "authorized_by": a["authorized_by"],
                "authorized_at": _text(a["authorized_at"]),
                "authorization_audit": c.cite(a["authorized_at"], [a["id"]], "account.authorize"),
                "declined_by": a["declined_by"],
                "declined_at": _text(a["declined_at"]),
                "decline_audit": c.cite(a["declined_at"], [a["id"]], "account.decline"),
            }
            for a in mine["accounts"]
        ]
        platforms = sorted({a["platform_id"] for a in mine["accounts"]})
        tos_items = [
            {
                "platform": t["platform"],
                "reviewed_on": _text(t["reviewed_on"]),
                "tos_version": t["tos_version"],
                "prohibits_false_identity": t["prohibits_false_identity"],
                "prohibits_automation": t["prohibits_automation"],
                "risk": t["risk"],
                "notes": t["notes"],
                "reviewed_by": t["reviewed_by"],
                "audit": c.cite(t["created_at"], [t["platform_id"]], "platform.tos_review"),
            }
            for t in tos
            if t["platform_id"] in platforms
        ]
        ack_items = [
            {
                "platform": k["platform"],
                "tos_version": k["tos_version"],
                "reviewed_on": _text(k["reviewed_on"]),
                "handler": k["handler"],
                "acknowledged_at": _text(k["acknowledged_at"]),
                "audit": c.cite(k["acknowledged_at"], [p["id"]], "persona.tos_acknowledge"),
            }
            for k in mine["acks"]
        ]
        devices = [
            {
                "asset_tag": a["asset_tag"],
                "kind": a["kind"],
                "assigned_at": _text(a["assigned_at"]),
                "assigned_by": a["assigned_by"],
                "assignment_audit": c.cite(a["assigned_at"], [a["equipment_id"]], "equipment.assign"),
                "released_at": _text(a["released_at"]),
                "released_by": a["released_by"],
                "release_reason": a["release_reason"],
                "release_audit": c.cite(a["released_at"], [a["equipment_id"]]),
                "inspections": [
                    {
                        "inspected_at": _text(i["inspected_at"]),
                        "inspected_by": i["inspected_by"],
                        "passed": i["passed"],
                        "on_department_network": i["on_department_network"],
                        "department_identifiers_present": i["department_identifiers_present"],
                        "attributable_connection": i["attributable_connection"],
                        "notes": i["notes"],
                        "valid_until": _text(i["valid_until"]),
                        "audit": c.cite(i["inspected_at"], [i["equipment_id"]], "equipment.inspect"),
                    }
                    for i in inspections_of[a["equipment_id"]]
                ],
            }
            for a in mine["assignments"]
        ]

        timelines = (status_timeline, authorized_timeline)
        activity_items = []
        for a in mine["activity"]:
            recorded = recordings.get(str(a["id"]))
            activity_items.append(
                {
                    "occurred_at": _text(a["occurred_at"]),
                    "platform": a["platform"],
                    "asset_tag": a["asset_tag"],
                    "warming": a["warming"],
                    "recorded_by": a["recorded_by"],
                    "recorded_at": _text(a["recorded_at"]),
                    "audit": c.keep(recorded) if recorded is not None else None,
                    # The conditions when the handler says it happened, and when the entry was
                    # recorded (the registry checks them then): an entry dated before they held
                    # shows it.
                    "gate": await _gate_at(conn, runtime, p["id"], timelines, a["occurred_at"], a["warming"]),
                    "gate_when_recorded": await _gate_at(
                        conn, runtime, p["id"], timelines, a["recorded_at"], a["warming"]
                    ),
                }
            )
        out.append(
            {
                "codename": p["codename"],
                "status": p["status"],
                "handler": p["handler"],
                "requested_by": p["requested_by"],
                "requested_at": _text(p["created_at"]),
                "approved_by": p["approved_by"],
                "approved_at": _text(p["approved_at"]),
                "approval_expires_at": _text(p["approval_expires_at"]),
                "history": entries,
                "accounts": account_items,
                "tos_reviews": tos_items,
                "tos_acknowledgements": ack_items,
                "equipment": devices,
                "activity": activity_items,
                "_id": p["id"],
                "_identity": bytes(p["identity"]),
            }
        )
    review_items = [
        {
            "handler": r["handler"],
            "covered": list(r["covered"]),
            "due_on": _text(r["due_on"]),
            "scheduled_for": _text(r["scheduled_for"]),
            "status": r["status"],
            "held_on": _text(r["held_on"]),
            "outcome": r["outcome"],
            "follow_up_on": _text(r["follow_up_on"]),
            "recorded_by": r["recorded_by"],
            "recorded_at": _text(r["recorded_at"]),
            "overdue_at": _text(r["overdue_at"]),
            "audit": c.cite(r["recorded_at"], [r["id"]], "review.hold"),
        }
        for r in reviews
    ]
    for e in events:
        if e["target_id"] in own_ids:
            c.cited[e["id"]] = e
    return {
        "investigation": investigation,
        "personas": out,
        "conduct_reviews": review_items,
        "audit_events": [
            _event(e) for e in sorted(c.cited.values(), key=lambda e: (e["seq"] is None, e["seq"], e["id"]))
        ],
        "chain_head": {"seq": head["seq"], "hash": bytes(head["hash"]).hex()} if head is not None else None,
    }


async def create(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, data: DisclosureIn) -> Pack:
    """The pack, audited; the chain must have been sealed just before (`seal_chain`). Called first
    in a transaction of its own, which it makes one snapshot (REPEATABLE READ): its dozen reads
    see the case as it stood at one moment, so no step can land between the persona's status
    and its history, or between an item and the events that cite it."""
    await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    user = ctx.user
    identity_wanted = data.passphrase is not None
    # The command line acts with the service's own key and database: its operator already holds
    # what the pack would protect.
    if identity_wanted and user is not None and not user.can(Permission.DISCLOSURE_IDENTITY):
        record_failure(
            ctx,
            Action.DISCLOSURE_CREATE,
            outcome="denied",
            target_type="persona" if data.persona_id else "investigation",
            target_id=data.persona_id or data.investigation_id,
            details={"reason": "identity part not permitted for the role"},
        )
        raise Forbidden(
            "Your role may not disclose identities: auditors never read legends. Export without a passphrase, "
            "or ask legal to export the identity part under the court's order."
        )
    found = await _gather(conn, runtime, data)
    pack_id = str(uuid.uuid4())
    personas = found["personas"]
    inv = found["investigation"]
    kind = "persona" if data.persona_id else "investigation"
    name = personas[0]["codename"] if data.persona_id and personas else inv["case_number"]
    report = {
        "format": pack.FORMAT,
        "pack_id": pack_id,
        "created_at": _text(ctx.now),
        "created_by": user.username if user else "registry command line",
        "subject": {"kind": kind, "case_number": inv["case_number"], "codename": name if data.persona_id else None},
        "chain_head": found["chain_head"],
        "identity_part": identity_wanted,
        "policy_note": (
            "Each activity entry's gate is judged by the registry's current policy against the facts as they stood "
            "at the entry's time."
        ),
        **{k: v for k, v in found.items() if k != "chain_head"},
        "personas": [{k: v for k, v in p.items() if not k.startswith("_")} for p in personas],
    }
    files = {
        pack.REPORT_JSON: msgspec.json.format(msgspec.json.encode(report), indent=2),
        pack.REPORT_HTML: _REPORT.get_template("report.html").render(r=report).encode(),
    }
    if data.passphrase is not None:
        identities = []
        for p in personas:
            identity = open_identity(runtime, p["_id"], p["_identity"])
            accounts = await accounts_for_persona(conn, runtime, p["_id"])
            identities.append(
                {
                    "codename": p["codename"],
                    "identity": identity,
                    "accounts": [
                        {
                            "platform": a.platform,
                            "handle": a.handle,
                            "profile_url": a.profile_url,
                            "email": a.email,
                            "phone": a.phone,
                            "credential_ref": a.credential_ref,
                        }
                        for a in accounts
                    ],
                }
            )
            # DESIGN: every read of identity details is an audit event.
            await record(
                conn,
                ctx,
                Action.PERSONA_READ_IDENTITY,
                target_type="persona",
                target_id=p["_id"],
                details={"codename": p["codename"], "purpose": "disclosure pack", "pack_id": pack_id},
            )
        files[pack.IDENTITY] = await asyncio.to_thread(pack.seal_identity, identities, data.passphrase, pack_id)
    manifest = {
        "format": pack.FORMAT,
        "pack_id": pack_id,
        "subject": report["subject"],
        "chain_head": found["chain_head"],
    }
    content = pack.build(files, manifest)
    await record(
        conn,
        ctx,
        Action.DISCLOSURE_CREATE,
        target_type=kind,
        target_id=data.persona_id or data.investigation_id,
        details={
            "pack_id": pack_id,
            "case_number": inv["case_number"],
            "codenames": [p["codename"] for p in personas],
            "identity_part": identity_wanted,
            # The whole file's digest, in the chain: a changed byte anywhere is found.
            "sha256": pack.sha256(content),
        },
    )
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", name)
    return Pack(filename=f"disclosure-{safe}-{ctx.now:%Y%m%d}.zip", content=content)


def _subject(subject: Any) -> str | None:
    if not isinstance(subject, dict):
        return None
    if subject.get("codename"):
        return f"persona {subject['codename']} (case {subject.get('case_number')})"
    return f"investigation {subject.get('case_number')}"


def verify_file(content: bytes) -> VerifyOut:
    """The pack's bytes against its own manifest: what anyone holding the file can check."""
    try:
        manifest, _, problems = pack.check_files(content)
    except PackError as exc:
        return VerifyOut(ok=False, checked=["files"], problems=[Problem("pack", str(exc))])
    head = manifest.get("chain_head")
    return VerifyOut(
        ok=not problems,
        checked=["files"],
        problems=problems,
        pack_id=manifest.get("pack_id"),
        subject=_subject(manifest.get("subject")),
        chain_head=msgspec.convert(head, ChainHead) if head else None,
    )


async def verify(conn: asyncpg.Connection, content: bytes) -> VerifyOut:
    """The pack against the registry: its own files, the audit chain as a whole, the chain head
    it carries as a point of that chain, each cited event as the chain holds it, and the
    export's own event naming this very file."""
    offline = verify_file(content)
    if offline.pack_id is None:
        return offline
    problems = list(offline.problems)
    chain = await audit_service.verify(conn)
    if not chain.ok:
        problems.append(Problem("audit chain", f"the registry's audit chain does not verify: {chain.reason}"))
    events_checked = 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = offline.chain_head
        if head is not None:
            current = await repo.hash_at(conn, head.seq) if head.seq > 0 else None
            if head.seq > 0 and current != head.hash:
                problems.append(
                    Problem("chain_head", f"the chain's event {head.seq} does not have the hash the pack carries")
                )
        exported = await repo.pack_event(conn, offline.pack_id)
        if exported is None:
            problems.append(Problem("pack", "the registry recorded no export of this pack"))
        elif exported["details"].get("sha256") != pack.sha256(content):
            problems.append(Problem("pack", "the file differs from the one the registry exported"))
        if not offline.problems:
            report = msgspec.json.decode(pack.read(content)[pack.REPORT_JSON])
            cited = {e["event_id"]: e for e in report.get("audit_events", [])}
            stored = {r["id"]: r for r in await repo.cited_events(conn, list(cited))}
            for event_id, e in cited.items():
                events_checked += 1
                row = stored.get(event_id)
                where = f"audit event {event_id}"
                if row is None:
                    problems.append(Problem(where, "cited by the pack but not in the registry"))
                elif (row["seq"], row["hash"]) != (e["seq"], e["hash"]):
                    problems.append(Problem(where, "its place or hash in the chain differs from the pack's"))
                elif (row["action"], row["target_type"], row["target_id"], row["outcome"]) != (
                    e["action"],
                    e["target_type"],
                    e["target_id"],
                    e["outcome"],
                ) or _text(row["occurred_at"]) != e["occurred_at"]:
                    problems.append(Problem(where, "what the pack says it recorded differs from the chain"))
                elif head is not None and row["seq"] is not None and row["seq"] > head.seq:
                    problems.append(Problem(where, "sealed after the chain head the pack carries"))
    return msgspec.structs.replace(
        offline, ok=not problems, checked=["files", "registry"], problems=problems, events_checked=events_checked
    )

"""A persona's documented identity (003 IV.B.3.b): requesting one, reading it (every read is
an audit event), editing it, and deconflicting aliases and handles across the department.

The identity is encrypted at rest under a context bound to the persona; the alias and handles
are compared through keyed blind indexes, never in clear."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from registry.accounts.service import handle_index
from registry.accounts.service import read_with_persona as accounts_read_with_persona
from registry.audit.actions import Action, History
from registry.audit.service import audited_read, record
from registry.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound, Stale
from registry.identifiers import spells
from registry.investigations import repo as investigations_repo
from registry.personas import codenames, repo
from registry.personas.deconfliction import refuse_clashes
from registry.personas.lookup import NOT_FOUND, visible_persona
from registry.personas.schemas import Conflict as ConflictOut
from registry.personas.schemas import (
    ConflictList,
    Deconflict,
    HistoryEntry,
    Identity,
    Person,
    PersonaCreate,
    PersonaCreated,
    PersonaDetail,
    StatusOut,
)
from registry.platforms import repo as platforms_repo
from registry.runtime import RequestContext, Runtime
from registry.status import PersonaStatus

S = PersonaStatus


def _context(persona_id: UUID) -> str:
    return f"personas.identity:{persona_id}"


def approval_current(status: str, expires_at: datetime | None, now: datetime) -> bool:
    return status in S.approved_like() and expires_at is not None and expires_at > now


def open_identity(runtime: Runtime, persona_id: UUID, sealed: bytes) -> Identity:
    """Decrypt a documented identity; the caller audits the read."""
    return msgspec.json.decode(runtime.keyring.decrypt(sealed, _context(persona_id)), type=Identity)


def _alias_index(runtime: Runtime, identity: Identity) -> bytes:
    return runtime.keyring.blind_index(identity.alias_name, "alias")


def _check_identity(identity: Identity, ctx: RequestContext) -> None:
    if not (identity.date_of_birth.year >= 1900 and identity.date_of_birth < ctx.now.date()):
        raise Invalid("date_of_birth must be a past date after 1900.", field="identity.date_of_birth")


async def _deconflict_alias(
    conn: asyncpg.Connection, alias_index: bytes, exclude: UUID | None, acknowledge_retired: bool
) -> None:
    clashes = await repo.alias_conflicts(conn, alias_index, exclude)
    refuse_clashes(clashes, what="alias", field="identity.alias_name", acknowledge_retired=acknowledge_retired)


def _check_codename(codename: str, identity: Identity, field: str) -> None:
    """The codename leaves the confidential zone (calendars, mail, logs): it must not spell
    any word of the alias, however written (compared by confusable skeleton)."""
    word = spells(codename, identity.alias_name)
    if word is not None:
        raise Invalid(
            f"The codename {codename} spells '{word}' from the alias: the codename is what leaves the confidential "
            "zone, so choose one that carries no part of the alias.",
            field=field,
        )


async def create(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, data: PersonaCreate
) -> PersonaCreated:
    me = ctx.me
    unit_roles = runtime.permissions.unit_wide_roles
    investigation = await investigations_repo.get_visible(conn, data.investigation_id, me.id, unit_roles, [])
    if investigation is None:
        raise NotFound("No such investigation, or you are not on its team.", field="investigation_id")
    if str(me.id) not in {str(m["user_id"]) for m in investigation["members"]}:
        raise Forbidden("Only members of the investigation request personas for it; ask to be added.")
    if investigation["status"] == "refused":
        raise InvalidTransition(
            f"Case {investigation['case_number']} was refused by the authorizing official: no persona may be "
            "requested for it.",
            field="investigation_id",
        )
    _check_identity(data.identity, ctx)
    alias_index = _alias_index(runtime, data.identity)
    await _deconflict_alias(conn, alias_index, None, data.acknowledge_retired)
    if data.codename:
        _check_codename(codenames.normalize(data.codename), data.identity, "codename")

    persona_id = uuid.uuid4()
    sealed = runtime.keyring.encrypt(msgspec.json.encode(data.identity).decode(), _context(persona_id))
    for _ in range(20):
        codename = codenames.normalize(data.codename) if data.codename else codenames.generate()
        if not data.codename and spells(codename, data.identity.alias_name):
            continue  # a generated codename that happens to carry a word of the alias
        if await repo.insert(
            conn,
            persona_id=persona_id,
            codename=codename,
            investigation_id=data.investigation_id,
            handler_id=me.id,
            identity=sealed,
            alias_index=alias_index,
            now=ctx.now,
        ):
            break
        # Nothing inserted: either the codename is taken, or another request made the alias
        # live since the check above (the unique index settled the race): say which.
        await _deconflict_alias(conn, alias_index, None, data.acknowledge_retired)
        if data.codename:
            raise Conflict(f"The codename {codename} is taken; choose another or leave it out.", field="codename")
    else:  # pragma: no cover - 64,000 combinations
        raise Conflict("Could not find a free codename; give one.", field="codename")
    reused = {"reused_retired_alias": True} if data.acknowledge_retired else {}
    await repo.add_history(conn, persona_id, ctx.now, History.REQUESTED, me.id, {"version": 1, **reused})
    await record(
        conn, ctx, Action.PERSONA_CREATE, target_type="persona", target_id=persona_id, details={"codename": codename}
    )
    return PersonaCreated(id=persona_id, codename=codename, status="draft")


async def get(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> PersonaDetail:
    """The full record, identity included. Every such read is an audit event (003 IV.B.3.b.3),
    written by the read's own statement (registry.audit.service.AuditedRead): one statement,
    atomic by itself, so the API's read runs it on a connection without a transaction of its own."""
    event = audited_read(
        ctx,
        Action.PERSONA_READ_IDENTITY,
        target_type="persona",
        target_id=persona_id,
        details_from={"codename": "codename"},
    )
    row = await repo.read_with_identity(conn, persona_id, ctx.me.id, runtime.permissions.unit_wide_roles, event)
    if row is None:
        raise NotFound(NOT_FOUND)
    identity = open_identity(runtime, persona_id, bytes(row["identity"]))
    return PersonaDetail(
        id=row["id"],
        codename=row["codename"],
        status=row["status"],
        version=row["version"],
        investigation_id=row["investigation_id"],
        case_number=row["case_number"],
        handler=Person(id=row["handler_id"], username=row["handler_username"], display_name=row["handler_name"]),
        requested_by=row["requested_by_name"],
        identity=identity,
        approved_by=row["approved_by_name"],
        approved_at=row["approved_at"],
        approval_expires_at=row["approval_expires_at"],
        approval_current=approval_current(row["status"], row["approval_expires_at"], ctx.now),
        review_interval_days=row["review_interval_days"],
        rejection_reason=row["rejection_reason"],
        created_at=row["created_at"],
        history=[
            HistoryEntry(at=at, action=action, actor=actor, details=msgspec.json.decode(details), actor_name=actor_name)
            for at, action, actor, actor_name, details in row["history"]
        ],
        accounts=accounts_read_with_persona(runtime, row["accounts"]),
    )


async def update_identity(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    identity: Identity,
    acknowledge_retired: bool = False,
    version: int | None = None,
) -> StatusOut:
    """The handler edits the documented identity, and its version moves, so an approval names
    the details it saw. A change to an approved or active persona is material: it goes back to
    `submitted` and cannot be used until approved again; a suspended one stays suspended and
    goes back for approval when the suspension lifts (003 IV.B.3.b.2). The conduct review
    schedule is untouched: an edit never clears or postpones a review (003 IV.B.4)."""
    me = ctx.me
    row = await visible_persona(conn, runtime, ctx, persona_id)
    if row["handler_id"] != me.id:
        raise Forbidden("Only the persona's handler can change its documented identity.")
    if row["status"] in S.closed():
        raise InvalidTransition(f"The persona is {row['status']}; its record is closed.")
    if version is not None and row["version"] != version:
        raise Stale(
            f"{row['codename']} changed since you opened it (you edited version {version}; it is now version "
            f"{row['version']}): reload it and make your change again.",
            version=row["version"],
        )
    _check_identity(identity, ctx)
    if open_identity(runtime, persona_id, bytes(row["identity"])) == identity:
        return StatusOut.of(row)
    _check_codename(row["codename"], identity, "identity.alias_name")
    alias_index = _alias_index(runtime, identity)
    await _deconflict_alias(conn, alias_index, persona_id, acknowledge_retired)
    to_status = {S.REJECTED: S.DRAFT, S.APPROVED: S.SUBMITTED, S.ACTIVE: S.SUBMITTED}.get(row["status"])
    try:
        # A savepoint: if another request made this alias live since the check above, the
        # unique index refuses it and the clash is reported like any other.
        async with conn.transaction():
            updated = await repo.update_identity(
                conn,
                persona_id,
                me.id,
                runtime.permissions.unit_wide_roles,
                identity=runtime.keyring.encrypt(msgspec.json.encode(identity).decode(), _context(persona_id)),
                alias_index=alias_index,
                allowed_from=(row["status"],),
                to_status=to_status,
                now=ctx.now,
                version=version,
            )
    except asyncpg.UniqueViolationError:
        await _deconflict_alias(conn, alias_index, persona_id, acknowledge_retired)
        raise
    if updated is None:
        raise Conflict("The persona changed while you were editing it; reload and try again.")
    material = row["status"] in S.approved_like()
    details = {"version": updated["version"], **({"resubmitted": True} if material else {})}
    await repo.add_history(conn, persona_id, ctx.now, History.IDENTITY_CHANGED, me.id, details)
    await record(
        conn,
        ctx,
        Action.PERSONA_IDENTITY_CHANGE,
        target_type="persona",
        target_id=persona_id,
        details={
            "codename": row["codename"],
            "status": updated["status"],
            "material": material,
            "version": updated["version"],
        },
    )
    return StatusOut.of(updated)


async def deconflict(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, data: Deconflict) -> ConflictList:
    """Would this alias or handle collide with a live persona? Answers codenames and handlers to
    contact, never the other identity, and answers across need-to-know on purpose."""
    found: list[ConflictOut] = []
    if data.alias_name is not None:
        for c in await repo.alias_conflicts(conn, runtime.keyring.blind_index(data.alias_name, "alias"), None):
            found.append(
                ConflictOut(codename=c["codename"], handler=c["handler"], matched="alias_name", status=c["status"])
            )
    if data.platform_id is not None and data.handle is not None:
        if not await platforms_repo.exists(conn, data.platform_id):
            raise NotFound("No such platform.", field="platform_id")
        index = handle_index(runtime, data.platform_id, data.handle)
        for c in await repo.handle_conflicts(conn, data.platform_id, index, None):
            found.append(
                ConflictOut(codename=c["codename"], handler=c["handler"], matched="handle", status=c["status"])
            )
    await record(
        conn,
        ctx,
        Action.PERSONA_DECONFLICT,
        details={
            "checked": [k for k in ("alias_name", "handle") if getattr(data, k) is not None],
            "conflicts": len(found),
        },
    )
    return ConflictList(conflicts=found)

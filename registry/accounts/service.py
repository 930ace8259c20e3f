"""Platform accounts: each site or profile a persona uses needs its own authorization
(003 IV.B.1.b). Handles, URLs, emails and phones are encrypted; credentials are never held,
only a reference to the vault that holds them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from registry.accounts import repo
from registry.accounts.schemas import (
    AccountCreate,
    AccountCreated,
    AccountDetails,
    AccountOut,
    AccountPatch,
    AuthorizeAccount,
    DeclineAccount,
    DisabledIn,
)
from registry.audit.actions import Action, History
from registry.audit.service import record, record_failure
from registry.auth.service import check_code
from registry.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from registry.linkage import warnings as linkage_warnings
from registry.notify import waiting
from registry.personas import repo as personas_repo
from registry.personas.deconfliction import refuse_clashes
from registry.personas.lookup import visible_persona
from registry.platforms import repo as platforms_repo
from registry.runtime import RequestContext, Runtime
from registry.status import PersonaStatus

NOT_FOUND = "No such account, or it is outside your need-to-know."


def _context(account_id: UUID) -> str:
    return f"platform_accounts.details:{account_id}"


def handle_index(runtime: Runtime, platform_id: UUID, handle: str) -> bytes:
    """Blind index of a handle on one platform, ignoring case, spacing and a leading @."""
    return runtime.keyring.blind_index(handle.strip().lstrip("@"), f"handle:{platform_id}")


def contact_index(runtime: Runtime, value: str, kind: str) -> bytes:
    """Blind index of a recovery e-mail address or phone number (digits only for a phone), to
    find the personas a shared contact links."""
    normal = "".join(ch for ch in value if ch.isdigit()) if kind == "phone" else value.strip()
    return runtime.keyring.blind_index(normal, f"recovery:{kind}")


def to_out(runtime: Runtime, row: Mapping[str, Any]) -> AccountOut:
    details = msgspec.json.decode(
        runtime.keyring.decrypt(bytes(row["details"]), _context(row["id"])), type=AccountDetails
    )
    return AccountOut(
        id=row["id"],
        persona_id=row["persona_id"],
        codename=row["codename"],
        platform_id=row["platform_id"],
        platform=row["platform"],
        handle=details.handle,
        profile_url=details.profile_url,
        email=details.email,
        phone=details.phone,
        credential_ref=row["credential_ref"],
        status=row["status"],
        requested_by=row["requested_by_name"],
        authorized_by=row["authorized_by_name"],
        authorized_at=row["authorized_at"],
        status_note=row["status_note"],
        created_on=row["created_on_site"],
        requested_at=row["requested_at"],
    )


async def for_persona(conn: asyncpg.Connection, runtime: Runtime, persona_id: UUID) -> list[AccountOut]:
    return [to_out(runtime, row) for row in await repo.for_persona(conn, persona_id)]


def read_with_persona(runtime: Runtime, accounts: list[tuple[Any, ...]]) -> list[AccountOut]:
    """The accounts a persona's read brought with it (`repo.of_persona`)."""
    return [to_out(runtime, row) for row in repo.rows(accounts)]


async def request(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: AccountCreate
) -> AccountCreated:
    me = ctx.me
    persona = await visible_persona(conn, runtime, ctx, persona_id)
    if persona["handler_id"] != me.id:
        raise Forbidden("Only the persona's handler requests accounts for it.")
    if persona["status"] not in PersonaStatus.live():
        raise InvalidTransition(f"The persona is {persona['status']}; it takes no new accounts.")
    if not await platforms_repo.exists(conn, data.platform_id):
        raise NotFound("No such platform; legal or communications add platforms to the catalog.", field="platform_id")
    index = handle_index(runtime, data.platform_id, data.handle)
    contacts = [
        (kind, contact_index(runtime, value, kind))
        for kind, value in (("email", data.email), ("phone", data.phone))
        if value is not None
    ]
    clashes = await personas_repo.handle_conflicts(conn, data.platform_id, index, None)
    refuse_clashes(
        clashes, what="handle on this platform", field="handle", acknowledge_retired=data.acknowledge_retired
    )
    account_id = uuid.uuid4()
    details = AccountDetails(handle=data.handle, profile_url=data.profile_url, email=data.email, phone=data.phone)
    sealed = runtime.keyring.encrypt(msgspec.json.encode(details).decode(), _context(account_id))
    if not await repo.insert(
        conn,
        account_id=account_id,
        persona_id=persona_id,
        platform_id=data.platform_id,
        details=sealed,
        handle_index=index,
        credential_ref=data.credential_ref,
        requested_by=me.id,
        now=ctx.now,
        created_on_site=_created_on(data.created_on, ctx),
        email_index=dict(contacts).get("email"),
        phone_index=dict(contacts).get("phone"),
    ):
        raise Conflict("This handle on this platform was registered a moment ago by another persona.", field="handle")
    await personas_repo.add_history(
        conn,
        persona_id,
        ctx.now,
        History.ACCOUNT_REQUESTED,
        me.id,
        {"account_id": str(account_id), "platform_id": str(data.platform_id)},
    )
    await record(
        conn,
        ctx,
        Action.ACCOUNT_REQUEST,
        target_type="platform_account",
        target_id=account_id,
        details={"codename": persona["codename"], "platform_id": str(data.platform_id)},
    )
    await waiting.tell(
        conn,
        roles=[runtime.policy.placeholders.authorizes_sites],
        exclude=[me.id, persona["handler_id"]],
        key=f"account:{account_id}",
        subject=f"{persona['codename']}: a site or profile waits for authorization",
        body=f"Persona {persona['codename']} asks for an account that needs its own authorization (003 IV.B.1.b).",
        link=f"{runtime.settings.public_url}/queue",
        now=ctx.now,
    )
    warnings = await linkage_warnings.for_contacts(conn, persona_id, data.platform_id, contacts)
    return AccountCreated(id=account_id, status="requested", warnings=warnings)


async def _visible(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, account_id: UUID) -> asyncpg.Record:
    permissions = runtime.permissions
    row = await repo.get_visible(
        conn, account_id, ctx.me.id, permissions.unit_wide_roles, permissions.account_wide_roles
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


async def authorize(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, account_id: UUID, data: AuthorizeAccount
) -> AccountOut:
    """003 IV.B.1.b: the policy's official authorizes each site or profile, with a fresh code,
    never one they requested or whose persona they handle."""
    me = ctx.me
    row = await _decision(conn, runtime, ctx, account_id, data.totp_code, Action.ACCOUNT_AUTHORIZE, "authorized")
    if not await repo.authorize(conn, account_id, me.id, ctx.now):
        raise InvalidTransition("The account changed meanwhile; reload and try again.")
    await personas_repo.add_history(
        conn,
        row["persona_id"],
        ctx.now,
        History.ACCOUNT_AUTHORIZED,
        me.id,
        {"account_id": str(account_id), "policy_version": runtime.policy.version},
    )
    await record(
        conn,
        ctx,
        Action.ACCOUNT_AUTHORIZE,
        target_type="platform_account",
        target_id=account_id,
        details={"codename": row["codename"]},
    )
    return to_out(runtime, await _visible(conn, runtime, ctx, account_id))


async def _decision(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    account_id: UUID,
    code: str,
    action: Action,
    step: str,
) -> asyncpg.Record:
    """Before the official's authorization or decline (003 IV.B.1.b): never of an account they
    requested or whose persona they handle (the attempt audited as denied), only of a requested
    one, then the fresh code. The account's row."""
    row = await _visible(conn, runtime, ctx, account_id)
    if ctx.me.id in (row["requested_by"], row["handler_id"]):
        record_failure(
            ctx,
            action,
            outcome="denied",
            target_type="platform_account",
            target_id=account_id,
            details={"reason": "own account"},
        )
        raise Forbidden("You requested this account or handle its persona: another official must decide it.")
    _only_requested(row, step)
    await check_code(conn, runtime, ctx, ctx.me.id, code, action)
    return row


def _only_requested(row: asyncpg.Record, step: str) -> None:
    if row["status"] == "declined":
        raise InvalidTransition(
            f"The account was declined ({row['status_note']}): it is closed; the handler makes a new request."
        )
    if row["status"] != "requested":
        raise InvalidTransition(f"The account is {row['status']}; only a requested account can be {step}.")


async def decline(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, account_id: UUID, data: DeclineAccount
) -> AccountOut:
    """003 IV.B.1.b: the official may decline a site or profile, with a reason and a fresh code;
    the request is closed and shown with its reason in the persona's history."""
    me = ctx.me
    row = await _decision(conn, runtime, ctx, account_id, data.totp_code, Action.ACCOUNT_DECLINE, "declined")
    if not await repo.decline(conn, account_id, me.id, ctx.now, data.reason):
        raise InvalidTransition("The account changed meanwhile; reload and try again.")
    await personas_repo.add_history(
        conn,
        row["persona_id"],
        ctx.now,
        History.ACCOUNT_DECLINED,
        me.id,
        {
            "account_id": str(account_id),
            "platform": row["platform"],
            "reason": data.reason,
            "policy_version": runtime.policy.version,
        },
    )
    await record(
        conn,
        ctx,
        Action.ACCOUNT_DECLINE,
        target_type="platform_account",
        target_id=account_id,
        details={"codename": row["codename"]},
    )
    return to_out(runtime, await _visible(conn, runtime, ctx, account_id))


def _created_on(created_on: date | None, ctx: RequestContext) -> date | None:
    if created_on is not None and not (date(2000, 1, 1) <= created_on <= ctx.now.date()):
        raise Invalid("created_on must be the past day the account was created on the site.", field="created_on")
    return created_on


async def record_created_on(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, account_id: UUID, data: AccountPatch
) -> AccountOut:
    """The handler records when the account was created on the site (its age counts from then)."""
    row = await _visible(conn, runtime, ctx, account_id)
    if row["handler_id"] != ctx.me.id:
        raise Forbidden("Only the persona's handler records when its account was created.")
    _created_on(data.created_on, ctx)
    if not await repo.set_created_on(conn, account_id, data.created_on):
        raise InvalidTransition(f"The account is {row['status']}; its record is closed.")
    await record(
        conn,
        ctx,
        Action.ACCOUNT_CREATED_ON,
        target_type="platform_account",
        target_id=account_id,
        details={"codename": row["codename"], "created_on": data.created_on.isoformat()},
    )
    return to_out(runtime, await _visible(conn, runtime, ctx, account_id))


async def disabled_by_site(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, account_id: UUID, data: DisabledIn
) -> AccountOut:
    """The site disabled the account (003 IV.B.3.c warns it may): recorded, never reused."""
    me = ctx.me
    row = await _visible(conn, runtime, ctx, account_id)
    if row["handler_id"] != me.id and not row["in_chain"]:
        raise Forbidden("Only the handler or the supervisor and commander chain record a disabled account.")
    if not await repo.mark_disabled(conn, account_id, data.note):
        raise InvalidTransition(f"The account is {row['status']}; nothing to disable.")
    await personas_repo.add_history(
        conn, row["persona_id"], ctx.now, History.ACCOUNT_DISABLED, me.id, {"account_id": str(account_id)}
    )
    await record(
        conn,
        ctx,
        Action.ACCOUNT_DISABLED,
        target_type="platform_account",
        target_id=account_id,
        details={"codename": row["codename"]},
    )
    return to_out(runtime, await _visible(conn, runtime, ctx, account_id))


async def awaiting_authorization(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext
) -> list[tuple[AccountOut, bool]]:
    """Accounts waiting for the site authorization (003 IV.B.1.b), each with whether the
    caller requested it or handles its persona (then another official must authorize it)."""
    permissions = runtime.permissions
    rows = await repo.awaiting_authorization(
        conn, ctx.me.id, permissions.unit_wide_roles, permissions.account_wide_roles
    )
    return [(to_out(runtime, r), ctx.me.id in (r["requested_by"], r["handler_id"])) for r in rows]

"""Recording and verifying the audit trail.

Business events go through `record` on the request's own connection, inside its transaction:
if the event cannot be written the change does not happen. Failures and refusals go through
`record_failure`, written in a transaction of their own after the request's transaction has
ended, so the rollback that follows cannot erase them, and before the answer is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from registry.audit import repo
from registry.audit.actions import Action
from registry.audit.schemas import VerifyResult
from registry.errors import AuditChainBroken
from registry.runtime import RequestContext

if TYPE_CHECKING:
    from registry.audit.checkpoint import Checkpoint

_GENESIS = hashlib.sha256(b"").digest()
# How audit_seal() (migrations/0001_foundation.sql) refuses to extend a chain whose head is gone.
_HEAD_MISSING = "audit_chain_head is missing"


def _event(
    ctx: RequestContext,
    action: Action,
    target_type: str | None,
    target_id: object,
    outcome: str,
    details: dict[str, Any] | None,
    actor: tuple[UUID, str] | None = None,
) -> tuple[Any, ...]:
    """An event's values, in the order of `repo.INSERT`; `actor` as `record` takes it."""
    user = ctx.user
    actor_id, actor_name = actor if actor else ((user.id, user.username) if user else (None, None))
    return (
        ctx.now,
        actor_id,
        actor_name,
        action,
        target_type,
        None if target_id is None else str(target_id),
        outcome,
        ctx.ip,
        ctx.request_id,
        details or {},
    )


async def record(
    conn: asyncpg.Connection,
    ctx: RequestContext,
    action: Action,
    *,
    target_type: str | None = None,
    target_id: object = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    actor: tuple[UUID, str] | None = None,
) -> None:
    """`actor` (id, username) names who acted when the request has no session yet: the user
    whose password sign-in succeeded."""
    await repo.insert(conn, *_event(ctx, action, target_type, target_id, outcome, details, actor))


@dataclass(frozen=True)
class AuditedRead:
    """An event written by the very statement that reads what it records (a read of an
    identity): one round trip instead of two, and still fail closed, since PostgreSQL runs a
    statement and its data-modifying WITH clauses as one: if the event cannot be written,
    nothing is read. One event per row read, so a read that finds nothing records nothing.
    Like `record`, the event is only chained once committed (audit_seal)."""

    args: tuple[Any, ...]
    details_from: tuple[tuple[str, str], ...]

    def around(self, read: str, read_args: int) -> str:
        """The statement for the repo to run: `read` (a SELECT using parameters $1 to
        $read_args) with this event's INSERT; its parameters are the read's, then `args`."""
        return repo.with_event(read, read_args, self.details_from)


def audited_read(
    ctx: RequestContext,
    action: Action,
    *,
    target_type: str | None = None,
    target_id: object = None,
    details: dict[str, Any] | None = None,
    details_from: dict[str, str] | None = None,
) -> AuditedRead:
    """The event of a read, for the repo to write in the read's own statement
    (`AuditedRead.around`); `details_from` maps detail keys to columns of the row read."""
    return AuditedRead(
        _event(ctx, action, target_type, target_id, "success", details), tuple((details_from or {}).items())
    )


def record_failure(
    ctx: RequestContext,
    action: Action,
    *,
    outcome: str = "failure",
    target_type: str | None = None,
    target_id: object = None,
    details: dict[str, Any] | None = None,
) -> None:
    async def write(conn: asyncpg.Connection) -> None:
        await record(conn, ctx, action, target_type=target_type, target_id=target_id, outcome=outcome, details=details)

    ctx.defer(write)


async def seal(conn: asyncpg.Connection) -> int:
    """Give every committed event its place in the chain (outside any transaction: sealing
    holds the chain head's lock until it commits); how many were sealed."""
    try:
        return await repo.seal(conn)
    except asyncpg.RaiseError as exc:
        if not exc.message.startswith(_HEAD_MISSING):
            raise
        raise AuditChainBroken(
            "The audit chain's head record is missing: the log has been tampered with, and no event can be "
            "sealed (nor anything made that cites the chain) until it is restored."
        ) from exc


async def verify(conn: asyncpg.Connection, checkpoints: Sequence[Checkpoint] = ()) -> VerifyResult:
    """Seal what is committed, then walk the chain from its start, recomputing every hash (in
    the database: registry.audit.repo.walk); the chain must also pass through every
    checkpoint's head (registry.audit.checkpoint)."""
    try:
        await seal(conn)
    except AuditChainBroken as exc:
        return VerifyResult(ok=False, events=0, reason=str(exc.__cause__))
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = await repo.head(conn)
        walked = await repo.walk(conn)
        # Up to the first bad event (or the end), every event sits at its own position.
        good = walked.first_bad - 1 if walked.first_bad is not None else walked.events
        anchored = sorted({c.events for c in checkpoints if 0 < c.events <= good} | ({good} if good else set()))
        at = await repo.sealed_at(conn, anchored)
        # A checkpoint the chain does not pass through, before any other fault.
        for position in anchored:
            problem = _off_anchor([c for c in checkpoints if c.events == position], bytes(at[position]["hash"]))
            if problem:
                return VerifyResult(ok=False, events=position - 1, first_bad_event=at[position]["id"], reason=problem)
        if walked.first_bad is not None:
            return await _first_fault(conn, walked.first_bad, bytes(at[good]["hash"]) if good else _GENESIS)
        count = walked.events
        last = bytes(at[count]["hash"]) if count else _GENESIS
        # A missing head row is tampering too (its table refuses DELETE and TRUNCATE).
        if head is None or head["seq"] != count or bytes(head["hash"]) != last:
            return VerifyResult(
                ok=False, events=count, reason="the chain's recorded head does not match its last event"
            )
        beyond = [c for c in checkpoints if c.events > count] + [
            c for c in checkpoints if c.events == 0 and c.hash != _GENESIS.hex()
        ]
        if beyond:
            return VerifyResult(
                ok=False,
                events=count,
                reason=f"the chain does not hold the {beyond[0].describe()}: events were removed and the chain rebuilt",
            )
        return VerifyResult(ok=True, events=count, head=last.hex(), checkpoints=len(checkpoints) or None)


async def _first_fault(conn: asyncpg.Connection, position: int, expected_prev: bytes) -> VerifyResult:
    """What is wrong with the event at chain position `position`, the first that fails."""
    row = await repo.sealed_at_position(conn, position)
    if row["seq"] != position:
        problem = f"chain position {position} is missing"
    elif bytes(row["prev_hash"]) != expected_prev:
        problem = "link to the previous event does not match"
    else:
        problem = "event content does not match its hash"
    return VerifyResult(ok=False, events=position - 1, first_bad_event=row["id"], reason=problem)


def _off_anchor(anchors: list[Checkpoint], digest: bytes) -> str | None:
    for checkpoint in anchors:
        if checkpoint.hash != digest.hex():
            return f"the chain does not pass through the {checkpoint.describe()}: history was rewritten and re-chained"
    return None

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec


class AuditEvent(msgspec.Struct, frozen=True):
    id: int
    occurred_at: datetime
    actor_id: UUID | None
    actor: str | None
    action: str
    target_type: str | None
    target_id: str | None
    outcome: str
    ip: str | None
    request_id: str | None
    details: dict[str, Any]
    seq: int | None
    hash: str | None


class AuditPage(msgspec.Struct, frozen=True):
    items: list[AuditEvent]
    next_cursor: str | None


class VerifyResult(msgspec.Struct, frozen=True, omit_defaults=True):
    ok: bool
    events: int
    head: str | None = None
    # The id of the first event whose hash or link does not hold.
    first_bad_event: int | None = None
    reason: str | None = None
    # How many checkpoints from outside the database the chain was proven to hold.
    checkpoints: int | None = None

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from registry.audit.actions import Action


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
    # Display names of the actor and, for an account, of the user acted on.
    actor_name: str | None = None
    target_name: str | None = None


class AuditPage(msgspec.Struct, frozen=True):
    items: list[AuditEvent]
    # Older events of the same filters (pass back as `cursor`); None on the oldest page.
    next_cursor: str | None
    # Newer events of the same filters; None on the newest page.
    prev_cursor: str | None = None


class AuditFilter(msgspec.Struct, frozen=True, kw_only=True):
    """What the auditor narrows the log to; each optional."""

    action: Action | None = None
    actor: str | None = None
    codename: str | None = None
    case_number: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def given(self) -> dict[str, str]:
        """The filters set, as the export's audit event records them."""
        return {k: str(v) for k, v in msgspec.structs.asdict(self).items() if v is not None}


class VerifyResult(msgspec.Struct, frozen=True, omit_defaults=True):
    ok: bool
    events: int
    head: str | None = None
    # The id of the first event whose hash or link does not hold.
    first_bad_event: int | None = None
    reason: str | None = None
    # How many checkpoints from outside the database the chain was proven to hold.
    checkpoints: int | None = None

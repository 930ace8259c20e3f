from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec


class ActivityIn(msgspec.Struct, forbid_unknown_fields=True):
    occurred_at: datetime
    platform_id: UUID
    equipment_id: UUID
    summary: Annotated[str, msgspec.Meta(min_length=3, max_length=20000)]
    # Light activity on a dormant persona's accounts before operational use (the policy's
    # warming plan); allowed before the accounts are old enough, never before approval.
    warming: bool = False


class ActivityOut(msgspec.Struct):
    id: UUID
    persona_id: UUID
    occurred_at: datetime
    platform: str
    asset_tag: str
    summary: str
    recorded_by: str
    recorded_at: datetime
    warming: bool = False


class ActivityList(msgspec.Struct):
    items: list[ActivityOut]

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Url = Annotated[str, msgspec.Meta(pattern=r"\Ahttps?://[^\s]{3,500}\Z", description="an http(s) URL")]


class PlatformCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    url: Url
    tos_url: Url


class TosReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    reviewed_on: date
    tos_version: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    prohibits_false_identity: bool
    prohibits_automation: bool
    risk: Literal["low", "medium", "high"]
    notes: Annotated[str, msgspec.Meta(min_length=1, max_length=8000)]


class TosReviewOut(msgspec.Struct):
    id: UUID
    platform_id: UUID
    reviewed_on: date
    tos_version: str
    prohibits_false_identity: bool
    prohibits_automation: bool
    risk: str
    notes: str
    reviewed_by: str
    # Older than the policy's maximum age (003 IV.B.3.c): personas on it cannot be activated.
    stale: bool


class AcknowledgeIn(msgspec.Struct, forbid_unknown_fields=True):
    platform_id: UUID


class AcknowledgementOut(msgspec.Struct):
    persona_id: UUID
    platform_id: UUID
    tos_review_id: UUID
    acknowledged_at: datetime


class PlatformOut(msgspec.Struct):
    id: UUID
    name: str
    url: str
    tos_url: str
    current_review: TosReviewOut | None = None


class PlatformList(msgspec.Struct):
    items: list[PlatformOut]


class PlatformWaiting(msgspec.Struct):
    """A platform legal must review: never reviewed, stale, or going stale on `stale_on`."""

    platform: PlatformOut
    why: Literal["never_reviewed", "stale", "going_stale"]
    stale_on: date | None = None


class TosReviewHistory(msgspec.Struct):
    platform_id: UUID
    # Newest first: the current review, then those it superseded.
    items: list[TosReviewOut]
    # Codenames of active personas the current review stops until their handlers acknowledge
    # it (or legal reviews a stale one again); for legal only, else None.
    blocks: list[str] | None = None

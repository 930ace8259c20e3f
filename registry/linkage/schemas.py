from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

# A photo as base64; the registry keeps two keyed digests of it and discards the image.
MAX_PHOTO_BYTES = 8 * 1024 * 1024


class PhotoIn(msgspec.Struct, forbid_unknown_fields=True):
    content_base64: Annotated[str, msgspec.Meta(min_length=16, max_length=(MAX_PHOTO_BYTES * 4) // 3 + 4)]


class PhotoOut(msgspec.Struct):
    id: UUID
    persona_id: UUID
    # The same photo, or one that looks the same, used by a burned or another persona.
    warnings: list[str]


class Link(msgspec.Struct):
    # device | recovery_email | recovery_phone | photo | egress | handler_platform
    kind: str
    # What is shared, in words that leave no identity: an asset tag, a platform's name.
    detail: str


class Assessment(msgspec.Struct):
    decision: str
    reason: str
    by: str
    at: datetime


class Linked(msgspec.Struct):
    persona_id: UUID
    codename: str
    status: str
    links: list[Link]
    assessment: Assessment | None


class LinkageReport(msgspec.Struct):
    persona_id: UUID
    codename: str
    status: str
    linked: list[Linked]


class AssessmentIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["keep", "suspend", "retire"]
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=4000)]


class AssessmentOut(msgspec.Struct):
    id: UUID
    linked_id: UUID
    codename: str
    decision: str
    # The linked persona's status after the decision.
    status: str

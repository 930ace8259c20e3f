from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

Url = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s]{3,500}$", description="an http(s) URL")]


class PlatformCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    url: Url
    tos_url: Url


class PlatformOut(msgspec.Struct):
    id: UUID
    name: str
    url: str
    tos_url: str


class PlatformList(msgspec.Struct):
    items: list[PlatformOut]

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

UnitName = Annotated[str, msgspec.Meta(min_length=1, max_length=120, description="the unit's name, unique")]


class UnitCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: UnitName
    # Defaults to the root unit (the department).
    parent_id: UUID | None = None


class UnitPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: UnitName | msgspec.UnsetType = msgspec.UNSET
    # A unit always has a parent, but the root: null here would make a second root (409).
    parent_id: UUID | msgspec.UnsetType | None = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.name is msgspec.UNSET and self.parent_id is msgspec.UNSET:
            raise ValueError("send name, parent_id or both")


class UnitMemberAdd(msgspec.Struct, forbid_unknown_fields=True):
    user_id: UUID


class UserUnits(msgspec.Struct, forbid_unknown_fields=True):
    """The units a user belongs to, replacing theirs: at least one."""

    unit_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=50)]


class UnitOut(msgspec.Struct):
    id: UUID
    name: str
    parent_id: UUID | None
    # Users who belong to it: its members, and for the root also every user with no membership.
    member_count: int


class UnitList(msgspec.Struct):
    """Every unit, parents before their children (the tree, depth first by name)."""

    items: list[UnitOut]


class UnitMember(msgspec.Struct):
    user_id: UUID
    username: str
    display_name: str
    # True for a user of the root unit who has no membership at all (back-compat: such a user
    # belongs to the whole department until they are given units).
    implicit: bool = False


class UnitMembers(msgspec.Struct):
    unit: UnitOut
    items: list[UnitMember]


class UnitChoice(msgspec.Struct):
    id: UUID
    name: str


class UnitChoices(msgspec.Struct):
    """The units you may open an investigation in: yours and every unit below them."""

    items: list[UnitChoice]

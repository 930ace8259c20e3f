from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from registry.policy import Role

Username = Annotated[
    str,
    msgspec.Meta(
        pattern=r"\A[a-z0-9][a-z0-9._-]{1,62}\Z",
        description="2-63 characters: lower-case letters, digits, dot, dash, underscore",
    ),
]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Roles = Annotated[list[Role], msgspec.Meta(max_length=8)]
# Where reminders of conduct reviews are sent (they carry codenames and times only).
Email = Annotated[str, msgspec.Meta(pattern=r"\A[^@\s]+@[^@\s]+\Z", max_length=254, description="an email address")]


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    display_name: DisplayName
    roles: Roles
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    email: Email | None = None


class UserPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    roles: Roles | None = None
    active: bool | None = None
    display_name: DisplayName | None = None
    email: Email | None = None

    def __post_init__(self) -> None:
        if self.roles is None and self.active is None and self.display_name is None and self.email is None:
            raise ValueError("send at least one of roles, active, display_name, email")


class UserOut(msgspec.Struct):
    id: UUID
    username: str
    display_name: str
    roles: list[str]
    active: bool
    locked: bool
    mfa_enrolled: bool
    created_at: datetime
    email: str | None = None


class UserList(msgspec.Struct):
    items: list[UserOut]

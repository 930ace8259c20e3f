from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
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


# Why an administrator takes a risky step (disable, unlock, reset): kept in the audit event.
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=500, description="why: kept in the audit event")]

Code = Annotated[str, msgspec.Meta(min_length=6, max_length=32, description="a fresh code from the authenticator")]
Password = Annotated[str, msgspec.Meta(max_length=1024)]


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    display_name: DisplayName
    roles: Roles
    # Temporary: it signs in once, to be replaced (registry.users.service).
    password: Password
    email: Email | None = None
    # The units the user belongs to; none: the root unit, the whole department.
    unit_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=50)] | None = None


class OwnEmail(msgspec.Struct, forbid_unknown_fields=True):
    """The address reminders and notices for the signed-in user go to; null stops them."""

    email: Email | None


class PasswordReset(msgspec.Struct, forbid_unknown_fields=True):
    # A temporary password for the user to replace at their next sign-in.
    password: Password
    reason: Reason | None = None


class AdminAction(msgspec.Struct, forbid_unknown_fields=True):
    """The body of a risky step on an account (unlock, reset MFA): optional, for older clients."""

    reason: Reason | None = None


class Confirmation(msgspec.Struct, forbid_unknown_fields=True):
    totp_code: Code


class UserPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    roles: Roles | None = None
    active: bool | None = None
    display_name: DisplayName | None = None
    email: Email | None = None
    # Why (for a disable above all): kept in the audit event, not on the account.
    reason: Reason | None = None

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
    # Signs in with a temporary password, which must be replaced first.
    password_change_required: bool = False
    # Roles that read identities, proposed and waiting for a second person (not held yet).
    pending_roles: list[str] = msgspec.field(default_factory=list)
    # The enrollment of an authenticator is waiting for a second person, or for the one-time
    # code they issued; None: no gate.
    enrollment_gate: Literal["awaiting_confirmation", "code_issued"] | None = None
    # The units the user belongs to: their memberships, or the root unit when they have none.
    unit_ids: list[UUID] = msgspec.field(default_factory=list)


class UserList(msgspec.Struct):
    items: list[UserOut]


class RoleGrantOut(msgspec.Struct):
    """Roles that read identities, proposed for a user; held only once confirmed."""

    id: UUID
    user_id: UUID
    username: str
    roles: list[str]
    status: Literal["pending", "confirmed", "superseded"]
    proposed_by: str | None
    proposed_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None


class RoleGrantList(msgspec.Struct):
    items: list[RoleGrantOut]


class EnrollmentCode(msgspec.Struct):
    """Shown once, to the second person, who hands it to the user in person (never by way of
    the administrator): with it and their password the user enrolls a new authenticator."""

    user_id: UUID
    username: str
    enrollment_code: str
    expires_at: datetime


class GrantConfirmed(msgspec.Struct):
    grant: RoleGrantOut
    user: UserOut
    # When the user's authenticator had not been enrolled through a second person.
    enrollment: EnrollmentCode | None = None

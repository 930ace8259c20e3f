from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Code = Annotated[str, msgspec.Meta(min_length=6, max_length=32, description="a fresh code from the authenticator")]


class InvestigationCreate(msgspec.Struct, forbid_unknown_fields=True):
    case_number: Annotated[str, msgspec.Meta(pattern=r"\A[A-Za-z0-9][A-Za-z0-9/._-]{1,39}\Z")]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    purpose: Text
    # What the authorizing official weighs (003 IV.B.1.a, IV.B.3.a).
    necessity: Text
    proportionality: Text
    collateral_intrusion: Text
    # The unit it belongs to: one of the opener's units or below one; may be left out by an
    # opener who belongs to exactly one unit.
    unit_id: UUID | None = None


class MemberAdd(msgspec.Struct, forbid_unknown_fields=True):
    user_id: UUID


class Authorize(msgspec.Struct, forbid_unknown_fields=True):
    totp_code: Code
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class Refuse(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=4000)]
    totp_code: Code


class Member(msgspec.Struct):
    user_id: UUID
    username: str
    display_name: str


class MemberChoice(msgspec.Struct):
    """Whom the caller may add to a team, or why they may add no one."""

    people: list[Member]
    refused: str | None = None


class InvestigationOut(msgspec.Struct):
    id: UUID
    case_number: str
    title: str
    purpose: str
    necessity: str
    proportionality: str
    collateral_intrusion: str
    status: str
    opened_by: str
    created_at: datetime
    authorized_by: str | None
    authorized_at: datetime | None
    authorized_until: datetime | None
    authorization_current: bool
    members: list[Member]
    refused_by: str | None = None
    refused_at: datetime | None = None
    refusal_reason: str | None = None
    unit_id: UUID | None = None
    unit_name: str | None = None


class InvestigationSummary(msgspec.Struct):
    id: UUID
    case_number: str
    title: str
    status: str
    authorized_until: datetime | None
    authorization_current: bool
    unit_id: UUID | None = None
    unit_name: str | None = None


class InvestigationList(msgspec.Struct):
    items: list[InvestigationSummary]


class Authorized(msgspec.Struct):
    id: UUID
    status: str
    authorized_until: datetime


class AwaitingAuthorization(msgspec.Struct):
    """An investigation in the authorizing official's queue; `own` ones another must authorize."""

    id: UUID
    case_number: str
    title: str
    status: str
    opened_by: str
    own: bool
    # Since it was opened, or since its authorization lapsed.
    waiting_since: datetime | None = None

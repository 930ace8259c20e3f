from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

from registry.accounts.schemas import AccountOut

Code = Annotated[str, msgspec.Meta(min_length=6, max_length=32, description="a fresh code from the authenticator")]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=4000)]
Codename = Annotated[
    str,
    msgspec.Meta(pattern=r"\A[A-Za-z][A-Za-z0-9 -]{2,39}\Z", description="3-40 letters, digits, spaces or dashes"),
]


class Consent(msgspec.Struct, forbid_unknown_fields=True):
    given_by: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    recorded_on: date
    # Where the signed consent is filed.
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Photo(msgspec.Struct, forbid_unknown_fields=True):
    """Where an image used by the persona came from, and who consented to its use."""

    source: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    depicts_department_employee: bool
    consent: Consent | None = None

    def __post_init__(self) -> None:
        # 003 IV.A.4.d.1: images of department staff are confidential; never used without consent.
        if self.depicts_department_employee and self.consent is None:
            raise ValueError(
                "an image of a department employee needs recorded consent (given_by, recorded_on, reference) "
                "before a persona may use it (003 IV.A.4.d.1)"
            )


class Identity(msgspec.Struct, forbid_unknown_fields=True):
    alias_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    date_of_birth: date
    location: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    legend: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
    photo_provenance: Annotated[list[Photo], msgspec.Meta(max_length=50)] = []


AcknowledgeRetired = Annotated[
    bool, msgspec.Meta(description="reuse, knowingly, an alias or handle a retired persona carried")
]


class PersonaCreate(msgspec.Struct, forbid_unknown_fields=True):
    investigation_id: UUID
    identity: Identity
    codename: Codename | None = None
    acknowledge_retired: AcknowledgeRetired = False


Version = Annotated[
    int,
    msgspec.Meta(ge=1, description="the persona's version the decision is about (or send it as If-Match)"),
]


class PersonaPatch(msgspec.Struct, forbid_unknown_fields=True):
    identity: Identity
    acknowledge_retired: AcknowledgeRetired = False
    # The version the handler edited (or If-Match): a change made meanwhile is not overwritten.
    version: Version | None = None


class Approve(msgspec.Struct, forbid_unknown_fields=True):
    totp_code: Code
    review_interval_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    version: Version | None = None


class Reject(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    totp_code: Code
    version: Version | None = None


class Renew(msgspec.Struct, forbid_unknown_fields=True):
    totp_code: Code
    note: Annotated[str, msgspec.Meta(max_length=4000)] | None = None


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class CompromiseIn(msgspec.Struct, forbid_unknown_fields=True):
    report: Annotated[str, msgspec.Meta(min_length=10, max_length=20000)]


class HandoverIn(msgspec.Struct, forbid_unknown_fields=True):
    to_user_id: UUID
    reason: Reason


class Deconflict(msgspec.Struct, forbid_unknown_fields=True):
    alias_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    platform_id: UUID | None = None
    handle: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None

    def __post_init__(self) -> None:
        if (self.platform_id is None) != (self.handle is None):
            raise ValueError("give platform_id and handle together")
        if self.alias_name is None and self.handle is None:
            raise ValueError("give alias_name, or platform_id and handle, or both")


class Person(msgspec.Struct):
    id: UUID
    username: str
    display_name: str


class Conflict(msgspec.Struct):
    """Who to contact: the other persona's codename and handler, never its identity."""

    codename: str
    handler: str
    matched: str
    # live states, "retired" (reusable once acknowledged) or "compromised" (never again)
    status: str


class ConflictList(msgspec.Struct):
    conflicts: list[Conflict]


class PersonaCreated(msgspec.Struct):
    id: UUID
    codename: str
    status: str


class PersonaSummary(msgspec.Struct):
    id: UUID
    codename: str
    status: str
    handler: str
    investigation_id: UUID
    case_number: str
    approval_expires_at: datetime | None
    approval_current: bool
    next_review_due: date | None
    # For an active persona, the activation conditions it no longer meets (see its gate).
    lapsed: list[str]
    # For a dormant (approved) persona under the policy's warming plan: when light activity on
    # its accounts is next due.
    warming_due_on: date | None = None
    # Where its next conduct review stands (registry.reviews.service.standing): upcoming,
    # due_soon, in_grace or overdue; None without one.
    review_standing: str | None = None
    # For a dormant persona whose accounts are not yet old enough to use: the day the gate's
    # account_old_enough condition will be met (None when it is met or a creation date is missing).
    account_age_opens_on: date | None = None


class PersonaPage(msgspec.Struct):
    items: list[PersonaSummary]
    next_cursor: str | None


class HistoryEntry(msgspec.Struct):
    at: datetime
    action: str
    actor: str | None
    details: dict[str, Any]
    # The actor as people know them (`actor` is the username).
    actor_name: str | None = None


class PersonaDetail(msgspec.Struct):
    id: UUID
    codename: str
    status: str
    # Moves with every change of the documented identity; approve and reject name it.
    version: int
    investigation_id: UUID
    case_number: str
    handler: Person
    requested_by: str
    identity: Identity
    approved_by: str | None
    approved_at: datetime | None
    approval_expires_at: datetime | None
    approval_current: bool
    review_interval_days: int | None
    rejection_reason: str | None
    created_at: datetime
    history: list[HistoryEntry]
    accounts: list[AccountOut]


class StatusOut(msgspec.Struct):
    id: UUID
    codename: str
    status: str
    version: int
    approval_expires_at: datetime | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> StatusOut:
        """From a persona row (or a step's RETURNING)."""
        return cls(
            id=row["id"],
            codename=row["codename"],
            status=row["status"],
            version=row["version"],
            approval_expires_at=row["approval_expires_at"],
        )


class FieldChange(msgspec.Struct):
    field: str
    before: Any
    after: Any


class IdentityChanges(msgspec.Struct):
    """What an approver decides on: the identity against what was last approved."""

    version: int
    approved_version: int | None
    # Never approved before: every field is new.
    first_approval: bool
    changes: list[FieldChange]


class CentralRecordRow(msgspec.Struct):
    codename: str
    case_number: str
    status: str
    requested_at: datetime
    requested_by: str
    approvals: list[dict[str, Any]]
    renewals: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    suspensions: list[datetime]
    retired_at: datetime | None
    compromised_at: datetime | None
    # Each suspension with who (none: the periodic sweep) and why, as structured causes:
    # "by_hand", "conduct_review_overdue", or the lapsed conditions.
    suspended: list[dict[str, Any]] = []
    handovers: list[dict[str, Any]] = []
    # Each site or profile: requested, authorized or declined, by whom and when.
    accounts: list[dict[str, Any]] = []
    retired: dict[str, Any] | None = None
    compromised: dict[str, Any] | None = None
    # The unit of its investigation.
    unit: str | None = None


class CentralInvestigation(msgspec.Struct):
    """An investigation's authorization to use false identities (003 IV.B.1.a, IV.B.3.a)."""

    case_number: str
    status: str
    opened_at: datetime
    opened_by: str
    authorized_at: datetime | None
    authorized_by: str | None
    authorized_until: datetime | None
    # Past its authorization and not renewed.
    lapsed: bool
    refused_at: datetime | None
    refused_by: str | None
    unit: str | None = None


class CentralRecord(msgspec.Struct):
    items: list[CentralRecordRow]
    investigations: list[CentralInvestigation] = []


class AwaitingApproval(msgspec.Struct):
    """A persona in an approver's queue; `own` ones another supervisor must decide."""

    id: UUID
    codename: str
    status: str
    case_number: str
    handler: str
    # Who asked (the requester's display name), and since when it waits for an approver.
    requested_by: str
    waiting_since: datetime
    approval_expires_at: datetime | None
    # Submitted again after an approval: a material change to approved details.
    material_change: bool
    own: bool

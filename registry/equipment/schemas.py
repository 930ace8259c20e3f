from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Kind = Literal["laptop", "desktop", "phone", "tablet", "other"]


class EquipmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    asset_tag: Annotated[str, msgspec.Meta(pattern=r"\A[A-Za-z0-9][A-Za-z0-9._-]{1,39}\Z")]
    kind: Kind
    serial: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    # Anything but "department" is refused with the clause (003 IV.B.2.a).
    ownership: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    make_model: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class InspectionIn(msgspec.Struct, forbid_unknown_fields=True):
    """The checks of 003 IV.B.2.b-c; the inspection passes only when every answer is false."""

    on_department_network: bool
    department_identifiers_present: bool
    attributable_connection: bool
    notes: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    # The network egress the device uses (a VPN exit, a hotspot's number): kept only as a keyed
    # digest, to find personas a shared egress links once one is burned.
    egress: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class InspectionOut(msgspec.Struct):
    id: UUID
    equipment_id: UUID
    asset_tag: str
    inspected_at: datetime
    inspected_by: str
    passed: bool
    valid_until: datetime
    failed_checks: list[str]


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    equipment_id: UUID


class EquipmentOut(msgspec.Struct):
    id: UUID
    asset_tag: str
    kind: str
    serial: str
    make_model: str | None
    ownership: str
    status: str
    last_inspected_at: datetime | None
    inspection_passed: bool | None
    inspection_valid_until: datetime | None
    inspection_current: bool
    # Codename only: equipment officers never see more of a persona.
    assigned_to: str | None


class EquipmentList(msgspec.Struct):
    items: list[EquipmentOut]


class EquipmentWaiting(msgspec.Struct):
    quarantined: list[EquipmentOut]
    # In service (available or assigned) with no passing, current inspection.
    uninspected: list[EquipmentOut]
    # Passing and current, but lapsing within the policy's reminder days.
    expiring: list[EquipmentOut]


class AssignmentOut(msgspec.Struct):
    equipment_id: UUID
    persona_id: UUID
    codename: str
    assigned_at: datetime
    released_at: datetime | None = None
    # Links this device makes to a burned persona, or to a live one on a shared platform.
    warnings: list[str] = []

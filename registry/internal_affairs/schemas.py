from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec


class Officer(msgspec.Struct):
    id: UUID
    username: str
    display_name: str


class OfficerPersona(msgspec.Struct):
    codename: str
    case_number: str
    status: str
    # requested | handled | received_by_handover | handed_over | approved
    parts: list[str]
    requested_at: datetime
    # The officer's own dated steps on it (approvals, handovers to or from them).
    dates: list[dict[str, Any]]


class OfficerAccount(msgspec.Struct):
    codename: str
    platform: str
    status: str
    # requested | of_a_persona_handled | authorized
    parts: list[str]
    requested_at: datetime
    authorized_at: datetime | None


class OfficerReport(msgspec.Struct):
    officer: Officer
    personas: list[OfficerPersona]
    accounts: list[OfficerAccount]

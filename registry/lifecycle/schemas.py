from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec


class Condition(msgspec.Struct):
    condition: str
    met: bool
    clause: str
    # What is missing and what to do next, in the detective's words.
    detail: str
    # For an unmet condition that time alone will meet (an account not yet old enough): the
    # day it will be met.
    met_on: date | None = None


class GateOut(msgspec.Struct):
    ready: bool
    conditions: list[Condition]


class Device(msgspec.Struct):
    """A department device the persona holds, and whether it may be used now (003 IV.B.2)."""

    id: UUID
    asset_tag: str
    kind: str
    usable: bool
    inspection_valid_until: datetime | None
    # Why it may not be used, when it may not.
    problem: str | None


class Step(msgspec.Struct):
    """A lifecycle step and whether the caller may take it now; if not, why not."""

    step: str
    allowed: bool
    # "role", "person", "state" or "conditions": what stands in the way.
    refused_by: str | None = None
    reason: str | None = None
    # When conditions stand in the way: each unmet one, its clause and what to do.
    unmet: list[Condition] = []


class Assessment(msgspec.Struct):
    """For one persona and one caller: the conditions of use, the devices it holds, and every
    step with whether this caller may take it now. Pages render this; they decide nothing."""

    persona_id: UUID
    codename: str
    status: str
    version: int
    ready: bool
    conditions: list[Condition]
    devices: list[Device]
    steps: list[Step]

    def step(self, name: str) -> Step:
        found = next((s for s in self.steps if s.step == name), None)
        if found is None:
            raise KeyError(f"no lifecycle step {name!r}")
        return found

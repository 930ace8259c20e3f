from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from registry.activity.schemas import ActivityOut
from registry.errors import BrokenRule

Outcome = Literal["continue", "corrective_action", "suspend", "terminate"]
# upcoming: due later than the reminder window; due_soon: within it, or past due but inside
# the policy's grace; overdue: past due plus grace (its personas are suspended, per policy).
Status = Literal["upcoming", "due_soon", "overdue", "held", "cancelled"]
# The same, with the days of grace told apart from the reminder window: in_grace is past its
# due date but not yet overdue. What the calendar, the overviews and the feed say.
Standing = Literal["upcoming", "due_soon", "in_grace", "overdue", "held", "cancelled"]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
Action = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class Handler(msgspec.Struct):
    id: UUID
    username: str
    display_name: str


class CoveredPersona(msgspec.Struct):
    id: UUID
    codename: str
    status: str


class ReviewOut(msgspec.Struct):
    id: UUID
    investigation_id: UUID
    case_number: str
    handler: Handler
    persona_codenames: list[str]
    due_on: date
    scheduled_for: datetime | None
    status: Status
    held_on: date | None
    outcome: Outcome | None
    standing: Standing
    # An open review past its due date becomes overdue after this day (due date plus grace).
    overdue_after: date | None


class ReviewList(msgspec.Struct):
    items: list[ReviewOut]


class Attendee(msgspec.Struct):
    id: UUID
    display_name: str


class ReviewRecord(msgspec.Struct):
    """What was recorded at a held review. Confidential: every read is audited."""

    attendees: list[Attendee]
    notes: str
    findings: str | None
    actions: list[str]
    follow_up_on: date | None
    recorded_by: str
    recorded_at: datetime


class ReviewDetail(msgspec.Struct):
    review: ReviewOut
    personas: list[CoveredPersona]
    # The review before this one for the same handler and investigation, if any.
    previous_held_on: date | None
    # The covered personas' activity since the previous review (or since approval): what the
    # commander goes through at the meeting.
    activity_since: datetime | None
    activity: list[ActivityOut]
    record: ReviewRecord | None


class Reschedule(msgspec.Struct, forbid_unknown_fields=True):
    scheduled_for: datetime


class Complete(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    held_on: date
    notes: Text
    outcome: Outcome
    # Who took part besides the commander recording it; the handler must be among them.
    attendees: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=20)]
    findings: Text | None = None
    # corrective_action: what must be done, and when the follow-up review is due.
    actions: Annotated[list[Action], msgspec.Meta(max_length=50)] = []
    follow_up_on: date | None = None

    def __post_init__(self) -> None:
        if self.outcome == "corrective_action":
            missing = {}
            if not self.actions:
                missing["actions"] = "List at least one action: a corrective action outcome needs them."
            if self.follow_up_on is None:
                missing["follow_up_on"] = "Give the date of the follow-up review: a corrective action needs one."
            if missing:
                raise BrokenRule("a corrective_action outcome needs actions and a follow_up_on date", missing)
        elif self.actions or self.follow_up_on is not None:
            given = {"actions": self.actions, "follow_up_on": self.follow_up_on}
            raise BrokenRule(
                "actions and follow_up_on belong to a corrective_action outcome only",
                {name: "Leave this empty, or choose the corrective action outcome." for name, v in given.items() if v},
            )
        if self.follow_up_on is not None and self.follow_up_on <= self.held_on:
            raise BrokenRule(
                "follow_up_on must be after held_on",
                {"follow_up_on": "The follow-up review must come after the day the review was held."},
            )


class Completed(msgspec.Struct):
    review: ReviewOut
    # None when no persona is left to review (all retired by a `terminate` outcome).
    next_due_on: date | None


class CalendarToken(msgspec.Struct):
    url: str
    # When the previous URL (if any) stopped working: now.
    issued_at: datetime

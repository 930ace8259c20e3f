"""The department's policy file: who fills each placeholder of the source policies, and the
numbers the rules use. Loaded and validated once at start-up; any doubt stops the service."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from registry.errors import ConfigurationError

Role = Literal[
    "detective",
    "supervisor",
    "authorizing_official",
    "commander",
    "equipment_officer",
    "legal",
    "auditor",
    "administrator",
    "internal_affairs",
]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]

Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=24 * 60)]


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Department(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    # CJIS AC-8: the notice shown before anyone signs in.
    system_use_notice: Annotated[str, msgspec.Meta(min_length=20, max_length=4000)]
    # The IANA time zone pages show times in and forms take them in (24-hour clock).
    time_zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "UTC"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"department.time_zone {self.time_zone!r} is not an IANA time zone name") from exc

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Version(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Which policy is in force: 003's header leaves its effective date blank, and 002 II asks
    for a review every year. Every decision records the version it was taken under."""

    version: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] = "unversioned"
    effective_on: date | None = None
    # When the registry starts reminding administrators and legal that the policy is due its review.
    review_due_on: date | None = None


class Placeholders(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The bracketed blanks of policy 003, filled with one of our roles. Each blank accepts only
    roles cleared for what the duty shows them (never administrators, equipment officers,
    legal, auditors or detectives, who would then see a whole unit's identities)."""

    # 003 IV.B.1.a / IV.B.3.a: "[IDENTIFY – CHIEF, OTHER OFFICIAL, ETC]"
    authorizes_false_identities: Literal["authorizing_official", "commander"]
    # 003 IV.B.1.b: specific authorization for each site or profile
    authorizes_sites: Literal["authorizing_official", "commander"]
    # 003 IV.B.3.b.2: "approved by the investigations supervisor prior to use"
    approves_identity_details: Literal["supervisor", "commander"]
    # 003 IV.B.4: "[INVESTIGATIONS COMMANDER OR IDENTIFY]"
    holds_conduct_reviews: Literal["commander", "supervisor"]
    # 003 IV.C.3: "the department, or its designated investigator" in an internal investigation.
    investigates_internal_affairs: Literal["internal_affairs", "commander"] = "internal_affairs"


class Personas(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    approval_valid_days: Days
    review_interval_days: Days
    review_grace_days: Annotated[int, msgspec.Meta(ge=0, le=90)]
    # How many days before a conduct review its handler and the commander are reminded.
    review_reminder_days: Annotated[int, msgspec.Meta(ge=0, le=60)]
    overdue_review_action: Literal["suspend", "report"]
    # An active persona that stops meeting a condition of use (approval, investigation
    # authorization, device inspection, terms of service, accounts) is suspended by the
    # periodic sweep, or only reported (003 IV.B.2, IV.B.3.b.2).
    lapse_action: Literal["suspend", "report"] = "suspend"
    # Days before an approval, an investigation's authorization or a device's inspection lapses
    # when the handler and whoever can renew it are reminded.
    lapse_reminder_days: Annotated[int, msgspec.Meta(ge=0, le=90)] = 14


class Investigations(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    authorization_valid_days: Days


class Platforms(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    tos_review_max_age_days: Days
    # Days an account must have existed on its site before operational use; 0: no minimum.
    account_minimum_age_days: Annotated[int, msgspec.Meta(ge=0, le=3650)] = 0
    # Per platform (by name, any case), overriding the default above.
    account_minimum_age_by_platform: dict[str, Annotated[int, msgspec.Meta(ge=0, le=3650)]] = {}

    # While a persona is dormant (approved, not yet in use), light activity on its accounts every
    # this many days keeps them looking used; 0: no warming plan.
    warming_interval_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 0

    def minimum_age_days(self, platform: str) -> int:
        by_name = {name.casefold(): days for name, days in self.account_minimum_age_by_platform.items()}
        return by_name.get(platform.casefold(), self.account_minimum_age_days)


class Equipment(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    inspection_max_age_days: Days


class Security(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    lockout_threshold: Annotated[int, msgspec.Meta(ge=3, le=10)]
    # 0: only an administrator releases a locked account.
    lockout_minutes: Annotated[int, msgspec.Meta(ge=0, le=24 * 60)]
    session_idle_minutes: Minutes
    session_absolute_hours: Annotated[int, msgspec.Meta(ge=1, le=24)]
    # Failed password sign-ins from one client address, within the window, before further
    # attempts from it are refused unchecked. Offices share addresses: leave room for typos.
    address_attempt_limit: Annotated[int, msgspec.Meta(ge=5, le=10_000)] = 50
    address_window_minutes: Minutes = 15
    # The second person for accounts (never an administrator): confirms each grant of a role
    # that reads identities, and each reset of an authenticator, with a fresh code of their own.
    confirms_accounts: Literal["commander", "supervisor"] = "commander"
    # How long the one-time enrollment code they hand to the user stays good.
    enrollment_code_hours: Annotated[int, msgspec.Meta(ge=1, le=14 * 24)] = 72


class Audit(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    # The shortest time audit events are kept; the registry itself never deletes them.
    retention_years: Annotated[int, msgspec.Meta(ge=1, le=100)]


class Policy(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    department: Department
    policy: Version = Version()
    placeholders: Placeholders
    personas: Personas
    investigations: Investigations
    platforms: Platforms
    equipment: Equipment
    security: Security
    audit: Audit

    @property
    def version(self) -> str:
        return self.policy.version

    def __post_init__(self) -> None:
        if (
            self.policy.effective_on is not None
            and self.policy.review_due_on is not None
            and self.policy.review_due_on <= self.policy.effective_on
        ):
            raise ValueError("policy.review_due_on must come after policy.effective_on")
        if self.security.session_idle_minutes > self.security.session_absolute_hours * 60:
            raise ValueError("security.session_idle_minutes cannot exceed security.session_absolute_hours")
        if self.personas.review_interval_days > self.personas.approval_valid_days:
            raise ValueError(
                "personas.review_interval_days cannot exceed personas.approval_valid_days: "
                "every approval period must hold at least one conduct review (IV.B.4)"
            )


def load_policy(path: Path) -> Policy:
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigurationError(f"policy file {path} not found (set REGISTRY_POLICY)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"policy file {path} is not valid TOML: {exc}") from exc
    try:
        return msgspec.convert(raw, Policy)
    except msgspec.ValidationError as exc:
        key = _bad_key(str(exc))
        where = f"policy file {path}, key {key}" if key else f"policy file {path}"
        raise ConfigurationError(f"{where}: {exc}") from exc


def _bad_key(message: str) -> str | None:
    """The dotted key msgspec's message is about: "Expected `int`, got `str` - at
    `$.security.lockout_threshold`", or "Object missing required field `lockout_threshold` - at
    `$.security`" (the field is named apart from where it is missing) both give
    security.lockout_threshold."""
    at = re.search(r" - at `\$\.?([^`]*)`$", message)
    parts = [at.group(1)] if at and at.group(1) else []
    field = re.match(r"Object (?:missing required|contains unknown) field `([^`]+)`", message)
    if field:
        parts.append(field.group(1))
    return ".".join(parts) or None

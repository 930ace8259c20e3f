"""Permissions are ours; roles are the department's words for bundles of them.

Every route names exactly one permission in its `opt`; `registry.app` refuses to start if a
route names none (deny by default). Duties that the policy file assigns (who authorizes, who
approves, who holds reviews) are granted to whichever role the policy names.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping

from registry.policy import Policy


class Permission(enum.StrEnum):
    # Routes anyone may call, signed in or not (notice, login, health).
    PUBLIC = "public"
    # Routes for the second step of sign-in: a password-verified, not yet MFA-verified session.
    MFA_PENDING = "auth:mfa"
    # Any fully signed-in user, about themselves.
    SELF = "self"

    USER_MANAGE = "user:manage"
    # The department's units and who belongs to each (the tree need-to-know follows).
    UNIT_MANAGE = "unit:manage"
    # The tree of units, names only: any signed-in user (an investigation form offers units).
    UNIT_READ = "unit:read"
    # The second person for accounts: confirms grants of roles that read identities, and
    # authenticator resets (policy [security] confirms_accounts).
    USER_CONFIRM = "user:confirm"
    AUDIT_READ = "audit:read"
    CENTRAL_RECORD_READ = "central_record:read"

    INVESTIGATION_CREATE = "investigation:create"
    INVESTIGATION_READ = "investigation:read"
    INVESTIGATION_MEMBERS = "investigation:members"
    INVESTIGATION_AUTHORIZE = "investigation:authorize"

    PERSONA_REQUEST = "persona:request"
    PERSONA_READ = "persona:read"
    PERSONA_EDIT = "persona:edit"
    PERSONA_APPROVE = "persona:approve"
    PERSONA_SUSPEND = "persona:suspend"
    PERSONA_HANDOVER = "persona:handover"
    DECONFLICT = "persona:deconflict"

    ACCOUNT_REQUEST = "account:request"
    ACCOUNT_AUTHORIZE = "account:authorize"
    ACCOUNT_DISABLE = "account:disable"

    PLATFORM_READ = "platform:read"
    PLATFORM_MANAGE = "platform:manage"
    TOS_REVIEW = "platform:tos_review"
    TOS_ACKNOWLEDGE = "persona:tos_acknowledge"

    EQUIPMENT_READ = "equipment:read"
    EQUIPMENT_MANAGE = "equipment:manage"
    EQUIPMENT_ASSIGN = "equipment:assign"

    PERSONA_ACTIVATE = "persona:activate"
    ACTIVITY_RECORD = "activity:record"
    ACTIVITY_READ = "activity:read"

    # The conduct review calendar: handlers see their own, the chain the unit's.
    REVIEW_READ = "review:read"
    REVIEW_SCHEDULE = "review:schedule"
    # Record a held review, and move one past the policy's grace (003 IV.B.4).
    REVIEW_HOLD = "review:hold"
    # 003 IV.C.3: one officer's personas and accounts, for an internal investigation.
    INTERNAL_AFFAIRS_READ = "internal_affairs:read"

    # Disclosure packs for court and inspection (003 IV.B.4); the identity part is a separate
    # permission, since auditors never read legends.
    DISCLOSURE_CREATE = "disclosure:create"
    DISCLOSURE_IDENTITY = "disclosure:identity"


# What each role may do, whatever the policy says.
P = Permission
# The chain above a handler: sees every persona of the unit (need-to-know, in SQL) and can
# suspend, resume, retire or hand over.
_CHAIN = frozenset(
    {
        P.INVESTIGATION_READ,
        P.INVESTIGATION_MEMBERS,
        P.PERSONA_READ,
        P.PERSONA_SUSPEND,
        P.ACCOUNT_DISABLE,
        P.PLATFORM_READ,
        P.DECONFLICT,
        P.EQUIPMENT_READ,
        P.EQUIPMENT_ASSIGN,
        P.ACTIVITY_READ,
        P.REVIEW_READ,
        P.REVIEW_SCHEDULE,
    }
)
_BASE: dict[str, frozenset[Permission]] = {
    "detective": frozenset(
        {
            P.INVESTIGATION_CREATE,
            P.INVESTIGATION_READ,
            P.INVESTIGATION_MEMBERS,
            P.PERSONA_REQUEST,
            P.PERSONA_READ,
            P.PERSONA_EDIT,
            P.PERSONA_SUSPEND,
            P.DECONFLICT,
            P.ACCOUNT_REQUEST,
            P.ACCOUNT_DISABLE,
            P.PLATFORM_READ,
            P.EQUIPMENT_READ,
            P.EQUIPMENT_ASSIGN,
            P.TOS_ACKNOWLEDGE,
            P.PERSONA_ACTIVATE,
            P.ACTIVITY_RECORD,
            P.ACTIVITY_READ,
            P.REVIEW_READ,
            P.REVIEW_SCHEDULE,
        }
    ),
    "supervisor": _CHAIN | {P.PERSONA_HANDOVER},
    "authorizing_official": frozenset({P.INVESTIGATION_READ, P.PERSONA_READ, P.PLATFORM_READ}),
    "commander": _CHAIN | {P.PERSONA_HANDOVER},
    # Sees devices and the codenames they serve, never a persona's details.
    "equipment_officer": frozenset({P.EQUIPMENT_READ, P.EQUIPMENT_MANAGE}),
    "legal": frozenset({P.PLATFORM_READ, P.PLATFORM_MANAGE, P.TOS_REVIEW, P.DISCLOSURE_CREATE, P.DISCLOSURE_IDENTITY}),
    "auditor": frozenset({P.AUDIT_READ, P.CENTRAL_RECORD_READ, P.DISCLOSURE_CREATE}),
    # IT staff are not cleared for identities: accounts only.
    "administrator": frozenset({P.USER_MANAGE, P.UNIT_MANAGE}),
    # Codenames, case numbers and dates of one officer's personas: never their identities.
    "internal_affairs": frozenset(),
}

# Duties whose holder is named by the policy file's [placeholders].
_DUTIES: dict[str, frozenset[Permission]] = {
    # 003 IV.B.1.a, IV.B.3.a
    "authorizes_false_identities": frozenset({P.INVESTIGATION_AUTHORIZE, P.INVESTIGATION_READ, P.PERSONA_READ}),
    # 003 IV.B.1.b
    "authorizes_sites": frozenset({P.ACCOUNT_AUTHORIZE, P.PERSONA_READ, P.PLATFORM_READ}),
    # 003 IV.B.3.b.2
    "approves_identity_details": frozenset({P.PERSONA_APPROVE, P.PERSONA_READ, P.INVESTIGATION_READ}),
    # 003 IV.C.3
    "investigates_internal_affairs": frozenset({P.INTERNAL_AFFAIRS_READ}),
    # 003 IV.B.4
    "holds_conduct_reviews": frozenset(
        {P.PERSONA_READ, P.INVESTIGATION_READ, P.ACTIVITY_READ, P.REVIEW_READ, P.REVIEW_SCHEDULE, P.REVIEW_HOLD}
    ),
}

# Holders of these see every persona and investigation of their units and the units below;
# everyone else only what they handle or whose investigation team they are on (see
# registry/access.py).
_UNIT_WIDE = frozenset({P.PERSONA_APPROVE, P.PERSONA_HANDOVER, P.REVIEW_HOLD})
# The authorizing official weighs investigations and authorizes sites and profiles: they see
# every investigation's justification and every account awaiting them, but a persona's
# documented identity only where need-to-know gives it to them like anyone else.
_WEIGHS_INVESTIGATIONS = frozenset({P.INVESTIGATION_AUTHORIZE, P.ACCOUNT_AUTHORIZE})
_WEIGHS_ACCOUNTS = frozenset({P.ACCOUNT_AUTHORIZE})


class RolePermissions:
    def __init__(self, policy: Policy) -> None:
        grants = {role: set(perms) for role, perms in _BASE.items()}
        for duty, perms in _DUTIES.items():
            grants[getattr(policy.placeholders, duty)].update(perms)
        grants[policy.security.confirms_accounts].add(P.USER_CONFIRM)
        self._grants: Mapping[str, frozenset[Permission]] = {r: frozenset(p) for r, p in grants.items()}
        # Every request asks for its caller's permissions: worked out once per set of roles.
        self._held: dict[tuple[str, ...], frozenset[Permission]] = {}

    # The grants never change once built: the role lists below are worked out once.

    @functools.cached_property
    def unit_wide_roles(self) -> list[str]:
        """Roles whose holders see the personas of their units and the units below: the
        supervisor and commander chain, and whoever the policy makes approve or hold reviews."""
        return sorted(role for role, perms in self._grants.items() if perms & _UNIT_WIDE)

    @functools.cached_property
    def identity_roles(self) -> frozenset[str]:
        """Roles that read identities (persona details, or a disclosure pack's identity part):
        granting one takes a second person."""
        return frozenset(
            role for role, perms in self._grants.items() if perms & {P.PERSONA_READ, P.DISCLOSURE_IDENTITY}
        )

    @functools.cached_property
    def investigation_wide_roles(self) -> list[str]:
        """Roles that see every investigation of the department, beyond the unit chain (not its
        personas' identities): whoever authorizes investigations or sites weighs them all."""
        return sorted(role for role, perms in self._grants.items() if perms & _WEIGHS_INVESTIGATIONS)

    @functools.cached_property
    def account_wide_roles(self) -> list[str]:
        """Roles that see every platform account (platform, handle, profile) of the department,
        beyond the unit chain: whoever authorizes sites."""
        return sorted(role for role, perms in self._grants.items() if perms & _WEIGHS_ACCOUNTS)

    def for_roles(self, roles: Iterable[str]) -> frozenset[Permission]:
        key = tuple(roles)
        found = self._held.get(key)
        if found is None:
            held: set[Permission] = {Permission.SELF, Permission.UNIT_READ}
            for role in key:
                held |= self._grants.get(role, frozenset())
            found = self._held[key] = frozenset(held)
        return found

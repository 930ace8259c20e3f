"""Permissions are ours; roles are the department's words for bundles of them.

Every route names exactly one permission in its `opt`; `registry.app` refuses to start if a
route names none (deny by default). Duties that the policy file assigns (who authorizes, who
approves, who holds reviews) are granted to whichever role the policy names.
"""

from __future__ import annotations

import enum
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
    AUDIT_READ = "audit:read"


# What each role may do, whatever the policy says.
_BASE: dict[str, frozenset[Permission]] = {
    "detective": frozenset(),
    "supervisor": frozenset(),
    "authorizing_official": frozenset(),
    "commander": frozenset(),
    "equipment_officer": frozenset(),
    "legal": frozenset(),
    "auditor": frozenset({Permission.AUDIT_READ}),
    "administrator": frozenset({Permission.USER_MANAGE}),
}

# Duties whose holder is named by the policy file's [placeholders].
_DUTIES: dict[str, frozenset[Permission]] = {
    "authorizes_false_identities": frozenset(),
    "authorizes_sites": frozenset(),
    "approves_identity_details": frozenset(),
    "holds_conduct_reviews": frozenset(),
}


class RolePermissions:
    def __init__(self, policy: Policy) -> None:
        grants = {role: set(perms) for role, perms in _BASE.items()}
        for duty, perms in _DUTIES.items():
            grants[getattr(policy.placeholders, duty)].update(perms)
        self._grants: Mapping[str, frozenset[Permission]] = {r: frozenset(p) for r, p in grants.items()}

    def for_roles(self, roles: Iterable[str]) -> frozenset[Permission]:
        held: set[Permission] = {Permission.SELF}
        for role in roles:
            held |= self._grants.get(role, frozenset())
        return frozenset(held)

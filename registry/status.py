"""The persona states and their groups: one vocabulary for SQL parameters, routes, services and
templates (DESIGN: persona lifecycle). A test holds the migration's CHECK to exactly this enum.

draft -> submitted -> approved -> active <-> suspended; submitted -> rejected -> draft;
retired (with a reason) or compromised (with a report) from any live state, both terminal."""

from __future__ import annotations

from enum import StrEnum


class PersonaStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REJECTED = "rejected"
    APPROVED = "approved"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    RETIRED = "retired"
    COMPROMISED = "compromised"

    @classmethod
    def closed(cls) -> tuple[PersonaStatus, ...]:
        """Terminal: the record is kept, nothing more happens to it."""
        return (cls.RETIRED, cls.COMPROMISED)

    @classmethod
    def live(cls) -> tuple[PersonaStatus, ...]:
        """Every state but the terminal ones."""
        return tuple(s for s in cls if s not in cls.closed())

    @classmethod
    def approved_like(cls) -> tuple[PersonaStatus, ...]:
        """Carrying a supervisor's approval: the states a conduct review covers and a renewal serves."""
        return (cls.APPROVED, cls.ACTIVE, cls.SUSPENDED)

    @classmethod
    def suspendable(cls) -> tuple[PersonaStatus, ...]:
        return (cls.APPROVED, cls.ACTIVE)

    @classmethod
    def editable(cls) -> tuple[PersonaStatus, ...]:
        """Whose documented identity the handler may still change."""
        return cls.live()

    @classmethod
    def pattern(cls) -> str:
        """A full-match regular expression for a status query parameter."""
        return r"\A(" + "|".join(s.value for s in cls) + r")\Z"


def values(states: tuple[PersonaStatus, ...]) -> list[str]:
    """A group as a text[] parameter."""
    return [s.value for s in states]

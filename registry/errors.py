"""One hierarchy of domain errors; `registry.app` maps each to problem-details JSON."""

from __future__ import annotations

from typing import Any


class ConfigurationError(Exception):
    """The service cannot start as configured; the message says what to fix."""


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(DomainError):
    status = 400
    title = "Bad request"


class Invalid(DomainError):
    status = 422
    title = "Invalid input"


class NotAuthenticated(DomainError):
    status = 401
    title = "Not signed in"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class InvalidTransition(Conflict):
    title = "Invalid transition"


class GateFailed(Conflict):
    title = "Conditions not met"


class Stale(Conflict):
    """The record changed since the caller read it: a decision must be about what they saw."""

    title = "Changed since you opened it"

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
        self.headers: dict[str, str] = {}


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


class NotPermitted(Forbidden):
    """The caller's roles lack the route's permission: the API's detail names the permission
    (for whoever writes a client), a page says it in words (`in_words`)."""

    def __init__(self, detail: str, in_words: str) -> None:
        super().__init__(detail)
        self.in_words = in_words


class BrokenRule(ValueError):
    """A rule across a Struct's fields, raised from its `__post_init__`: the message is the
    API's; `fields` says it field by field, for a form to show beside each input."""

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields


class CodeNotAccepted(DomainError):
    """A wrong or used authenticator code on a step that carries one: the session stands."""

    status = 403
    title = "Code not accepted"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Request too large"


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"


class TooManyAttempts(DomainError):
    status = 429
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers = {"retry-after": str(retry_after)}


class AuditChainBroken(Conflict):
    """The audit chain cannot be extended (its head record is gone): nothing that must cite it
    can be made until the log is restored."""

    title = "Audit chain broken"


class InvalidTransition(Conflict):
    title = "Invalid transition"


class GateFailed(Conflict):
    title = "Conditions not met"


class Stale(Conflict):
    """The record changed since the caller read it: a decision must be about what they saw."""

    title = "Changed since you opened it"

"""From an HTML form to the Struct a service takes, and from a refusal back to the form.

Input names are the dotted paths of the Struct's fields (`identity.alias_name`), so msgspec's
validation paths and the services' `field=` point at the input that is at fault."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import asyncpg
import msgspec

from registry.errors import DomainError, NotFound

T = TypeVar("T")

_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]+)`")
# Fields whose errors the services name differently from the form's inputs.
_ALIASES = {"code": "totp_code"}


class FormErrors(Exception):
    """What is wrong, by input name ("" for the form as a whole); rendered next to each input."""

    def __init__(self, errors: dict[str, str], status: int = 400) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.status = status


def _friendly(message: str) -> str:
    if "length >= 1" in message or message.startswith("Object missing required field"):
        return "This is required."
    if "RFC3339" in message and "date" in message:
        return "Enter a date as YYYY-MM-DD."
    if "RFC3339" in message:
        return "Enter a date and time."
    if "Expected `uuid`" in message:
        return "Choose one of the options."
    if message.startswith("Expected `str` of length <="):
        limit = message.rsplit("<=", 1)[-1].strip()
        return f"This is too long (at most {limit} characters)."
    if message.startswith("Expected `str` matching regex"):
        return "This is not in the expected form: see the hint."
    if message.startswith("Expected `int`"):
        return "Enter a whole number."
    if message.startswith("Invalid enum value"):
        return "Choose one of the options."
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def convert(data: Mapping[str, Any], type_: type[T]) -> T:
    """The Struct, or FormErrors naming the input at fault."""
    try:
        return msgspec.convert(data, type_, strict=False)
    except msgspec.ValidationError as exc:
        match = _PATH.match(str(exc))
        message, path = (match["message"], match["path"] or "") if match else (str(exc), "")
        missing = _MISSING.match(message)
        name = path.lstrip(".")
        if missing:
            name = f"{name}.{missing['name']}".lstrip(".")
        raise FormErrors({name: _friendly(message)}) from exc


def text(form: Mapping[str, Any], name: str) -> str | None:
    """A text input, trimmed; None when left empty (so required fields say so)."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def utc_local(value: str | None) -> str | None:
    """A datetime-local input as RFC 3339: the forms ask for UTC (the input carries no zone) and
    browsers leave out the seconds, which RFC 3339 requires."""
    if value is None or "+" in value or value.endswith("Z"):
        return value
    if len(value) == 16:
        value += ":00"
    return value + "Z" if len(value) <= 19 else value


def values(form: Mapping[str, Any]) -> dict[str, Any]:
    """A submitted form's text inputs (uploads are not taken anywhere)."""
    return {k: v for k, v in form.items() if isinstance(v, str)}


def checked(form: Mapping[str, Any], name: str) -> bool:
    return form.get(name) in ("on", "true", "yes", "1")


def given(**fields: Any) -> dict[str, Any]:
    """The fields that were filled in."""
    return {k: v for k, v in fields.items() if v is not None}


def refusal(exc: DomainError) -> FormErrors:
    field = exc.extra.get("field")
    name = _ALIASES.get(field, field) if isinstance(field, str) else ""
    detail = exc.detail
    unmet = exc.extra.get("unmet")
    if isinstance(unmet, list) and unmet:
        detail = "Not yet: " + " ".join(str(u.get("detail", "")) for u in unmet if isinstance(u, dict))
    return FormErrors({name: detail}, exc.status)


async def attempt(conn: asyncpg.Connection, step: Callable[[], Awaitable[T]]) -> T:
    """Run a service step in a savepoint: a refusal undoes whatever the step wrote and comes
    back as FormErrors, to show next to the input at fault. A persona or record the caller may
    not see stays a 404."""
    try:
        async with conn.transaction():
            return await step()
    except NotFound as exc:
        if "field" not in exc.extra:
            raise
        raise refusal(exc) from exc
    except DomainError as exc:
        raise refusal(exc) from exc
    except (asyncpg.UntranslatableCharacterError, asyncpg.CharacterNotInRepertoireError) as exc:
        raise FormErrors({"": "A field contains a character that cannot be stored (such as NUL)."}) from exc

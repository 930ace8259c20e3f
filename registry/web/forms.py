"""From an HTML form to the Struct a service takes, and from a refusal back to the form.

Input names are the dotted paths of the Struct's fields (`identity.alias_name`), so msgspec's
validation paths and the services' `field=` point at the input that is at fault."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from registry.errors import BrokenRule, DomainError, NotFound

T = TypeVar("T")

_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]+)`")
# Fields whose errors the services name differently from the form's inputs.
_ALIASES = {"code": "totp_code"}
# Labels every form gives the same input (_forms.html `code`).
_COMMON_LABELS = {"totp_code": "Code from your authenticator"}


Labels = Mapping[str, str]


class Problem(str):
    """What is wrong with one input, in the form's words, knowing the input's label: the
    message shows beside the input, and the error summary names the label and links to it."""

    label: str

    def __new__(cls, message: str, label: str) -> Problem:
        problem = super().__new__(cls, message)
        problem.label = label
        return problem


def label_of(name: str, labels: Labels | None = None) -> str:
    """The label of input `name`: as the page gives it, else its field's name in words
    (`identity.date_of_birth` is "Date of birth")."""
    if labels and name in labels:
        return labels[name]
    last = re.sub(r"\[\d+\]", "", name).rsplit(".", 1)[-1]
    return _COMMON_LABELS.get(last) or last.replace("_", " ").capitalize()


def in_words(message: str, labels: Labels) -> str:
    """A message as the form's reader knows it: the internal names of the form's fields
    (`held_on`) become their labels; plain words and values the message quotes stay."""
    for name, label in labels.items():
        field = name.rsplit(".", 1)[-1]
        if "_" in field:
            message = re.sub(rf"(?<![\w']){re.escape(field)}(?![\w'])", f"“{label}”", message)
    return message[:1].upper() + message[1:]


def named(errors: Mapping[str, str], labels: Labels | None = None) -> dict[str, str]:
    """Each error knowing its input's label, its message in the labels' words."""
    problems: dict[str, str] = {}
    for name, message in errors.items():
        label = label_of(name, labels) if name else ""
        known = {**(labels or {}), **({name: label} if name else {})}
        problems[name] = Problem(in_words(message, known), label)
    return problems


class FormErrors(Exception):
    """What is wrong, by input name ("" for the form as a whole); rendered next to each input,
    and all together in the summary at the top of the form."""

    def __init__(self, errors: dict[str, str], status: int = 400, labels: Labels | None = None) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = named(errors, labels)
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


def _problem(exc: msgspec.ValidationError, prefix: str = "") -> tuple[str, str]:
    """The input a validation error is about (its dotted path) and what to tell the reader."""
    match = _PATH.match(str(exc))
    message, path = (match["message"], match["path"] or "") if match else (str(exc), "")
    missing = _MISSING.match(message)
    name = f"{prefix}{path}".lstrip(".")
    if missing:
        name = f"{name}.{missing['name']}".lstrip(".")
    return name, _friendly(message)


def _field_problems(data: Mapping[str, Any], type_: Any, prefix: str = "") -> dict[str, str]:
    """Every field of a Struct that is missing or malformed, each judged on its own, so a form
    shows all its errors at once (msgspec stops at the first)."""
    problems: dict[str, str] = {}
    for f in msgspec.structs.fields(type_):
        name = f"{prefix}.{f.encode_name}".lstrip(".")
        if f.encode_name not in data:
            if f.required:
                problems[name] = _friendly(f"Object missing required field `{f.encode_name}`")
            continue
        value = data[f.encode_name]
        if isinstance(f.type, type) and issubclass(f.type, msgspec.Struct) and isinstance(value, Mapping):
            problems |= _field_problems(value, f.type, name)
            continue
        try:
            msgspec.convert(value, f.type, strict=False)
        except msgspec.ValidationError as exc:
            where, message = _problem(exc, name)
            problems[where] = message
    return problems


def convert(data: Mapping[str, Any], type_: type[T], labels: Labels | None = None) -> T:
    """The Struct, or FormErrors naming every input at fault (a rule across fields, such as
    "a follow-up date needs a corrective action", once each field is right)."""
    try:
        return msgspec.convert(data, type_, strict=False)
    except msgspec.ValidationError as exc:
        problems = _field_problems(data, type_) if isinstance(type_, type) and issubclass(type_, msgspec.Struct) else {}
        if not problems and isinstance(exc.__cause__, BrokenRule):
            problems = dict(exc.__cause__.fields)
        if not problems:
            name, message = _problem(exc)
            problems = {name: message}
        raise FormErrors(problems, labels=labels) from exc


def text(form: Mapping[str, Any], name: str) -> str | None:
    """A text input, trimmed; None when left empty (so required fields say so)."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def typed_time(value: str | None, zone: str) -> str | None:
    """A date and time typed without a zone (YYYY-MM-DD HH:MM, 24-hour) as RFC 3339, taken in
    `zone` (the department's, from the policy file); RFC 3339 also wants the seconds people
    leave out. Anything else is passed on for the Struct to refuse."""
    if value is None or "+" in value or value.endswith("Z"):
        return value
    try:
        typed = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        return value
    if typed.tzinfo is not None:
        return value
    return typed.replace(tzinfo=ZoneInfo(zone)).isoformat()


def values(form: Mapping[str, Any]) -> dict[str, Any]:
    """A submitted form's text inputs (uploads are not taken anywhere)."""
    return {k: v for k, v in form.items() if isinstance(v, str)}


def checked(form: Mapping[str, Any], name: str) -> bool:
    return form.get(name) in ("on", "true", "yes", "1")


def given(**fields: Any) -> dict[str, Any]:
    """The fields that were filled in."""
    return {k: v for k, v in fields.items() if v is not None}


def refusal(exc: DomainError, labels: Labels | None = None) -> FormErrors:
    field = exc.extra.get("field")
    name = _ALIASES.get(field, field) if isinstance(field, str) else ""
    detail = exc.detail
    unmet = exc.extra.get("unmet")
    if isinstance(unmet, list) and unmet:
        detail = "Not yet: " + " ".join(str(u.get("detail", "")) for u in unmet if isinstance(u, dict))
    return FormErrors({name: detail}, exc.status, labels)


async def attempt(conn: asyncpg.Connection, step: Callable[[], Awaitable[T]], labels: Labels | None = None) -> T:
    """Run a service step in a savepoint: a refusal undoes whatever the step wrote and comes
    back as FormErrors, to show next to the input at fault. A persona or record the caller may
    not see stays a 404."""
    try:
        async with conn.transaction():
            return await step()
    except NotFound as exc:
        if "field" not in exc.extra:
            raise
        raise refusal(exc, labels) from exc
    except DomainError as exc:
        raise refusal(exc, labels) from exc
    except (asyncpg.UntranslatableCharacterError, asyncpg.CharacterNotInRepertoireError) as exc:
        raise FormErrors({"": "A field contains a character that cannot be stored (such as NUL)."}) from exc

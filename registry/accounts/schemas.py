from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

Code = Annotated[str, msgspec.Meta(min_length=6, max_length=32, description="a fresh code from the authenticator")]
# A reference to where the credentials are kept, e.g. "vault:secret/personas/amber-heron".
# Checked in AccountCreate.__post_init__ rather than by a Meta pattern, so that a refusal
# says what is wanted instead of quoting a regular expression.
VAULT_PATH = re.compile(r"[a-z][a-z0-9+.-]{1,20}:(//)?[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)+")
CredentialRef = Annotated[
    str,
    msgspec.Meta(
        max_length=300,
        description="where the credentials are kept (a vault path such as vault:secret/personas/amber-heron)",
    ),
]


class AccountCreate(msgspec.Struct, forbid_unknown_fields=True):
    platform_id: UUID
    handle: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    profile_url: Annotated[str, msgspec.Meta(pattern=r"\Ahttps?://\S{3,500}\Z")] | None = None
    email: Annotated[str, msgspec.Meta(pattern=r"\A[^@\s]{1,64}@[^@\s]{1,255}\Z")] | None = None
    phone: Annotated[str, msgspec.Meta(pattern=r"\A\+?[0-9 ()-]{5,30}\Z")] | None = None
    credential_ref: CredentialRef | None = None
    # The day the account was created on the site, once it exists there.
    created_on: date | None = None
    # Reuse, knowingly, a handle a retired persona carried on this platform.
    acknowledge_retired: bool = False
    # Accepted only to be refused with a clear message: the registry never holds credentials.
    password: str | None = None

    def __post_init__(self) -> None:
        if self.password is not None:
            raise ValueError(
                "never send a password: record credential_ref, the vault path where the credentials are kept"
            )
        if self.credential_ref is not None and not VAULT_PATH.fullmatch(self.credential_ref):
            raise ValueError(
                "credential_ref must be the vault path where the credentials are kept "
                "(such as vault:secret/personas/amber-heron), never the credentials themselves"
            )


class AccountPatch(msgspec.Struct, forbid_unknown_fields=True):
    # The day the account was created on the site.
    created_on: date


class AuthorizeAccount(msgspec.Struct, forbid_unknown_fields=True):
    totp_code: Code


class DeclineAccount(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=4000)]
    totp_code: Code


class DisabledIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(min_length=3, max_length=4000)]


class AccountDetails(msgspec.Struct, omit_defaults=True):
    """The encrypted part of an account."""

    handle: str
    profile_url: str | None = None
    email: str | None = None
    phone: str | None = None


class AccountOut(msgspec.Struct):
    id: UUID
    persona_id: UUID
    codename: str
    platform_id: UUID
    platform: str
    handle: str
    profile_url: str | None
    email: str | None
    phone: str | None
    credential_ref: str | None
    status: str
    requested_by: str
    authorized_by: str | None
    authorized_at: datetime | None
    status_note: str | None
    created_on: date | None = None
    # When it was requested: since when it waits for the site authorizer.
    requested_at: datetime | None = None


class AwaitingAccount(msgspec.Struct):
    account: AccountOut
    own: bool


class AccountCreated(msgspec.Struct):
    id: UUID
    status: str
    # Links this account makes to a burned persona, or to another live one on the platform.
    warnings: list[str] = []

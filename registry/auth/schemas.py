from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

Code = Annotated[str, msgspec.Meta(min_length=6, max_length=32, description="a code from the authenticator")]


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class LoginOut(msgspec.Struct):
    # What the second step of sign-in is: a code from the enrolled authenticator, or enrollment.
    mfa: Literal["verify", "enroll"]


class CodeIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code


class EnrollOut(msgspec.Struct):
    secret: str
    otpauth_uri: str
    qr_svg: str


class RecoveryCodesOut(msgspec.Struct):
    recovery_codes: list[str]


class NoticeOut(msgspec.Struct):
    department: str
    notice: str


class MeOut(msgspec.Struct):
    id: UUID
    username: str
    display_name: str
    roles: list[str]
    permissions: list[str]

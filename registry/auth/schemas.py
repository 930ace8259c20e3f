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


class EnrollConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    # The one-time code a second person handed over, when the enrollment follows an
    # authenticator reset or a grant of a role that reads identities.
    enrollment_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class PasswordChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    totp_code: Code


class EnrollOut(msgspec.Struct):
    secret: str
    otpauth_uri: str
    qr_svg: str
    # Whether confirming needs the one-time enrollment code a second person handed over.
    enrollment_code_required: bool = False


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
    # Signed in with a temporary password: replace it (POST /api/me/password) before anything else.
    password_change_required: bool = False

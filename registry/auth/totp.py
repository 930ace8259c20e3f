"""TOTP (RFC 6238) with pyotp: 30-second steps, 6 digits, one step of clock drift either way.

Verification returns the matching time step; the caller stores it atomically so each step
is accepted once per user (RFC 6238 section 5.2)."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "Persona Registry"
STEP_SECONDS = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    import segno  # loaded on first use, at an enrollment

    return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff"))


def code_at(secret: str, when: datetime) -> str:
    return str(pyotp.TOTP(secret).at(when))

"""Deconfliction (003 IV.B.3): two detectives never unknowingly run the same identity or target,
and an identity the targets know is never reused unknowingly. A live or compromised persona's
alias or handle is refused outright; a retired one's is a warning the requester acknowledges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry.errors import Conflict
from registry.status import PersonaStatus


def refuse_clashes(clashes: Sequence[Any], *, what: str, field: str, acknowledge_retired: bool) -> None:
    """Raise the 409 that `clashes` (rows of codename, handler, status) call for, if any."""
    blocking = [c for c in clashes if c["status"] != PersonaStatus.RETIRED]
    retired = [c for c in clashes if c["status"] == PersonaStatus.RETIRED]
    listed = [{"codename": c["codename"], "handler": c["handler"], "status": c["status"]} for c in clashes]

    def named(rows: Sequence[Any]) -> str:
        return "; ".join(
            f"{c['codename']} (handler {c['handler']}"
            + (", compromised: the targets may know it" if c["status"] == PersonaStatus.COMPROMISED else "")
            + ")"
            for c in rows
        )

    if blocking:
        burned = any(c["status"] == PersonaStatus.COMPROMISED for c in blocking)
        raise Conflict(
            f"This {what} is already used by "
            + ("a compromised or live persona" if burned else "a live persona")
            + f"; it cannot be used again. Contact its handler: {named(blocking)}",
            field=field,
            conflicts=listed,
        )
    if retired and not acknowledge_retired:
        raise Conflict(
            f"This {what} was used by a retired persona: {named(retired)}. Check with its handler that it was "
            "never exposed; to reuse it knowingly, send the request again with acknowledge_retired: true.",
            field=field,
            conflicts=listed,
            acknowledge="acknowledge_retired",
        )

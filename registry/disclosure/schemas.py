from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from registry.disclosure.pack import Problem

MIN_PASSPHRASE = 12
Passphrase = Annotated[
    str,
    msgspec.Meta(
        max_length=1024,
        description="encrypts the identity part; without it the pack carries no identity at all",
    ),
]


class DisclosureIn(msgspec.Struct, forbid_unknown_fields=True):
    investigation_id: UUID | None = None
    persona_id: UUID | None = None
    passphrase: Passphrase | None = None

    def __post_init__(self) -> None:
        if (self.investigation_id is None) == (self.persona_id is None):
            raise ValueError("give either investigation_id (the whole case) or persona_id (one persona), not both")
        # Checked here rather than by Meta, so the refusal names the field and the reason.
        if self.passphrase is not None and len(self.passphrase) < MIN_PASSPHRASE:
            raise ValueError(
                f"passphrase must be at least {MIN_PASSPHRASE} characters: it is all that protects the identities"
            )


class ChainHead(msgspec.Struct, frozen=True):
    seq: int
    hash: str


class VerifyOut(msgspec.Struct, frozen=True, omit_defaults=True):
    """What `registry disclosure verify` found: `ok` only when every check held."""

    ok: bool
    # "files" checks the bytes against the manifest; "registry" also proves the pack against
    # the audit chain.
    checked: list[str]
    problems: list[Problem]
    pack_id: str | None = None
    subject: str | None = None
    chain_head: ChainHead | None = None
    events_checked: int = 0

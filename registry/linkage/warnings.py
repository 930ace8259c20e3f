"""Warnings before a link is made: a new photo, account or device that would tie a persona to
a burned one, or to another live persona on the same platform. They warn, not refuse: the
supervisor weighs them (the linkage report shows the same links once a persona is burned)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from registry.linkage import repo

_BURNED = "compromised: the targets and the platform may know it"


def _who(row: Any) -> str:
    if row["status"] == "compromised":
        return f"compromised persona {row['codename']} ({_BURNED})"
    return f"{row['status']} persona {row['codename']} (handler {row['handler']})"


def photo(matches: Sequence[Any]) -> list[str]:
    return [
        f"{'This photo file' if m['same_file'] else 'A photo that looks the same'} is used by {_who(m)}."
        for m in matches
    ]


async def for_contacts(
    conn: asyncpg.Connection, persona_id: UUID, platform_id: UUID, indexes: list[tuple[str, bytes]]
) -> list[str]:
    if not indexes:
        return []
    matches = await repo.contact_matches(conn, persona_id, platform_id, indexes)
    return [f"The recovery {m['kind']} is also on an account of {_who(m)} on {m['platform']}." for m in matches]


async def for_device(conn: asyncpg.Connection, persona_id: UUID, equipment_id: UUID) -> list[str]:
    matches = await repo.device_matches(conn, persona_id, equipment_id)
    return [f"This device served {_who(m)}: a platform can link them through it." for m in matches]

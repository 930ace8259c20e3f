"""What waits for someone reaches them: a persona submitted for approval, an investigation or
an account awaiting the authorizing official, a device waiting for the equipment officer. The
message is queued in the transaction that made the request (it goes only if that commits),
carries codenames and case numbers only, and links to the page where it is decided."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import asyncpg

from registry.notify import repo


async def tell(
    conn: asyncpg.Connection,
    *,
    roles: Iterable[str],
    exclude: Iterable[UUID],
    key: str,
    subject: str,
    body: str,
    link: str,
    now: datetime,
    unit_id: UUID | None = None,
) -> int:
    """Queue one message for every active holder of `roles` (of the chain of `unit_id`, when
    given) but those in `exclude` (who may not decide their own request); the number queued."""
    left_out = set(exclude)
    sent = 0
    for holder in await repo.holders(conn, list(roles), unit_id):
        if holder in left_out:
            continue
        sent += await repo.enqueue(
            conn,
            dedupe_key=f"{key}:{holder}",
            kind="request_waiting",
            recipient_id=holder,
            review_id=None,
            subject=subject,
            body=f"{body}\nDecide it here: {link}\n",
            now=now,
        )
    return sent

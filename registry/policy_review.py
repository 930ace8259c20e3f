"""002 II: the department reviews its policy every year. Once the policy file's
`policy.review_due_on` has passed, administrators and legal are reminded through the outbox,
once each for that version (a dedupe key), until a newer version is loaded."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from registry.notify import repo as outbox
from registry.runtime import Runtime

REMINDED_ROLES = ("administrator", "legal")


async def remind(pool: asyncpg.Pool, runtime: Runtime, now: datetime) -> int:
    version = runtime.policy.policy
    if version.review_due_on is None or now.date() < version.review_due_on:
        return 0
    sent = 0
    async with pool.acquire() as conn, conn.transaction():
        recipients = await conn.fetch(
            "SELECT id FROM users WHERE active AND roles && $1::text[] ORDER BY id", list(REMINDED_ROLES)
        )
        for recipient in recipients:
            sent += await outbox.enqueue(
                conn,
                dedupe_key=f"policy_review:{version.version}:{recipient['id']}",
                kind="policy_review",
                recipient_id=recipient["id"],
                review_id=None,
                subject=f"The department's policy (version {version.version}) is due its annual review",
                body=(
                    f"Policy version {version.version} was due for review on {version.review_due_on:%Y-%m-%d} "
                    "(002 II: reviewed annually). Once it is reviewed, load the new version, with its version, "
                    "effective date and next review date, in the policy file.\n"
                ),
                now=now,
            )
    return sent

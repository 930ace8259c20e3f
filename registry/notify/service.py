"""Delivery of queued messages (reminders, overdue notices) by email.

Each batch is claimed with FOR UPDATE SKIP LOCKED and marked in the same transaction, so a
message goes once however many instances deliver. A crash between the SMTP server's 250 and
the commit would send it again: delivery is at-least-once, never lost."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

import asyncpg

from registry.notify import mailer, repo
from registry.settings import SmtpSettings

log = logging.getLogger("registry.notify")
BATCH = 50
# Waits between attempts: 1, 2, 4 ... minutes, at most 6 hours.
_MAX_BACKOFF = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** min(attempts, 10)), _MAX_BACKOFF)


async def deliver(conn: asyncpg.Connection, smtp: SmtpSettings, now: datetime) -> int:
    """Send what is due; the number of messages sent."""
    sent = 0
    async with conn.transaction():
        for message in await repo.claim(conn, now, BATCH):
            if not message["still_wanted"]:
                await repo.delivered(conn, message["id"], "dropped", now)
                continue
            if not message["email"]:
                await repo.delivered(conn, message["id"], "no_address", now)
                continue
            try:
                await mailer.send(smtp, message["email"], message["subject"], message["body"])
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("mail delivery failed; will retry", extra={"fields": {"error": type(exc).__name__}})
                await repo.failed(conn, message["id"], type(exc).__name__, now + backoff(message["attempts"]))
                continue
            await repo.delivered(conn, message["id"], "sent", now)
            sent += 1
    return sent

"""Periodic work each instance runs: conduct review enforcement and reminders, the lapse sweep
of personas in use and its reminders, then delivery of queued mail. Every item is claimed in
PostgreSQL, so running it on N instances is safe."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import msgspec

from registry import policy_review
from registry.lifecycle import sweep as lifecycle_sweep
from registry.notify import service as notify
from registry.reviews import jobs as review_jobs
from registry.runtime import Runtime

log = logging.getLogger("registry.jobs")


class JobsResult(msgspec.Struct):
    overdue: int
    reminders: int
    suspended: int
    mailed: int
    # Active personas found no longer meeting a condition of use, and those of them suspended.
    lapsed: int = 0
    lapse_suspended: int = 0
    lapse_reminders: int = 0
    policy_reminders: int = 0


async def run_once(runtime: Runtime) -> JobsResult:
    pool = runtime.db_pool()
    now = runtime.clock.now()
    swept = await review_jobs.sweep(pool, runtime, now)
    lapses = await lifecycle_sweep.sweep(pool, runtime, now)
    policy_reminders = await policy_review.remind(pool, runtime, now)
    mailed = 0
    if runtime.settings.smtp is not None:
        async with pool.acquire() as conn:
            mailed = await notify.deliver(conn, runtime.settings.smtp, now)
    return JobsResult(
        overdue=swept.overdue,
        reminders=swept.reminders,
        suspended=swept.suspended,
        mailed=mailed,
        lapsed=lapses.lapsed,
        lapse_suspended=lapses.suspended,
        lapse_reminders=lapses.reminders,
        policy_reminders=policy_reminders,
    )


async def run_forever(runtime: Runtime) -> None:
    interval = runtime.settings.jobs_interval_seconds
    while True:
        try:
            await run_once(runtime)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("periodic work failed; will retry", extra={"fields": {"error": type(exc).__name__}})
        except Exception as exc:  # a bug must not stop reminders and enforcement for good
            log.error("periodic work failed unexpectedly; will retry", exc_info=exc)
        await asyncio.sleep(interval)

"""Instances dying and stopping: `kill -9` behind the load balancer, SIGTERM with requests in flight."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher

from tests.faults.processes import (
    PATIENCE,
    HAProxy,
    Instance,
    Tally,
    add_user,
    figures,
    found,
    registry_env,
    signin,
    write_steadily,
)
from tests.harness import PASSWORD

WRITERS = 4
WRITES_EACH = 30
PACE = 0.02


@contextlib.asynccontextmanager
async def instances(tmp_path: Path, database_url: str, names: list[str]) -> AsyncIterator[list[Instance]]:
    started = [Instance(name, tmp_path, registry_env(tmp_path, database_url)) for name in names]
    try:
        for instance in started:
            instance.start()
        await asyncio.gather(*(i.wait_for(200) for i in started))
        yield started
    finally:
        for instance in started:
            instance.stop()


@contextlib.asynccontextmanager
async def balancer(tmp_path: Path, backends: list[Instance]) -> AsyncIterator[HAProxy]:
    proxy = HAProxy(tmp_path, backends)
    try:
        proxy.start()
        await proxy.wait_for_backends(len(backends))
        yield proxy
    finally:
        proxy.stop()


async def test_killing_an_instance_loses_no_acknowledged_write(
    fault_db: str, tmp_path: Path, report: dict[str, Any]
) -> None:
    async with instances(tmp_path, fault_db, ["a", "b"]) as (a, b), balancer(tmp_path, [a, b]) as proxy:
        writers = [await add_user(fault_db, f"writer{n}", "detective") for n in range(WRITERS)]
        clients = [await signin(proxy.url, w) for w in writers]
        tally = Tally()
        killed_at = 0.0

        busy = tally.acked_count(WRITERS * WRITES_EACH // 3)

        async def kill_a_when_busy() -> None:
            nonlocal killed_at
            await asyncio.wait_for(busy.wait(), PATIENCE)
            a.signal(signal.SIGKILL)
            killed_at = time.monotonic()

        await asyncio.gather(
            kill_a_when_busy(),
            *(write_steadily(c, f"KILL{n}", tally, PACE, WRITES_EACH) for n, c in enumerate(clients)),
        )
        rows, events = await found(fault_db, tally.acked)
        auditor = await signin(proxy.url, await add_user(fault_db, "auditor1", "auditor"))
        verified = (await auditor.get("/api/audit/verify")).json()
        for client in [*clients, auditor]:
            await client.aclose()

    report.update(
        figures(
            sent=tally.sent,
            acknowledged=len(tally.acked),
            failed=len(tally.failures),
            failures=sorted(set(tally.failures)),
            found=rows,
            audited=events,
            seconds_to_next_ack_after_kill=tally.first_ack_after(killed_at),
            chain_events=verified.get("events"),
        )
    )
    assert a.process is not None and a.process.returncode == -signal.SIGKILL
    # At most the requests in flight on the killed instance fail: one per writer.
    assert len(tally.failures) <= WRITERS, tally.failures
    assert tally.sent == WRITERS * WRITES_EACH
    assert (rows, events) == (len(tally.acked), len(tally.acked))
    assert verified["ok"] is True, verified


async def test_sigterm_finishes_the_requests_in_flight_before_exiting(
    fault_db: str, tmp_path: Path, report: dict[str, Any]
) -> None:
    # Sign-ins that take a while each (a costly password hash, one at a time on this machine).
    slow = PasswordHasher(time_cost=4, memory_cost=65536, parallelism=1).hash(PASSWORD)
    people = [await add_user(fault_db, f"slow{n}", "detective", password_hash=slow) for n in range(3)]
    async with (
        instances(tmp_path, fault_db, ["drain"]) as (instance,),
        httpx.AsyncClient(base_url=instance.url, timeout=PATIENCE) as client,
    ):
        logins = [
            asyncio.create_task(client.post("/api/auth/login", json={"username": p.username, "password": p.password}))
            for p in people
        ]
        await asyncio.sleep(0.3)  # real time: the requests are on the server
        sent_term = time.monotonic()
        instance.signal(signal.SIGTERM)
        answers = await asyncio.gather(*logins, return_exceptions=True)
        drained = time.monotonic() - sent_term
        assert instance.process is not None
        code = await asyncio.to_thread(instance.process.wait, PATIENCE)
        exited = time.monotonic() - sent_term
        after = await instance.readyz()

    completed = [a for a in answers if isinstance(a, httpx.Response) and a.status_code == 200]
    report.update(
        figures(
            in_flight=len(logins),
            completed=len(completed),
            seconds_to_drain=drained,
            seconds_to_exit=exited,
            exit_code=code,
        )
    )
    # Still running when the signal came (one hash at a time, each a good fraction of a second).
    assert drained > 0.5
    assert [a.json() for a in completed] == [{"mfa": "verify"}] * len(people), answers
    assert code == 0
    assert after is None  # nothing listens any more

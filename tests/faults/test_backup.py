"""A backup restored into a fresh database: with the same key it serves what it held (the
chain verifies, identities decrypt); with another key the service refuses to start."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from tests.conftest import _with_database
from tests.faults.processes import PATIENCE, REGISTRY, b64, figures, free_port, pg_tool, registry_env
from tests.harness import SECRET_KEY, World
from tests.personas.helpers import approved_persona, team


@contextlib.asynccontextmanager
async def restored(server_url: str, dump: Path) -> AsyncIterator[str]:
    name = f"restored_{os.getpid()}_{time.monotonic_ns()}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        url = _with_database(server_url, name)
        await asyncio.to_thread(pg_tool, "pg_restore", "--no-owner", "--exit-on-error", "-d", url, str(dump))
        yield url
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def test_a_restored_backup_serves_with_its_key_and_refuses_another(
    world: World, database_url: str, server_url: str, tmp_path: Path, report: dict[str, Any]
) -> None:
    t = await team(world)
    persona = await approved_persona(t, alias_name="Robin Ashdown")
    auditor = await world.user("audrey", "auditor")
    before = (await (await world.signin(auditor)).get("/api/audit/verify")).json()
    assert before["ok"] is True

    dump = tmp_path / "registry.dump"
    started = time.monotonic()
    await asyncio.to_thread(pg_tool, "pg_dump", "--format=custom", "--file", str(dump), database_url)
    dumped = time.monotonic() - started

    async with restored(server_url, dump) as url:
        restore_seconds = time.monotonic() - started - dumped
        async with World.open(url, tmp_path, world.clock.now()) as again:
            shown = await (await again.signin(t.detective)).get(f"/api/personas/{persona['id']}")
            after = (await (await again.signin(auditor)).get("/api/audit/verify")).json()

        # Another key: `registry serve` stops before it listens, and says why.
        refused = await asyncio.to_thread(
            subprocess.run,
            [str(REGISTRY), "serve", "--host", "127.0.0.1", "--port", str(free_port())],
            env=registry_env(tmp_path, url, key=b"w" * 32),
            capture_output=True,
            text=True,
            timeout=PATIENCE,
            check=False,
        )

    report.update(
        figures(
            dump_bytes=dump.stat().st_size,
            seconds_to_dump=dumped,
            seconds_to_restore=restore_seconds,
            events_before=before["events"],
            events_after=after["events"],
            wrong_key_exit=refused.returncode,
        )
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["identity"]["alias_name"] == "Robin Ashdown"
    # The restored chain holds everything the original did (and the sign-ins since).
    assert after["ok"] is True and after["events"] > before["events"]
    assert refused.returncode == 78, refused.stderr
    assert "REGISTRY_SECRET_KEY does not open this database" in refused.stderr
    assert "listening" not in refused.stdout
    assert b64(SECRET_KEY) not in refused.stderr + refused.stdout

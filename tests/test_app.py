"""The service's own background work, as it runs beside the requests (registry.app)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.harness import World, eventually


async def test_the_sealer_reports_a_missing_chain_head_once_and_resumes_when_it_is_restored(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    start = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
    caplog.set_level(logging.WARNING, logger="registry.app")

    def said(message: str) -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "registry.app" and r.getMessage().startswith(message)]

    async with World.open(database_url, tmp_path, start, audit_seal_interval_seconds=0.01) as world:
        head = await world.remove_chain_head()
        await world.client().post("/api/auth/login", json={"username": "nobody", "password": "wrong"})

        async def reported() -> bool:
            return bool(said("audit chain broken"))

        await eventually(reported, "the sealer reports the missing head")
        # It goes on trying, and says nothing more while the head stays gone.
        unsealed = "SELECT count(*) FROM audit_event WHERE seq IS NULL"
        for _ in range(3):
            await world.client().post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
        assert await world.db.fetchval(unsealed) == 4

        await world.restore_chain_head(head)

        async def sealed() -> bool:
            return await world.db.fetchval(unsealed) == 0 and bool(said("audit chain head present again"))

        await eventually(sealed, "the sealer resumes")
        [broken] = said("audit chain broken")
        assert broken.levelno == logging.ERROR and "tampered with" in broken.getMessage()
        auditor = await world.signin(await world.user("aud", "auditor"))
        assert (await auditor.get("/api/audit/verify")).json()["ok"] is True

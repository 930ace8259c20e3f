"""The audit chain anchored outside the database: checkpoints of its head, appended to a file,
catch a history rewritten and re-chained by someone with full control of the database."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.audit import checkpoint
from registry.cli import main
from registry.runtime import runtime_of
from tests.harness import POLICY, World, eventually


@pytest.fixture
def cli_env(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    assert world.settings.database_url is not None
    monkeypatch.setenv("REGISTRY_DATABASE_URL", world.settings.database_url)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("REGISTRY_POLICY", str(POLICY))
    monkeypatch.setenv("REGISTRY_SECRET_KEY", base64.urlsafe_b64encode(world.settings.secret_key).decode())
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


async def verify_cli(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = await asyncio.to_thread(main, ["audit", "verify", "--checkpoint", str(path)])
    result: dict[str, object] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return code, result


async def busy_day(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    for name in ("bo", "cy", "di"):
        response = await admin.post(
            "/api/users",
            json={
                "username": name,
                "display_name": name.title(),
                # A role that reads no identity: created at once, no second person needed.
                "roles": ["auditor"],
                "password": f"{name} granite heron lanterns",
            },
        )
        assert response.status_code == 201, response.text


async def write_checkpoint(world: World, path: Path) -> checkpoint.Checkpoint:
    async with runtime_of(world.app.state).db_pool().acquire() as conn:
        head = await checkpoint.head(conn, world.clock.now())
    await checkpoint.write(f"file:{path}", head)
    return head


async def rechain(world: World) -> None:
    """What an attacker with the database's owner role does: rewrite, then recompute every
    hash and the head with the registry's own algorithm, so the chain holds again."""
    db = world.db
    await db.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
    await db.execute("ALTER TABLE audit_chain_head DISABLE TRIGGER USER")
    try:
        prev = hashlib.sha256(b"").digest()
        seq = 0
        for row in await db.fetch("SELECT id FROM audit_event WHERE seq IS NOT NULL ORDER BY seq"):
            seq += 1
            canonical = await db.fetchval(
                "SELECT audit_canonical(e, $2) FROM audit_event e WHERE id = $1", row["id"], seq
            )
            digest = hashlib.sha256(prev + canonical.encode()).digest()
            await db.execute(
                "UPDATE audit_event SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1", row["id"], seq, prev, digest
            )
            prev = digest
        await db.execute("UPDATE audit_chain_head SET seq = $1, hash = $2", seq, prev)
    finally:
        await db.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
        await db.execute("ALTER TABLE audit_chain_head ENABLE TRIGGER USER")


async def test_a_rewritten_and_rechained_history_is_caught_by_an_earlier_checkpoint(
    world: World, tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await busy_day(world)
    path = tmp_path / "audit.checkpoints"
    anchor = await write_checkpoint(world, path)
    assert anchor.events >= 5
    assert await verify_cli(path, capsys) == (
        0,
        {"ok": True, "events": anchor.events, "head": anchor.hash, "checkpoints": 1},
    )
    # The same checkpoint as a syslog file holds it, among other messages.
    syslog_copy = tmp_path / "auth.log"
    syslog_copy.write_text(
        f"Dec  1 20:00:00 host sshd[9]: session opened\nDec  1 20:00:01 host registry[42]: {path.read_text().strip()}\n"
    )
    assert (await verify_cli(syslog_copy, capsys))[1]["checkpoints"] == 1

    # Someone erases who created "cy", then re-chains so the database's own check passes.
    await world.db.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
    target = await world.db.fetchval(
        "UPDATE audit_event SET details = '{}' WHERE action = 'user.create' AND target_id = "
        "(SELECT id::text FROM users WHERE username = 'cy') RETURNING id"
    )
    await world.db.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
    await rechain(world)
    auditor = await world.signin(await world.user("aud", "auditor"))
    assert (await auditor.get("/api/audit/verify")).json()["ok"] is True

    code, result = await verify_cli(path, capsys)

    assert code == 1
    assert result["ok"] is False
    assert result["first_bad_event"] == await world.db.fetchval(
        "SELECT id FROM audit_event WHERE seq = $1", anchor.events
    )
    assert f"checkpoint of {anchor.at.isoformat()}" in str(result["reason"])
    assert anchor.hash in str(result["reason"])
    assert target is not None


async def test_events_removed_and_rechained_are_caught_by_a_checkpoint_past_the_end(
    world: World, tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await busy_day(world)
    path = tmp_path / "audit.checkpoints"
    anchor = await write_checkpoint(world, path)
    await world.db.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
    await world.db.execute("DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)")
    await world.db.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
    await rechain(world)

    code, result = await verify_cli(path, capsys)

    assert (code, result["ok"], result["events"]) == (1, False, anchor.events - 1)
    assert "does not hold the checkpoint" in str(result["reason"])


async def test_each_instance_appends_the_head_when_it_moves(
    world: World, database_url: str, tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.checkpoints"
    async with World.open(
        database_url,
        tmp_path,
        world.clock.now(),
        audit_checkpoint=f"file:{path}",
        audit_checkpoint_interval_seconds=0.05,
    ):
        await busy_day(world)
        # The writer runs on its own timer: wait (bounded) for it to record the new head.
        for _ in range(100):
            written = checkpoint.read(path) if path.exists() else []
            if written and written[-1].events >= 5:
                break
            await asyncio.sleep(0.05)

    written = checkpoint.read(path)
    assert written[-1].events >= 5
    # Written only when the head moved: no two lines record the same head.
    assert len({(c.events, c.hash) for c in written}) == len(written)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    code, result = await verify_cli(path, capsys)
    assert (code, result["ok"], result["checkpoints"]) == (0, True, len(written))


async def test_no_checkpoint_is_written_while_the_chain_head_is_gone(
    world: World, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.checkpoints"
    caplog.set_level(logging.WARNING, logger="registry.audit")
    head = await world.remove_chain_head()
    async with World.open(
        database_url,
        tmp_path,
        world.clock.now(),
        audit_checkpoint=f"file:{path}",
        audit_checkpoint_interval_seconds=0.01,
    ):

        def failed() -> list[logging.LogRecord]:
            return [r for r in caplog.records if r.getMessage() == "audit checkpoint failed; will retry"]

        async def tried() -> bool:
            return bool(failed())

        async def anchored() -> bool:
            return path.exists() and bool(checkpoint.read(path))

        # The writer runs on its own timer.
        await eventually(tried, "the checkpoint writer tries")
        assert [r.fields["error"] for r in failed()][:1] == ["AuditChainBroken"]
        assert not path.exists()

        # It keeps trying: once the head is back, it anchors it.
        await world.restore_chain_head(head)
        await eventually(anchored, "a checkpoint is written")

    assert checkpoint.read(path)[-1].events >= head["seq"]


async def test_a_checkpoint_file_that_cannot_be_read_is_a_clear_error(
    world: World, tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.checkpoints"
    path.write_text("audit-checkpoint {not json\n")

    code = await asyncio.to_thread(main, ["audit", "verify", "--checkpoint", str(path)])

    assert code == 78
    assert "line 1" in capsys.readouterr().err

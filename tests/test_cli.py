"""`registry user add` bootstraps the first administrator."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from registry.cli import main
from tests.harness import POLICY, World, scratch_dir

ROOT_PASSWORD = "granite heron twelve lanterns"


@pytest.fixture
def cli_env(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI pointed at the test's database, with nothing read from or written to the
    working directory; the logging it configures is put back afterwards."""
    assert world.settings.database_url is not None
    monkeypatch.setenv("REGISTRY_DATABASE_URL", world.settings.database_url)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("REGISTRY_POLICY", str(POLICY))
    # The world's key: the database refuses any other (registry.keys).
    monkeypatch.setenv("REGISTRY_SECRET_KEY", base64.urlsafe_b64encode(world.settings.secret_key).decode())
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


async def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    # The CLI runs its own event loop (asyncio.run): give it a thread of its own.
    return await asyncio.to_thread(main, argv)


async def test_user_add_creates_an_administrator_who_can_sign_in(
    world: World, cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run(
        monkeypatch, ["user", "add", "root", "--role", "administrator", "--password-stdin"], ROOT_PASSWORD + "\n"
    )

    assert code == 0
    assert "created root (administrator)" in capsys.readouterr().out
    [created] = await world.events("user.create")
    assert (created["actor"], created["request_id"]) == (None, "cli")

    client = world.client()
    login = await client.post("/api/auth/login", json={"username": "root", "password": ROOT_PASSWORD})
    assert login.json() == {"mfa": "enroll"}
    secret = (await client.post("/api/auth/mfa/enroll")).json()["secret"]
    confirm = await client.post("/api/auth/mfa/enroll/confirm", json={"code": pyotp.TOTP(secret).at(world.clock.now())})
    assert confirm.status_code == 200
    assert (await client.get("/api/me")).json()["roles"] == ["administrator"]
    assert (await client.get("/api/users")).status_code == 200


async def test_user_add_refuses_a_weak_password(
    world: World, cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run(monkeypatch, ["user", "add", "root", "--role", "administrator", "--password-stdin"], "password\n")

    assert code != 0
    assert "at least 12 characters" in capsys.readouterr().err
    assert await world.db.fetchval("SELECT count(*) FROM users") == 0


async def test_user_add_wants_the_password_on_stdin(
    world: World, cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run(monkeypatch, ["user", "add", "root", "--role", "administrator"], ROOT_PASSWORD + "\n")

    assert code != 0
    assert "--password-stdin" in capsys.readouterr().err
    assert await world.db.fetchval("SELECT count(*) FROM users") == 0


def test_user_add_refuses_an_unknown_role(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["user", "add", "root", "--role", "chief", "--password-stdin"])

    assert exited.value.code == 2
    assert "chief" in capsys.readouterr().err


async def test_user_add_refuses_a_taken_username(
    world: World, cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await world.user("root", "detective")

    code = await run(
        monkeypatch, ["user", "add", "root", "--role", "administrator", "--password-stdin"], ROOT_PASSWORD + "\n"
    )

    assert code == 1
    assert "taken" in capsys.readouterr().err
    assert await world.db.fetchval("SELECT roles FROM users WHERE username = 'root'") == ["detective"]


async def test_demo_without_a_database_url_runs_its_own_and_keeps_the_data(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's first command on a machine with no database: `registry demo` starts an
    embedded PostgreSQL under the data directory, seeds it, and a second run reuses it."""
    data_dir = str(scratch_dir("registry-demo-"))
    # Set, then removed, so that monkeypatch puts back whatever the commands export meanwhile.
    for name in ("REGISTRY_DATABASE_URL", "REGISTRY_SECRET_KEY"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("REGISTRY_DATA_DIR", data_dir)
    monkeypatch.setenv("REGISTRY_POLICY", str(POLICY))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        assert await run(monkeypatch, ["demo"], "") == 0
        first = capsys.readouterr().out
        assert "Demo department ready." in first and "harbor lantern quietly folding" in first
        assert "HARBOR-KITE is active" in first
        assert (Path(data_dir) / "secret.key").exists()
        assert await run(monkeypatch, ["demo"], "") == 0
        assert "already seeded; data kept" in capsys.readouterr().out
        assert await run(monkeypatch, ["demo", "codes"], "") == 0
        codes = capsys.readouterr().out
        assert [line.split()[0] for line in codes.splitlines()[1:]] == sorted(
            [
                "admin",
                "auditor",
                "chief",
                "commander",
                "detective",
                "detective2",
                "equipment",
                "ia",
                "legal",
                "supervisor",
            ]
        )
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_an_operator_moves_the_clock_and_runs_the_periodic_work(
    world: World, cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import json
    from datetime import timedelta

    from tests.lifecycle.setup import prepare

    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    monkeypatch.setenv("REGISTRY_CLOCK_FILE", str(tmp_path / "clock"))
    start = world.clock.now()

    # Ten days on, nothing is due: the sweep leaves the persona alone.
    assert await run(monkeypatch, ["clock", "set", (start + timedelta(days=10)).isoformat()], "") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["now"].startswith((start + timedelta(days=10)).date().isoformat())
    assert await run(monkeypatch, ["jobs", "run"], "") == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["suspended"] == 0

    # Forty days on, the review (due on day 30, 7 days of grace) was missed: suspended.
    assert await run(monkeypatch, ["clock", "advance", "30d"], "") == 0
    capsys.readouterr()
    assert await run(monkeypatch, ["jobs", "run"], "") == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["suspended"] == 1
    status = await world.db.fetchval("SELECT status FROM personas WHERE id = $1::uuid", r.pid)
    assert status == "suspended"


async def test_the_clock_command_says_what_to_set_without_a_clock_file(
    world: World, cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REGISTRY_CLOCK_FILE", raising=False)

    assert await run(monkeypatch, ["clock", "advance", "1d"], "") == 78
    assert "REGISTRY_CLOCK_FILE" in capsys.readouterr().err


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(("argv", "workers"), [([], os.cpu_count() or 1), (["--workers", "3"], 3)])
async def test_serve_starts_a_worker_per_core_against_a_database_server_unless_told(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], workers: int
) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: started.update(options, app=app))
    monkeypatch.setattr("registry.cli.signal.signal", lambda *_: None)  # the test runner keeps its own

    assert await run(monkeypatch, ["serve", *argv], "") == 0

    assert started["app"] == "registry.asgi:app"
    assert started["workers"] == workers

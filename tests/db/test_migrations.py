"""The migration runner on real, empty databases."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import asyncpg
import pytest

from registry.db.migrate import MIGRATIONS_DIR, discover, migrate, pending
from registry.errors import ConfigurationError


def copy_migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    return directory


async def ledger(url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()


async def test_a_fresh_database_gets_every_migration_once(empty_database_url: str) -> None:
    names = [m.name for m in discover()]
    assert names and names[0] == "0001_foundation.sql"

    first = await migrate(empty_database_url)
    second = await migrate(empty_database_url)

    assert first == names
    assert second == []
    recorded = await ledger(empty_database_url)
    assert [r["name"] for r in recorded] == names
    assert [r["checksum"] for r in recorded] == [m.checksum for m in discover()]
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await pending(conn) == []
        assert await conn.fetchval("SELECT to_regclass('audit_event') IS NOT NULL")
    finally:
        await conn.close()


async def test_a_new_file_is_applied_on_the_next_run(empty_database_url: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    await migrate(empty_database_url, directory)
    (directory / "9000_later.sql").write_text("CREATE TABLE later (id integer PRIMARY KEY);")

    applied = await migrate(empty_database_url, directory)

    assert applied == ["9000_later.sql"]
    assert (await ledger(empty_database_url))[-1]["name"] == "9000_later.sql"


async def test_an_edited_applied_migration_is_refused_by_name(empty_database_url: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    await migrate(empty_database_url, directory)
    edited = directory / "0001_foundation.sql"
    edited.write_text(edited.read_text() + "\n-- a quiet afterthought\n")
    (directory / "9000_later.sql").write_text("CREATE TABLE later (id integer PRIMARY KEY);")

    with pytest.raises(ConfigurationError) as refused:
        await migrate(empty_database_url, directory)

    message = str(refused.value)
    assert "0001_foundation.sql" in message
    assert "edited" in message
    assert "new, higher-numbered migration" in message
    # Nothing after the refusal ran.
    assert "9000_later.sql" not in [r["name"] for r in await ledger(empty_database_url)]


async def test_a_migration_the_code_does_not_know_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    (directory / "9000_later.sql").write_text("CREATE TABLE later (id integer PRIMARY KEY);")
    await migrate(empty_database_url, directory)
    (directory / "9000_later.sql").unlink()

    with pytest.raises(ConfigurationError, match=re.escape("9000_later.sql")):
        await migrate(empty_database_url, directory)


async def test_a_failing_migration_leaves_nothing_half_done(empty_database_url: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    await migrate(empty_database_url, directory)
    (directory / "9000_broken.sql").write_text("CREATE TABLE half (id integer); SELECT no_such_function();")

    with pytest.raises(asyncpg.PostgresError):
        await migrate(empty_database_url, directory)

    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('half') IS NULL")
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations WHERE name = '9000_broken.sql'") == 0
    finally:
        await conn.close()
    # The advisory lock was let go: a fixed file applies.
    (directory / "9000_broken.sql").write_text("CREATE TABLE half (id integer);")
    assert await migrate(empty_database_url, directory) == ["9000_broken.sql"]


@pytest.mark.parametrize("name", ["1_short.sql", "0002_Capitals.sql", "0002-dashes.sql"])
async def test_a_badly_named_file_is_refused(tmp_path: Path, name: str) -> None:
    directory = copy_migrations(tmp_path)
    (directory / name).write_text("SELECT 1;")

    with pytest.raises(ConfigurationError, match=re.escape(name)):
        discover(directory)


async def test_concurrent_runs_apply_each_migration_once(empty_database_url: str) -> None:
    names = [m.name for m in discover()]

    results = await asyncio.gather(*(migrate(empty_database_url) for _ in range(3)))

    assert sorted(results, key=len) == [[], [], names]
    assert [r["name"] for r in await ledger(empty_database_url)] == names


async def test_an_installation_without_its_migrations_calls_nothing_up_to_date(
    empty_database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "migrations").mkdir()
    with pytest.raises(ConfigurationError, match=r"no migrations found in .*: the installation is incomplete"):
        await migrate(empty_database_url, tmp_path / "migrations")
    with pytest.raises(ConfigurationError, match="no migrations found"):
        await migrate(empty_database_url, tmp_path / "elsewhere")

"""Least privilege on the real server: the owner role migrates, the service's role owns nothing.

Someone inside the department who gets hold of the service's database credentials (from a pod,
a backup of its environment, a leaked log) tries to rewrite history: every way is refused by
PostgreSQL itself, and the service still does all its work as that role."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from registry.cli import main
from registry.db.migrate import MIGRATIONS_DIR, migrate
from registry.errors import ConfigurationError
from registry.settings import Settings, new_secret_key
from tests.harness import POLICY, World

OWNER, APP = "registry_owner_t", "registry_app_t"
PASSWORD = "test-only role password"


def as_role(server_url: str, role: str, database: str) -> str:
    parts = urlsplit(server_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}:{PASSWORD.replace(' ', '%20')}@{host}", path=f"/{database}"))


@pytest.fixture(scope="session")
async def roles(server_url: str) -> None:
    """The two roles a CloudNativePG cluster gives the registry: the database's owner and a
    login role with no attributes at all (roles are cluster-wide: made once per server)."""
    admin = await asyncpg.connect(server_url)
    try:
        for role in (OWNER, APP):
            if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    finally:
        await admin.close()


@pytest.fixture
async def owned(server_url: str, roles: None, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """A database owned by the owner role, migrated by it with grants to the app role: the
    owner's URL and the app's."""
    name = f"lp_{os.getpid()}_{tmp_path.name[-12:].replace('-', '_')}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"CREATE DATABASE {name} OWNER {OWNER}")
        owner_url, app_url = as_role(server_url, OWNER, name), as_role(server_url, APP, name)
        await migrate(owner_url, app_role=APP)
        yield owner_url, app_url
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def refused(conn: asyncpg.Connection, sql: str) -> str:
    with pytest.raises(asyncpg.InsufficientPrivilegeError) as caught:
        await conn.execute(sql)
    return str(caught.value)


async def test_the_app_role_cannot_rewrite_the_audit_log(owned: tuple[str, str]) -> None:
    _, app_url = owned
    conn = await asyncpg.connect(app_url)
    try:
        await conn.execute(
            "INSERT INTO audit_event (occurred_at, action, outcome) VALUES (now(), 'persona.approve', 'success')"
        )
        assert await conn.fetchval("SELECT audit_seal(10)") == 1

        assert "must be owner" in await refused(conn, "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update")
        assert "must be owner" in await refused(conn, "ALTER TABLE audit_event ADD COLUMN note text")
        assert "must be owner" in await refused(conn, "ALTER TABLE audit_event DISABLE TRIGGER ALL")
        assert "permission denied" in await refused(conn, "UPDATE audit_event SET actor = 'someone else'")
        assert "permission denied" in await refused(conn, "DELETE FROM audit_event")
        assert "permission denied" in await refused(conn, "TRUNCATE audit_event")
        assert "permission denied" in await refused(conn, "UPDATE audit_chain_head SET seq = 0")
        # The way round the triggers without ALTER: replica mode skips ordinary triggers.
        assert "permission denied" in await refused(conn, "SET session_replication_role = replica")
        assert "must be owner" in await refused(conn, "DROP TABLE audit_event")
        assert "permission denied" in await refused(conn, "CREATE TABLE audit_event_copy (id bigint)")
        # The other append-only records: their history is refused by privilege, not by trigger alone.
        for table in ("activity_log", "isolation_inspections", "tos_reviews"):
            assert "permission denied" in await refused(conn, f"UPDATE {table} SET id = id")
            assert "permission denied" in await refused(conn, f"DELETE FROM {table}")
        assert "permission denied" in await refused(conn, "DELETE FROM schema_migrations")

        owned_by_app = "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = $1)"
        assert await conn.fetchval(owned_by_app, APP) == 0
        [event] = await conn.fetch("SELECT actor, seq FROM audit_event")
        assert (event["actor"], event["seq"]) == (None, 1)
    finally:
        await conn.close()


async def test_only_the_app_role_may_call_the_sealer(owned: tuple[str, str], server_url: str) -> None:
    """audit_seal() runs with its owner's rights, so it is kept from everyone else."""
    _, app_url = owned
    database = urlsplit(app_url).path.lstrip("/")
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute("DROP ROLE IF EXISTS registry_other_t")
        await admin.execute(f"CREATE ROLE registry_other_t LOGIN PASSWORD '{PASSWORD}'")
        other = await asyncpg.connect(as_role(server_url, "registry_other_t", database))
        try:
            assert "permission denied" in await refused(other, "SELECT audit_seal(10)")
        finally:
            await other.close()
    finally:
        await admin.execute("DROP OWNED BY registry_other_t")
        await admin.execute("DROP ROLE registry_other_t")
        await admin.close()


async def test_a_look_alike_table_does_not_fool_the_sealer(owned: tuple[str, str]) -> None:
    """The sealer runs with its owner's rights, so the search path it resolves names on is pinned:
    a temporary table the caller makes in its own schema is not the chain's head."""
    _, app_url = owned
    conn = await asyncpg.connect(app_url)
    try:
        await conn.execute("CREATE TEMP TABLE audit_chain_head (singleton boolean, seq bigint, hash bytea)")
        await conn.execute("INSERT INTO audit_chain_head VALUES (true, 41, '\\x00')")
        await conn.execute(f"GRANT ALL ON audit_chain_head TO {OWNER}")  # so the owner's code could use it
        await conn.execute(
            "INSERT INTO audit_event (occurred_at, action, outcome) VALUES (now(), 'persona.approve', 'success')"
        )

        assert await conn.fetchval("SELECT audit_seal(10)") == 1

        assert await conn.fetchval("SELECT seq FROM audit_event") == 1
        assert await conn.fetchval("SELECT seq FROM public.audit_chain_head") == 1
        assert await conn.fetchval("SELECT seq FROM pg_temp.audit_chain_head") == 41
    finally:
        await conn.close()


async def test_the_service_does_its_work_as_the_app_role(
    owned: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, app_url = owned
    # `registry demo` as the app role: start-up finds nothing to migrate, then seeds the demo
    # department and puts its case in through the API (personas, approvals, equipment, activity,
    # conduct reviews), each step audited.
    monkeypatch.setenv("REGISTRY_DATABASE_URL", app_url)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REGISTRY_POLICY", str(POLICY))
    key = new_secret_key()
    monkeypatch.setenv("REGISTRY_SECRET_KEY", key)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert await asyncio.to_thread(main, ["demo"]) == 0
    assert "Demo department ready." in capsys.readouterr().out

    settings = Settings.from_env()
    start = datetime.now(UTC)
    async with World.open(app_url, tmp_path, start, secret_key=settings.secret_key) as world:
        assert await world.db.fetchval("SELECT current_user") == APP
        await world.jobs()  # sweeps, reminders and mail claim their rows as this role too
        auditor = await world.signin(await world.user("ines", "auditor"))
        verified = await auditor.get("/api/audit/verify")
        assert verified.status_code == 200, verified.text
        body = verified.json()
        assert body["ok"] is True
        assert await world.db.fetchval("SELECT count(*) FROM audit_event WHERE seq IS NULL") == 0
        assert await world.db.fetchval("SELECT count(*) FROM personas") == 2
        ready = await world.client().get("/readyz")
        assert ready.status_code == 200, ready.text


async def test_grants_cover_tables_a_later_migration_adds(owned: tuple[str, str], tmp_path: Path) -> None:
    owner_url, app_url = owned
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    (directory / "9001_later.sql").write_text(
        "CREATE TABLE later_notes (id bigserial PRIMARY KEY, body text NOT NULL);\n"
        "CREATE TABLE later_log (id bigserial PRIMARY KEY, body text NOT NULL);\n"
        "CREATE TRIGGER later_log_append_only BEFORE UPDATE OR DELETE ON later_log\n"
        "    FOR EACH ROW EXECUTE FUNCTION refuse_change();\n"
    )
    assert await migrate(owner_url, directory, app_role=APP) == ["9001_later.sql"]

    conn = await asyncpg.connect(app_url)
    try:
        await conn.execute("INSERT INTO later_notes (body) VALUES ('draft')")
        await conn.execute("UPDATE later_notes SET body = 'final'")
        await conn.execute("INSERT INTO later_log (body) VALUES ('happened')")
        assert "permission denied" in await refused(conn, "UPDATE later_log SET body = 'did not happen'")
        await conn.execute("DELETE FROM later_notes")
    finally:
        await conn.close()


async def test_the_app_role_may_not_apply_a_pending_migration(owned: tuple[str, str], tmp_path: Path) -> None:
    _, app_url = owned
    assert await migrate(app_url) == []  # up to date: a pod's start-up needs no owner rights
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    (directory / "9002_pending.sql").write_text("CREATE TABLE pending_thing (id int);\n")

    with pytest.raises(ConfigurationError, match=r"9002_pending.sql is pending and role 'registry_app_t' may not"):
        await migrate(app_url, directory)


async def test_the_app_role_must_be_a_separate_role(owned: tuple[str, str]) -> None:
    owner_url, _ = owned
    with pytest.raises(ConfigurationError, match="would own the tables"):
        await migrate(owner_url, app_role=OWNER)
    with pytest.raises(ConfigurationError, match="no such role exists"):
        await migrate(owner_url, app_role="registry_nobody")

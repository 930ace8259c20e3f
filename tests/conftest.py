"""Test harness: a real PostgreSQL (embedded, under /tmp), one fresh database per test cloned
from a migrated template, the real app with an injected movable clock, spoken to over HTTP."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from registry.db.embedded import start_embedded
from registry.db.migrate import migrate
from tests.harness import World, scratch_dir
from tests.smtp import smtp_server  # noqa: F401 - a fixture for every test module

TEMPLATE = "registry_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def server_url() -> str:
    """Admin URL of the test server: REGISTRY_TEST_DATABASE_URL, or an embedded PostgreSQL
    in a directory of its own under /tmp, removed when the run ends."""
    url = os.environ.get("REGISTRY_TEST_DATABASE_URL")
    if url:
        return url
    return start_embedded(scratch_dir("registry-tests-"), database="postgres")


@pytest.fixture(scope="session")
async def template_url(server_url: str) -> str:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await admin.close()
    url = _with_database(server_url, TEMPLATE)
    await migrate(url)
    return url


def _with_database(url: str, database: str) -> str:
    head, _, tail = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{tail}" if tail else "")


@pytest.fixture
async def database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    name = f"t_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        yield _with_database(server_url, name)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    start = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
    async with World.open(database_url, tmp_path, start) as w:
        yield w


@pytest.fixture
async def empty_database_url(server_url: str) -> AsyncIterator[str]:
    """A database with nothing in it, not even the migration ledger."""
    name = f"e_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield _with_database(server_url, name)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()

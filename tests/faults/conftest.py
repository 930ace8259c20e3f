"""Fixtures for the fault tests: a PostgreSQL server of their own, a database each, and the
figures every test reports (printed at the end of the run and kept in artifacts/faults.jsonl)."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from registry.db.migrate import migrate
from tests.faults.processes import Postgres
from tests.harness import scratch_dir

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
REPORTED: list[tuple[str, dict[str, Any]]] = []
_names = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """Killed and restarted by the tests, so never the suite's shared server."""
    server = Postgres(scratch_dir("registry-faults-"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def fault_db(postgres: Postgres) -> AsyncIterator[str]:
    url = await postgres.create_database(f"faults_{next(_names)}")
    await migrate(url)
    yield url


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A test's figures: printed (pytest -s), summarized at the end, appended to artifacts/."""
    values: dict[str, Any] = {}
    yield values
    if values:
        name = request.node.name
        print(f"\n[faults] {name}: {json.dumps(values)}")
        REPORTED.append((name, values))
        ARTIFACTS.mkdir(exist_ok=True)
        with (ARTIFACTS / "faults.jsonl").open("a") as out:
            out.write(json.dumps({"test": name} | values) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REPORTED:
        terminalreporter.section("fault test figures")
        for name, values in REPORTED:
            terminalreporter.line(f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))

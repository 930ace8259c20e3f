"""One vocabulary of persona states: the database's CHECK lists exactly the enum, so a state
cannot be added in one place and forgotten in the other."""

from __future__ import annotations

import re

import asyncpg

from registry.status import PersonaStatus


async def _check_values(database_url: str, constraint: str) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        definition = await conn.fetchval(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1", constraint
        )
    finally:
        await conn.close()
    assert definition, f"no constraint {constraint}"
    return set(re.findall(r"'([a-z_]+)'::text", definition))


async def test_the_personas_status_check_is_exactly_the_enum(database_url):
    assert await _check_values(database_url, "personas_status_check") == {s.value for s in PersonaStatus}


async def test_a_suspension_returns_only_to_states_the_enum_names(database_url):
    assert await _check_values(database_url, "personas_suspended_from_check") <= {s.value for s in PersonaStatus}

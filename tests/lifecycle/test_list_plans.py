"""The persona list stays an index walk for every role (DESIGN "Speed": flat from 10k to 1M).

A table of a few thousand personas cloned in SQL from one made through the API, in two sibling
units under a parent (the clone investigations alternate between them); the list's
own statement (registry.lifecycle.repo.visible_page) run under EXPLAIN ANALYZE for each role,
filter and page depth, with PostgreSQL's custom and generic plans (the service's connections
use generic ones: registry.db.pool). No timing is asserted: what must hold is that no plan reads the
table through, and that the rows examined stay near the page size, whatever the table holds."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from registry.access import persona_visible
from registry.lifecycle import repo as lifecycle_repo
from registry.runtime import runtime_of
from tests.harness import Person, World
from tests.personas.helpers import request_persona, second_team, team

LIMIT = 50
CLONES = 5000
STATUSES = ["draft", "submitted", "approved", "active", "suspended", "retired"]
# Of the clones: Dana handles 1 in 50 in her own investigation and 1 in 100 in Erin's, Erin
# 1 in 50 in hers (Dana is on Erin's team), and Finn every other one across 40 investigations.
SEED = """
WITH src AS (SELECT * FROM personas WHERE id = $1)
INSERT INTO personas (id, codename, investigation_id, handler_id, requested_by, status, identity, alias_index,
                      created_at, updated_at)
SELECT gen_random_uuid(), src.codename || '-' || g, x.investigation_id, x.handler_id, x.handler_id,
       ($7::text[])[1 + (g / 3) % 6], src.identity, sha256(src.alias_index || int4send(g)),
       src.created_at + g * interval '1 minute', src.created_at
  FROM src, generate_series(1, $8) g,
       LATERAL (SELECT CASE WHEN g % 50 = 0 THEN $2::uuid WHEN g % 100 = 1 OR g % 50 = 2 THEN $3::uuid
                            ELSE (SELECT id FROM investigations WHERE case_number = 'clone-' || (g % 40)) END
                       AS investigation_id,
                       CASE WHEN g % 50 = 0 OR g % 100 = 1 THEN $4::uuid WHEN g % 50 = 2 THEN $5::uuid
                            ELSE $6::uuid END AS handler_id) x
"""


@dataclass
class Seeded:
    sam: Person  # supervisor with no unit given: the whole department, every unit
    dana: Person  # detective: her own personas and her teams' (her investigation and Erin's)
    erin: Person  # detective: her own investigation only
    erin_investigation: uuid.UUID
    unit_roles: list[str]
    sue: Person  # supervisor of one of the sibling units: its walk only
    cole: Person  # commander of the parent: both siblings' walks


async def seed(world: World) -> Seeded:
    t = await team(world)
    erin, erin_client, erin_inv = await second_team(world, t)
    response = await erin_client.post(f"/api/investigations/{erin_inv}/members", json={"user_id": str(t.detective.id)})
    assert response.status_code == 200, response.text
    first = await request_persona(t.dana, t.investigation_id)
    finn = await world.user("finn", "detective")
    sue, cole = await world.user("sue", "supervisor"), await world.user("cole", "commander")
    admin = await world.signin(await world.user("ada", "administrator"))
    units = {}
    for name, parent in (("Bureau", None), ("Narcotics", "Bureau"), ("Fraud", "Bureau")):
        body = {"name": name} | ({"parent_id": units[parent]} if parent else {})
        response = await admin.post("/api/units", json=body)
        assert response.status_code == 201, response.text
        units[name] = response.json()["id"]
    for person, unit in ((sue, "Narcotics"), (cole, "Bureau")):
        response = await admin.put(f"/api/users/{person.id}/units", json={"unit_ids": [units[unit]]})
        assert response.status_code == 200, response.text
    db = world.db
    await db.execute(
        """
        INSERT INTO investigations (case_number, title, purpose, necessity, proportionality, collateral_intrusion,
                                    opened_by, created_at)
        SELECT 'clone-' || g, title, purpose, necessity, proportionality, collateral_intrusion, $2, created_at
          FROM investigations, generate_series(0, 39) g WHERE id = $1
        """,
        uuid.UUID(t.investigation_id),
        finn.id,
    )
    await db.execute(
        "UPDATE investigations SET unit_id = CASE WHEN right(case_number, 1)::int % 2 = 0 THEN $1::uuid ELSE $2 END"
        " WHERE case_number LIKE 'clone-%'",
        uuid.UUID(units["Narcotics"]),
        uuid.UUID(units["Fraud"]),
    )
    await db.execute(
        "INSERT INTO investigation_members (investigation_id, user_id, added_by, added_at) "
        "SELECT id, $1, $1, created_at FROM investigations WHERE case_number LIKE 'clone-%'",
        finn.id,
    )
    await db.execute(
        SEED,
        uuid.UUID(first["id"]),
        uuid.UUID(t.investigation_id),
        uuid.UUID(erin_inv),
        t.detective.id,
        erin.id,
        finn.id,
        STATUSES,
        CLONES,
    )
    await db.execute("ANALYZE personas; ANALYZE investigation_members; ANALYZE users; ANALYZE units")
    unit_roles = runtime_of(world.app.state).permissions.unit_wide_roles
    return Seeded(t.supervisor, t.detective, erin, uuid.UUID(erin_inv), unit_roles, sue, cole)


class Explaining:
    """Stands in for the connection `visible_page` is given: runs its statement, with its
    arguments, under EXPLAIN ANALYZE and keeps the plan."""

    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db
        self.plans: list[dict[str, Any]] = []

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        out = await self.db.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *args)
        self.plans.append(json.loads(out)[0]["Plan"])
        return []

    async def fetchval(self, sql: str, *args: Any) -> None:
        await self.fetch(sql, *args)


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]


async def expected(
    db: asyncpg.Connection, me: Person, unit_roles: list[str], status: str | None, inv: uuid.UUID | None
) -> list[asyncpg.Record]:
    """Every visible persona by the plain rule (persona_visible), newest first."""
    rows: list[asyncpg.Record] = await db.fetch(
        f"""
        SELECT p.id, p.created_at FROM personas p
         WHERE {persona_visible("p", "$1", "$2")}
           AND ($3::text IS NULL OR p.status = $3) AND ($4::uuid IS NULL OR p.investigation_id = $4)
         ORDER BY p.created_at DESC, p.id DESC
        """,
        me.id,
        unit_roles,
        status,
        inv,
    )
    return rows


def cases(s: Seeded) -> list[tuple[str, Person, str | None, uuid.UUID | None]]:
    return [
        (f"{who.username} {label}", who, status, inv)
        for who in (s.sam, s.sue, s.cole, s.dana, s.erin)
        for label, status, inv in (
            ("all", None, None),
            ("submitted", "submitted", None),
            ("in Erin's investigation", None, s.erin_investigation),
        )
        # Erin's investigation is the department's, outside Sue's and Cole's units.
        if inv is None or who not in (s.sue, s.cole)
    ]


async def page(db: Any, s: Seeded, me: Person, status: str | None, inv: uuid.UUID | None, after: Any) -> Any:
    return await lifecycle_repo.visible_page(
        db, me.id, s.unit_roles, status=status, investigation_id=inv, after=after, limit=LIMIT
    )


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
async def test_each_role_s_first_and_deep_page_is_an_index_walk_of_a_bounded_number_of_rows(
    world: World, plan_cache_mode: str
) -> None:
    s = await seed(world)
    await world.db.execute(f"SET plan_cache_mode = {plan_cache_mode}")
    for name, me, status, inv in cases(s):
        visible = await expected(world.db, me, s.unit_roles, status, inv)
        assert visible, name
        deep = visible[len(visible) * 2 // 3]
        for depth, after in (("first", None), ("deep", (deep["created_at"], deep["id"]))):
            explaining = Explaining(world.db)
            await page(explaining, s, me, status, inv, after)
            # Parts of the plan for another role never run ("never executed": no loops).
            scans = [
                n for n in nodes(explaining.plans[0]) if n.get("Relation Name") == "personas" and n["Actual Loops"]
            ]
            where = f"{name}, {depth} page, {plan_cache_mode}"
            assert scans, where
            # Within one investigation the planner may take its rows through the index as a bitmap
            # and sort them: that too is bounded by the investigation, as the count below checks.
            assert {n["Node Type"] for n in scans} <= {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}, where
            examined = sum((n["Actual Rows"] + n.get("Rows Removed by Filter", 0)) * n["Actual Loops"] for n in scans)
            removed = sum(n.get("Rows Removed by Filter", 0) * n["Actual Loops"] for n in scans)
            # Each walk stops after a page: one per unit of the chain (four for Sam, who has the
            # whole department), or a detective's own and one per investigation (Dana: two),
            # then the page's rows are fetched. A walk filtered by
            # status skips the rows in other statuses on its way (here 5 in 6): bounded by the
            # page size and the status's share, or by a detective's caseload, never by the table.
            assert examined <= 12 * LIMIT, (where, examined)
            assert removed <= 8 * LIMIT, (where, removed)
            # The walks are merged by the sort the order needs: a hash of their union would be
            # sized by the planner's guess of every walk's length, which grows with the table.
            hashed = [
                n["Node Type"]
                for n in nodes(explaining.plans[0])
                if n.get("Strategy") == "Hashed" and any(m.get("Relation Name") == "personas" for m in nodes(n))
            ]
            assert not hashed, (where, hashed)


async def test_every_page_holds_exactly_the_personas_the_rule_makes_visible_newest_first(world: World) -> None:
    s = await seed(world)
    for name, me, status, inv in cases(s):
        visible = [r["id"] for r in await expected(world.db, me, s.unit_roles, status, inv)]
        seen: list[uuid.UUID] = []
        after: tuple[datetime, uuid.UUID] | None = None
        while True:
            rows = await page(world.db, s, me, status, inv, after)
            seen += [r["id"] for r in rows]
            if len(rows) < LIMIT or len(seen) > len(visible):
                break
            after = (rows[-1]["created_at"], rows[-1]["id"])
        assert seen == visible, name

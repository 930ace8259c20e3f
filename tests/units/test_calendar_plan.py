"""The review calendar stays an index walk as the years of reviews pile up: the handler's own
reviews and each of the chain's units' are a range of one index by the day a review sits on
(registry.access.visible_reviews over conduct_reviews_handler_day and conduct_reviews_unit_day).
A few thousand reviews over ten years are written in SQL; the calendar's own statement
(registry.reviews.repo.in_range) runs under EXPLAIN ANALYZE for a supervisor of one unit, the
whole department's supervisor and a handler. What must hold: no plan reads conduct_reviews
through, and the rows it examines stay near the reviews in the range."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from registry.reviews import repo
from registry.runtime import runtime_of
from tests.harness import World
from tests.lifecycle.test_list_plans import Explaining, nodes
from tests.personas.helpers import team

REVIEWS = 4000
DAYS = 3650


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
async def test_the_calendar_reads_only_the_reviews_in_its_range(world: World, plan_cache_mode: str) -> None:
    t = await team(world)
    sue = await world.user("sue", "supervisor")
    admin = await world.signin(await world.user("ada", "administrator"))
    response = await admin.post("/api/units", json={"name": "Narcotics"})
    assert response.status_code == 201, response.text
    narcotics = uuid.UUID(response.json()["id"])
    response = await admin.put(f"/api/users/{sue.id}/units", json={"unit_ids": [str(narcotics)]})
    assert response.status_code == 200, response.text
    db = world.db
    await db.execute(
        """
        INSERT INTO investigations (case_number, title, purpose, necessity, proportionality, collateral_intrusion,
                                    opened_by, created_at, unit_id)
        SELECT 'cal-' || g, title, purpose, necessity, proportionality, collateral_intrusion, opened_by, created_at,
               CASE WHEN g % 2 = 0 THEN $2 ELSE unit_id END
          FROM investigations, generate_series(0, 19) g WHERE id = $1
        """,
        uuid.UUID(t.investigation_id),
        narcotics,
    )
    # Ten years of cancelled reviews (any number per handler and investigation), a day apart.
    await db.execute(
        """
        INSERT INTO conduct_reviews (investigation_id, handler_id, due_on, status, created_at, updated_at)
        SELECT (SELECT id FROM investigations WHERE case_number = 'cal-' || (g % 20)), $1,
               DATE '2021-01-01' + (g * $3 / $2), 'cancelled', now(), now()
          FROM generate_series(1, $2) g
        """,
        t.detective.id,
        REVIEWS,
        DAYS,
    )
    await db.execute("ANALYZE conduct_reviews; ANALYZE units; ANALYZE unit_members")
    # The service's own connections plan generically (registry.db.pool): both kinds must walk the range.
    await db.execute(f"SET plan_cache_mode = {plan_cache_mode}")
    unit_roles = runtime_of(world.app.state).permissions.unit_wide_roles
    start = date(2026, 1, 1)
    end = start + timedelta(days=92)
    in_range = REVIEWS * 93 // DAYS
    for who in (sue, t.supervisor, t.detective):
        explaining = Explaining(db)
        await repo.in_range(explaining, who.id, unit_roles, start, end, cancelled=True)  # type: ignore[arg-type]
        scans = [
            n for n in nodes(explaining.plans[0]) if n.get("Relation Name") == "conduct_reviews" and n["Actual Loops"]
        ]
        assert scans, who.username
        assert all(n["Node Type"] != "Seq Scan" for n in scans), (who.username, plan_cache_mode, scans)
        examined = sum((n["Actual Rows"] + n.get("Rows Removed by Filter", 0)) * n["Actual Loops"] for n in scans)
        assert examined <= 4 * in_range, (who.username, plan_cache_mode, examined)
    # And the rule's answer: Sue sees Narcotics' half, the department's supervisor all of them.
    rows = {
        who.username: await repo.in_range(db, who.id, unit_roles, start, end, cancelled=True)
        for who in (sue, t.supervisor)
    }
    assert 0 < len(rows["sue"]) < len(rows["sam"])

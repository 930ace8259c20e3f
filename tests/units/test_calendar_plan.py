"""The review calendar stays an index walk as the years of reviews pile up: the handler's own
reviews and each of the chain's units' are a range of one index by the day a review sits on
(registry.access.visible_reviews over conduct_reviews_handler_day and conduct_reviews_unit_day).
A few thousand reviews over ten years are written in SQL; the calendar's own statement
(registry.reviews.repo.in_range) runs under EXPLAIN ANALYZE for a supervisor of one unit, the
whole department's supervisor and a handler. What must hold: no plan reads conduct_reviews
through, and the rows it examines stay near the reviews in the range. The same for what needs
action and where the calendar starts (the open reviews by due day: registry.access.visible_open_reviews)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from registry.access import review_visible
from registry.reviews import repo
from registry.runtime import runtime_of
from tests.harness import Person, World
from tests.lifecycle.test_list_plans import Explaining, nodes
from tests.personas.helpers import Team, team

REVIEWS = 4000
DAYS = 3650
OPEN = 200
HANDLERS = 40


async def narcotics_and_cases(world: World, prefix: str, first: int, last: int) -> tuple[Team, Person]:
    """Dana's team; Sue, supervisor of a Narcotics unit; and investigations `prefix`first to
    `prefix`last cloned from Dana's, the even-numbered ones Narcotics'."""
    t = await team(world)
    sue = await world.user("sue", "supervisor")
    admin = await world.signin(await world.user("ada", "administrator"))
    response = await admin.post("/api/units", json={"name": "Narcotics"})
    assert response.status_code == 201, response.text
    narcotics = uuid.UUID(response.json()["id"])
    response = await admin.put(f"/api/users/{sue.id}/units", json={"unit_ids": [str(narcotics)]})
    assert response.status_code == 200, response.text
    await world.db.execute(
        """
        INSERT INTO investigations (case_number, title, purpose, necessity, proportionality, collateral_intrusion,
                                    opened_by, created_at, unit_id)
        SELECT $3 || g, title, purpose, necessity, proportionality, collateral_intrusion, opened_by, created_at,
               CASE WHEN g % 2 = 0 THEN $2 ELSE unit_id END
          FROM investigations, generate_series($4::int, $5::int) g WHERE id = $1
        """,
        uuid.UUID(t.investigation_id),
        narcotics,
        prefix,
        first,
        last,
    )
    return t, sue


def _examined(plan: dict[str, Any]) -> int:
    """Rows the plan read from conduct_reviews, none of them by reading the table through."""
    scans = [n for n in nodes(plan) if n.get("Relation Name") == "conduct_reviews" and n["Actual Loops"]]
    assert scans and all(n["Node Type"] != "Seq Scan" for n in scans), [n.get("Index Name") for n in scans]
    return sum((n["Actual Rows"] + n.get("Rows Removed by Filter", 0)) * n["Actual Loops"] for n in scans)


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
async def test_the_calendar_reads_only_the_reviews_in_its_range(world: World, plan_cache_mode: str) -> None:
    t, sue = await narcotics_and_cases(world, "cal-", 0, 19)
    db = world.db
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
        examined = _examined(explaining.plans[0])
        assert examined <= 4 * in_range, (who.username, plan_cache_mode, examined)
    # And the rule's answer: Sue sees Narcotics' half, the department's supervisor all of them.
    rows = {
        who.username: await repo.in_range(db, who.id, unit_roles, start, end, cancelled=True)
        for who in (sue, t.supervisor)
    }
    assert 0 < len(rows["sue"]) < len(rows["sam"])


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
async def test_what_needs_action_reads_only_the_callers_open_reviews(world: World, plan_cache_mode: str) -> None:
    t, sue = await narcotics_and_cases(world, "due-", 1, OPEN)
    dave = await world.user("dave", "detective")
    db = world.db
    # Each of those investigations has an open review of one of HANDLERS detectives (cloned
    # from Dave), due a day apart, and years of cancelled ones; Dana has one open review, due
    # after all of theirs, and years of cancelled ones before it.
    await db.execute(
        """
        INSERT INTO users (id, username, display_name, roles, password_hash, active, created_at, updated_at)
        SELECT gen_random_uuid(), 'handler-' || g, 'Handler ' || g, roles, password_hash, true, created_at, created_at
          FROM users, generate_series(1, $2) g WHERE id = $1
        """,
        dave.id,
        HANDLERS,
    )
    await db.execute(
        """
        WITH h AS (SELECT row_number() OVER (ORDER BY username) - 1 AS k, id
                     FROM users WHERE username LIKE 'handler-%'),
             i AS (SELECT substr(case_number, 5)::int AS g, id FROM investigations WHERE case_number LIKE 'due-%')
        INSERT INTO conduct_reviews (investigation_id, handler_id, due_on, status, created_at, updated_at)
        SELECT i.id, h.id, DATE '2026-01-01' + i.g, 'open', now(), now() FROM i JOIN h ON h.k = i.g % $3
        UNION ALL
        SELECT i.id, h.id, DATE '2016-01-01' + n, 'cancelled', now(), now()
          FROM i JOIN h ON h.k = i.g % $3, generate_series(1, 20) n
        UNION ALL
        SELECT $1::uuid, $2::uuid, DATE '2026-01-01' + $4::int + 10, 'open', now(), now()
        UNION ALL
        SELECT $1::uuid, $2::uuid, DATE '2016-01-01' + 10 * n, 'cancelled', now(), now() FROM generate_series(1, 300) n
        """,
        uuid.UUID(t.investigation_id),
        t.detective.id,
        HANDLERS,
        OPEN,
    )
    await db.execute("ANALYZE conduct_reviews; ANALYZE units; ANALYZE unit_members")
    await db.execute(f"SET plan_cache_mode = {plan_cache_mode}")
    unit_roles = runtime_of(world.app.state).permissions.unit_wide_roles
    horizon = date(2026, 1, 1) + timedelta(days=OPEN + 30)
    seen = {}
    for who in (t.detective, sue, t.supervisor):
        # The rule's answer, read plainly with review_visible.
        plain = await db.fetch(
            f"""SELECT cr.id, cr.due_on FROM conduct_reviews cr
                 WHERE cr.status = 'open' AND cr.due_on <= $3 AND {review_visible("cr", "$1", "$2")}
                 ORDER BY cr.due_on""",
            who.id,
            unit_roles,
            horizon,
        )
        explaining = Explaining(db)
        await repo.oldest_open_due(explaining, who.id, unit_roles)  # type: ignore[arg-type]
        await repo.open_due_by(explaining, who.id, unit_roles, horizon)  # type: ignore[arg-type]
        oldest, due_by = explaining.plans
        # Where the calendar starts: the first of each range, whatever the department holds.
        assert _examined(oldest) <= 4, (who.username, plan_cache_mode)
        # What needs action: each of the caller's reviews found by its range, then read by its
        # id; none of the department's others, none of the cancelled years.
        assert _examined(due_by) <= 2 * len(plain) + 4, (who.username, plan_cache_mode)
        got = await repo.open_due_by(db, who.id, unit_roles, horizon)
        assert sorted(r["id"] for r in got) == sorted(r["id"] for r in plain), who.username
        assert await repo.oldest_open_due(db, who.id, unit_roles) == (plain[0]["due_on"] if plain else None)
        seen[who.username] = len(got)
    # Dana her own; Sue Narcotics' half of Dave's; the department's supervisor every one.
    assert seen == {"dana": 1, "sue": OPEN // 2, "sam": OPEN + 1}, seen

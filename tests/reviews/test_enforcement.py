"""003 IV.B.4 enforced: an approved persona's handler has a conduct review due; missing it past
the policy's grace suspends the personas it covers until a review is held."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.harness import POLICY, World
from tests.lifecycle.setup import Ready, prepare
from tests.personas.helpers import (
    approved_persona,
    event_details,
    request_persona,
    second_team,
    submitted_persona,
    team,
)
from tests.reviews.helpers import calendar, commander, completion, move_on, only_review


async def _active(world: World) -> Ready:
    r = await prepare(world)
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activate")
    assert response.status_code == 200, response.text
    return r


async def test_approval_puts_a_review_on_the_calendar_due_after_the_policy_interval(world):
    _, cora_client = await commander(world)
    r = await prepare(world)

    review = await only_review(cora_client)

    assert review["persona_codenames"] == [r.persona["codename"]]
    assert review["due_on"] == "2026-04-01"  # approved 2026-03-02 + 30 days
    assert review["status"] == "upcoming"
    assert review["handler"]["username"] == "dana"
    assert review["case_number"].startswith("2026-")
    assert review["scheduled_for"] is None
    # The handler sees their own; the supervisor their unit's.
    assert (await only_review(r.t.dana))["id"] == review["id"]
    assert (await only_review(r.t.sam))["id"] == review["id"]


async def test_an_approver_may_shorten_the_interval_and_the_review_comes_due_sooner(world):
    t = await team(world)
    created = await submitted_persona(t)
    response = await t.sam.post(
        f"/api/personas/{created['id']}/approve",
        json={"totp_code": world.code(t.supervisor), "review_interval_days": 14},
    )
    assert response.status_code == 200, response.text

    assert (await only_review(t.dana))["due_on"] == "2026-03-16"


async def test_one_review_covers_all_of_a_handlers_personas_in_the_investigation(world):
    t = await team(world)
    first = await approved_persona(t, "Jamie Calloway")
    second = await approved_persona(t, "Robin Ashdown")

    review = await only_review(t.dana)

    assert review["persona_codenames"] == sorted([first["codename"], second["codename"]])


async def test_status_moves_from_upcoming_to_due_soon_to_overdue(world):
    cora, cora_client = await commander(world)
    r = await prepare(world)

    await move_on(r, cora, cora_client, timedelta(days=24))  # 2026-03-26: within 7 days of 04-01
    assert (await only_review(cora_client))["status"] == "due_soon"
    await move_on(r, cora, cora_client, timedelta(days=10))  # 2026-04-05: past due, inside grace
    assert (await only_review(cora_client))["status"] == "due_soon"
    await move_on(r, cora, cora_client, timedelta(days=4))  # 2026-04-09: past due plus 7 days
    assert (await only_review(cora_client))["status"] == "overdue"


async def test_an_overdue_review_suspends_the_persona_until_a_review_is_held(world):
    cora, cora_client = await commander(world)
    r = await _active(world)
    t = r.t

    await move_on(r, cora, cora_client, timedelta(days=38))  # 2026-04-09
    result = await world.jobs()

    assert (result.overdue, result.suspended) == (1, 1)
    persona = (await t.dana.get(f"/api/personas/{r.pid}")).json()
    assert persona["status"] == "suspended"
    assert "overdue" in persona["history"][-1]["details"]["reason"]
    gate = (await t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    unmet = {c["condition"]: c for c in gate["conditions"] if not c["met"]}
    assert set(unmet) == {"conduct_review_scheduled"}
    assert "overdue" in unmet["conduct_review_scheduled"]["detail"]
    assert unmet["conduct_review_scheduled"]["clause"] == "003 IV.B.4"
    [event] = [e for e in await world.events("persona.suspend") if e["actor"] is None]
    assert event_details(event)["reason"] == "overdue review"

    # Nobody can put it back into use while the review is outstanding.
    refused = await t.sam.post(f"/api/personas/{r.pid}/resume", json={"reason": "needed for a meet"})
    assert refused.status_code == 409
    assert refused.json()["unmet"][0]["condition"] == "conduct_review_scheduled"

    # The commander holds the review; it may then resume, and the next one is due from the held date.
    review = await only_review(cora_client)
    held = await cora_client.post(f"/api/reviews/{review['id']}/complete", json=completion(review, "2026-04-09"))
    assert held.status_code == 200, held.text
    assert held.json()["review"]["status"] == "held"
    assert held.json()["next_due_on"] == "2026-05-09"
    resumed = await t.sam.post(f"/api/personas/{r.pid}/resume", json={"reason": "review held"})
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "active"
    reviews = (await cora_client.get("/api/reviews", params={"from": "2026-04-01", "to": "2026-06-30"})).json()
    assert [(x["status"], x["due_on"]) for x in reviews] == [("held", "2026-04-01"), ("upcoming", "2026-05-09")]


async def test_a_sweep_runs_once_however_often_it_runs(world):
    cora, cora_client = await commander(world)
    r = await _active(world)
    await move_on(r, cora, cora_client, timedelta(days=38))

    first, second = await world.jobs(), await world.jobs()

    assert (first.overdue, second.overdue) == (1, 0)
    assert len([e for e in await world.events("persona.suspend") if e["actor"] is None]) == 1


async def test_two_instances_sweeping_at_once_suspend_and_remind_once(world, database_url, tmp_path):
    cora, _ = await commander(world)
    r = await _active(world)
    # A second handler with a review of their own, so there is more than one row to race for.
    erin, erin_client, inv = await second_team(world, r.t)
    created = await request_persona(erin_client, inv, "Morgan Vale")
    assert (await erin_client.post(f"/api/personas/{created['id']}/submit")).status_code == 200
    approve = await r.t.sam.post(
        f"/api/personas/{created['id']}/approve", json={"totp_code": world.code(r.t.supervisor)}
    )
    assert approve.status_code == 200, approve.text
    world.clock.advance(timedelta(days=38))

    async with World.open(database_url, tmp_path / "second", world.clock.now()) as other:
        results = await asyncio.gather(world.jobs(), other.jobs())

    assert sum(x.overdue for x in results) == 2
    assert sum(x.suspended for x in results) == 2
    assert sum(x.reminders for x in results) == 0  # overdue reviews get the overdue notice, not a reminder
    suspensions = [e for e in await world.events("persona.suspend") if e["actor"] is None]
    assert len(suspensions) == 2
    notices = await world.db.fetch("SELECT recipient_id, review_id FROM outbox WHERE kind = 'review_overdue'")
    # Each handler and the commander, once per review.
    assert sorted((n["recipient_id"], n["review_id"]) for n in notices) == sorted(
        set((n["recipient_id"], n["review_id"]) for n in notices)
    )
    assert {n["recipient_id"] for n in notices} == {r.t.detective.id, erin.id, cora.id}
    assert len(notices) == 4


async def test_with_the_report_action_an_overdue_review_suspends_nothing(world, database_url, tmp_path):
    policy = tmp_path / "policy.toml"
    text = POLICY.read_text().replace('overdue_review_action = "suspend"', 'overdue_review_action = "report"')
    policy.write_text(text)
    async with World.open(database_url, tmp_path / "w", world.clock.now(), policy_path=policy) as reporting:
        r = await _active(reporting)
        reporting.clock.advance(timedelta(days=38))
        result = await reporting.jobs()
        await reporting.signin(r.t.detective, r.t.dana)

        assert (result.overdue, result.suspended) == (1, 0)
        assert (await r.t.dana.get(f"/api/personas/{r.pid}")).json()["status"] == "active"
        gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
        assert not gate["ready"]


async def test_a_postponed_review_is_enforced_at_its_new_date(world):
    cora, cora_client = await commander(world)
    r = await _active(world)
    review = await only_review(cora_client)
    postponed = await cora_client.patch(f"/api/reviews/{review['id']}", json={"scheduled_for": "2026-04-20T10:00:00Z"})
    assert postponed.status_code == 200, postponed.text

    await move_on(r, cora, cora_client, timedelta(days=38))  # 2026-04-09: the old date plus grace
    assert (await world.jobs()).overdue == 0
    await move_on(r, cora, cora_client, timedelta(days=19))  # 2026-04-28: the new date plus grace

    assert (await world.jobs()).suspended == 1
    assert (await r.t.dana.get(f"/api/personas/{r.pid}")).json()["status"] == "suspended"


async def test_postponing_a_missed_review_does_not_lift_the_suspension_until_it_is_held(world):
    cora, cora_client = await commander(world)
    r = await _active(world)
    await move_on(r, cora, cora_client, timedelta(days=38))
    assert (await world.jobs()).suspended == 1
    review = await only_review(cora_client)

    postponed = await cora_client.patch(f"/api/reviews/{review['id']}", json={"scheduled_for": "2026-04-20T10:00:00Z"})
    assert postponed.status_code == 200, postponed.text
    refused = await r.t.sam.post(f"/api/personas/{r.pid}/resume", json={"reason": "commander moved the review"})

    assert refused.status_code == 409
    assert "missed" in refused.json()["unmet"][0]["detail"]
    held = await cora_client.post(f"/api/reviews/{review['id']}/complete", json=completion(review, "2026-04-09"))
    assert held.status_code == 200, held.text
    resumed = await r.t.sam.post(f"/api/personas/{r.pid}/resume", json={"reason": "review held"})
    assert resumed.status_code == 200, resumed.text


async def test_the_default_calendar_reaches_back_to_the_oldest_open_review(world):
    cora, cora_client = await commander(world)
    r = await _active(world)
    await move_on(r, cora, cora_client, timedelta(days=80))  # due 2026-04-01, now 2026-05-21

    [review] = await calendar(cora_client)

    assert (review["due_on"], review["status"]) == ("2026-04-01", "overdue")

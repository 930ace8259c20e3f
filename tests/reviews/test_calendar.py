"""The review calendar and recording a review: who sees what, rescheduling within the policy's
grace, the outcomes and what they do, and how handovers and retirements move the schedule."""

from __future__ import annotations

from datetime import timedelta

from tests.lifecycle.setup import prepare
from tests.personas.helpers import (
    all_text,
    approved_persona,
    database_text,
    hex_of,
    identity,
    justification,
    second_team,
    team,
)
from tests.reviews.helpers import calendar, commander, completion, only_review


async def test_a_handler_sees_only_their_own_reviews_and_an_outsider_gets_404(world):
    _, cora_client = await commander(world)
    t = await team(world)
    await approved_persona(t)
    _, erin_client, _ = await second_team(world, t)
    review = await only_review(cora_client)

    assert await calendar(erin_client) == []
    response = await erin_client.get(f"/api/reviews/{review['id']}")
    assert response.status_code == 404
    response = await erin_client.patch(f"/api/reviews/{review['id']}", json={"scheduled_for": "2026-03-20T14:00:00Z"})
    assert response.status_code == 404


async def test_a_range_selects_reviews_by_their_day_and_a_backwards_range_is_refused(world):
    t = await team(world)
    await approved_persona(t)  # due 2026-04-01

    assert await calendar(t.dana, **{"from": "2026-04-02", "to": "2026-05-01"}) == []
    assert len(await calendar(t.dana, **{"from": "2026-04-01", "to": "2026-04-01"})) == 1
    response = await t.dana.get("/api/reviews", params={"from": "2026-05-01", "to": "2026-04-01"})
    assert response.status_code == 400
    assert "to must not be before from" in response.json()["detail"]
    response = await t.dana.get("/api/reviews", params={"from": "2026-01-01", "to": "2027-12-31"})
    assert response.status_code == 400


async def test_anyone_on_the_review_may_reschedule_within_the_grace_but_only_the_commander_beyond(world):
    cora, cora_client = await commander(world)
    t = await team(world)
    await approved_persona(t)
    review = await only_review(t.dana)

    inside = await t.dana.patch(f"/api/reviews/{review['id']}", json={"scheduled_for": "2026-04-08T14:00:00Z"})
    assert inside.status_code == 200, inside.text
    assert (inside.json()["scheduled_for"], inside.json()["due_on"]) == ("2026-04-08T14:00:00Z", "2026-04-01")

    beyond = await t.dana.patch(f"/api/reviews/{review['id']}", json={"scheduled_for": "2026-04-09T14:00:00Z"})
    assert beyond.status_code == 403
    assert "commander" in beyond.json()["detail"]
    beyond = await t.sam.patch(f"/api/reviews/{review['id']}", json={"scheduled_for": "2026-04-09T14:00:00Z"})
    assert beyond.status_code == 403

    moved = await cora_client.patch(f"/api/reviews/{review['id']}", json={"scheduled_for": "2026-04-20T10:00:00Z"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["due_on"] == "2026-04-20"
    assert [e["actor"] for e in await world.events("review.reschedule")] == ["dana", cora.username]


async def test_a_meeting_in_the_past_too_far_ahead_or_without_a_time_zone_is_refused(world):
    _, cora_client = await commander(world)
    t = await team(world)
    await approved_persona(t)
    review = await only_review(t.dana)
    url = f"/api/reviews/{review['id']}"

    past = await t.dana.patch(url, json={"scheduled_for": "2026-03-01T10:00:00Z"})
    naive = await t.dana.patch(url, json={"scheduled_for": "2026-03-20T10:00:00"})
    far = await cora_client.patch(url, json={"scheduled_for": "9999-12-31T23:00:00-05:00"})
    next_year = await cora_client.patch(url, json={"scheduled_for": "2027-06-01T10:00:00Z"})

    assert past.status_code == 422 and "future" in past.json()["detail"]
    assert naive.status_code == 422 and "time zone" in naive.json()["detail"]
    assert far.status_code == 422 and "within 400 days" in far.json()["detail"]
    assert next_year.status_code == 422
    assert (await only_review(t.dana))["due_on"] == "2026-04-01"


async def test_only_the_commander_records_a_review_and_never_their_own(world):
    cora, cora_client = await commander(world)
    t = await team(world)
    await approved_persona(t)
    review = await only_review(t.dana)

    by_handler = await t.dana.post(f"/api/reviews/{review['id']}/complete", json=completion(review, "2026-03-02"))
    by_supervisor = await t.sam.post(f"/api/reviews/{review['id']}/complete", json=completion(review, "2026-03-02"))
    assert (by_handler.status_code, by_supervisor.status_code) == (403, 403)

    # A commander who also handles a persona cannot hold their own review.
    await world.db.execute("UPDATE users SET roles = '{commander,detective}' WHERE id = $1", cora.id)
    own_inv = (await cora_client.post("/api/investigations", json=justification())).json()["id"]
    response = await t.alex.post(f"/api/investigations/{own_inv}/authorize", json={"totp_code": world.code(t.official)})
    assert response.status_code == 200, response.text
    own = await cora_client.post(
        "/api/personas", json={"investigation_id": own_inv, "identity": identity("Quinn Harlow")}
    )
    await cora_client.post(f"/api/personas/{own.json()['id']}/submit")
    approved = await t.sam.post(
        f"/api/personas/{own.json()['id']}/approve", json={"totp_code": world.code(t.supervisor)}
    )
    assert approved.status_code == 200, approved.text
    [mine] = [x for x in await calendar(cora_client) if x["handler"]["username"] == "cora"]
    postpone = await cora_client.patch(f"/api/reviews/{mine['id']}", json={"scheduled_for": "2026-05-01T10:00:00Z"})
    assert postpone.status_code == 403
    refused = await cora_client.post(f"/api/reviews/{mine['id']}/complete", json=completion(mine, "2026-03-02"))
    assert refused.status_code == 403
    assert "another commander" in refused.json()["detail"]


async def test_completion_input_is_checked_and_nothing_is_half_written(world):
    _, cora_client = await commander(world)
    t = await team(world)
    await approved_persona(t)
    review = await only_review(t.dana)
    url = f"/api/reviews/{review['id']}/complete"

    future = await cora_client.post(url, json=completion(review, "2026-03-03"))
    no_actions = await cora_client.post(url, json=completion(review, "2026-03-02", "corrective_action"))
    stray = await cora_client.post(url, json=completion(review, "2026-03-02", follow_up_on="2026-03-20"))
    stranger = await cora_client.post(url, json=completion(review, "2026-03-02", attendees=[str(review["id"])]))
    absent = await cora_client.post(url, json=completion(review, "2026-03-02") | {"attendees": [str(t.supervisor.id)]})

    assert future.status_code == 422 and "future" in future.json()["detail"]
    assert no_actions.status_code == 400 and "actions" in no_actions.json()["detail"]
    assert stray.status_code == 400
    assert stranger.status_code == 422 and "attendees" in stranger.json()["detail"]
    assert absent.status_code == 422 and "handler" in absent.json()["detail"]
    assert (await only_review(t.dana))["status"] == "upcoming"
    assert await world.db.fetchval("SELECT count(*) FROM conduct_review_personas") == 0


async def test_corrective_action_brings_the_next_review_forward_to_the_follow_up_date(world):
    _, cora_client = await commander(world)
    t = await team(world)
    await approved_persona(t)
    review = await only_review(t.dana)

    response = await cora_client.post(
        f"/api/reviews/{review['id']}/complete",
        json=completion(
            review,
            "2026-03-02",
            "corrective_action",
            actions=["Log every contact the same day", "Stop replying after midnight"],
            follow_up_on="2026-03-16",
            findings="Two contacts were logged late.",
        ),
    )

    assert response.status_code == 200, response.text
    assert response.json()["next_due_on"] == "2026-03-16"
    upcoming = [x for x in await calendar(t.dana) if x["status"] != "held"]
    assert [x["due_on"] for x in upcoming] == ["2026-03-16"]


async def test_a_suspend_outcome_suspends_and_terminate_retires_the_covered_personas(world):
    _, cora_client = await commander(world)
    t = await team(world)
    first = await approved_persona(t, "Jamie Calloway")
    second = await approved_persona(t, "Robin Ashdown")
    review = await only_review(t.dana)

    suspended = await cora_client.post(
        f"/api/reviews/{review['id']}/complete", json=completion(review, "2026-03-02", "suspend")
    )
    assert suspended.status_code == 200, suspended.text
    for persona in (first, second):
        assert (await t.dana.get(f"/api/personas/{persona['id']}")).json()["status"] == "suspended"

    follow_up = [x for x in await calendar(cora_client) if x["status"] != "held"]
    assert len(follow_up) == 1
    terminated = await cora_client.post(
        f"/api/reviews/{follow_up[0]['id']}/complete", json=completion(follow_up[0], "2026-03-02", "terminate")
    )
    assert terminated.status_code == 200, terminated.text
    assert terminated.json()["next_due_on"] is None
    for persona in (first, second):
        assert (await t.dana.get(f"/api/personas/{persona['id']}")).json()["status"] == "retired"
    assert [x["status"] for x in await calendar(cora_client)] == ["held", "held"]


async def test_a_held_review_is_recorded_once_with_confidential_notes_read_under_audit(world):
    _, cora_client = await commander(world)
    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    activity = await r.t.dana.post(
        f"/api/personas/{r.pid}/activity",
        json={
            "occurred_at": (world.clock.now() - timedelta(seconds=30)).isoformat(),
            "platform_id": r.platform_id,
            "equipment_id": r.device_id,
            "summary": "Replied to the seller's listing about two converters.",
        },
    )
    assert activity.status_code == 201, activity.text
    review = await only_review(cora_client)
    notes = "Seller thread reviewed; the officer kept to the listing and did not initiate."

    response = await cora_client.post(
        f"/api/reviews/{review['id']}/complete",
        json=completion(review, "2026-03-02", notes=notes, attendees=[str(r.t.supervisor.id)]),
    )
    assert response.status_code == 200, response.text
    again = await cora_client.post(f"/api/reviews/{review['id']}/complete", json=completion(review, "2026-03-02"))
    assert again.status_code == 409

    page = await r.t.dana.get(f"/api/reviews/{review['id']}")
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["record"]["notes"] == notes
    assert {a["display_name"] for a in body["record"]["attendees"]} == {"Dana", "Cora", "Sam"}
    assert [p["codename"] for p in body["personas"]] == [r.persona["codename"]]
    assert [a["summary"] for a in body["activity"]] == ["Replied to the seller's listing about two converters."]
    [read] = await world.events("review.read")
    assert read["actor"] == "dana"
    # Notes are encrypted at rest and never in the audit log.
    everything = await database_text(world)
    assert notes not in everything and hex_of(notes) not in everything
    history = (await r.t.dana.get(f"/api/personas/{r.pid}")).json()["history"]
    assert history[-1]["action"] == "review"
    assert notes.casefold() not in all_text(await cora_client.get("/api/reviews"))


async def test_retiring_the_last_persona_takes_its_review_off_the_calendar(world):
    t = await team(world)
    persona = await approved_persona(t)

    response = await t.dana.post(f"/api/personas/{persona['id']}/retire", json={"reason": "case closed"})

    assert response.status_code == 200, response.text
    assert await calendar(t.dana) == []
    assert len(await world.events("review.cancel")) == 1


async def test_a_handover_moves_the_review_with_its_due_date_to_the_new_handler(world):
    t = await team(world)
    persona = await approved_persona(t)
    kim = await world.user("kim", "detective")
    t.world.clock.advance(timedelta(days=20))
    await world.signin(t.supervisor, t.sam)
    await world.signin(t.detective, t.dana)

    response = await t.sam.post(
        f"/api/personas/{persona['id']}/handover", json={"to_user_id": str(kim.id), "reason": "Dana on leave"}
    )

    assert response.status_code == 200, response.text
    kim_client = await world.signin(kim)
    review = await only_review(kim_client)
    assert (review["handler"]["username"], review["due_on"]) == ("kim", "2026-04-01")
    assert await calendar(t.dana) == []

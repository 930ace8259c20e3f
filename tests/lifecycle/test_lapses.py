"""The policy holds while a persona is in use (003 IV.B.2, IV.B.3.b.2): every use re-checks the
conditions, and the periodic sweep suspends (or reports) an active persona that stops meeting
one. Time moves on the injected clock; the sweep is the real periodic work."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.harness import POLICY, World
from tests.lifecycle.setup import Ready, inspect, later, prepare, register_device, review_terms
from tests.personas.helpers import event_details


async def _active(world: World) -> Ready:
    r = await prepare(world)
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activate")
    assert response.status_code == 200, response.text
    return r


def _activity(r: Ready, world: World, device_id: str | None = None) -> dict[str, str]:
    return {
        "occurred_at": (world.clock.now() - timedelta(minutes=5)).isoformat(),
        "platform_id": r.platform_id,
        "equipment_id": device_id or r.device_id,
        "summary": "Joined the marketplace group; read only.",
    }


async def _status(r: Ready) -> str:
    response = await r.t.dana.get(f"/api/personas/{r.pid}")
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


async def _hold_review(r: Ready, world: World) -> None:
    """The commander holds the handler's open review today, so only the lapse under test is in play."""
    cora = getattr(r, "commander", None)
    if cora is None:
        cora = r.commander = await world.user("cora", "commander")  # type: ignore[attr-defined]
    client = await world.signin(cora)
    review = next(x for x in (await client.get("/api/reviews")).json() if x["status"] != "held")
    response = await client.post(
        f"/api/reviews/{review['id']}/complete",
        json={
            "held_on": world.clock.now().date().isoformat(),
            "attendees": [review["handler"]["id"]],
            "notes": "Conduct in line with 003.",
            "outcome": "continue",
        },
    )
    assert response.status_code == 200, response.text


async def _months_with_reviews_held(r: Ready, world: World, days: int) -> None:
    """Time passes with every conduct review held on time, so only the lapse under test is in play."""
    while days > 0:
        step = min(days, 25)
        await later(r, timedelta(days=step))
        days -= step
        if days > 0:
            await _hold_review(r, world)


async def test_activity_on_a_device_whose_inspection_expired_is_refused_naming_the_inspection(world):
    r = await _active(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=_activity(r, world))).status_code == 201
    await later(r, timedelta(days=91))  # policy: inspections are valid 90 days

    response = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=_activity(r, world))

    assert response.status_code == 409, response.text
    body = response.json()
    unmet = {u["condition"]: u for u in body["unmet"]}
    assert "isolated_equipment" in unmet
    assert "LT-0001" in unmet["isolated_equipment"]["detail"]
    assert "isolation inspection of 2026-03-02 expired on" in unmet["isolated_equipment"]["detail"]
    assert unmet["isolated_equipment"]["clause"] == "003 IV.B.2"
    # Nothing was written.
    assert len((await r.t.dana.get(f"/api/personas/{r.pid}/activity")).json()["items"]) == 1


async def test_a_lapsed_device_is_refused_even_when_another_device_is_current(world):
    r = await _active(world)
    await _months_with_reviews_held(r, world, 60)
    second = (await register_device(r.equipment, "LT-0002")).json()["id"]
    assert (await inspect(r.equipment, second)).status_code == 201
    response = await r.t.dana.post(f"/api/personas/{r.pid}/equipment", json={"equipment_id": second})
    assert response.status_code == 201, response.text
    await _hold_review(r, world)
    await later(r, timedelta(days=31))  # LT-0001's inspection lapsed, LT-0002's is current

    refused = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=_activity(r, world))
    allowed = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=_activity(r, world, second))

    assert refused.status_code == 409, refused.text
    assert [u["condition"] for u in refused.json()["unmet"]] == ["isolated_equipment"]
    assert "LT-0001" in refused.json()["unmet"][0]["detail"]
    assert allowed.status_code == 201, allowed.text


async def test_the_sweep_suspends_a_persona_whose_inspection_lapsed_and_the_gate_says_why(world):
    r = await _active(world)
    await _months_with_reviews_held(r, world, 75)
    await _hold_review(r, world)
    await later(r, timedelta(days=16))  # day 91: the inspection lapsed, the next review is not yet due

    result = await world.jobs()

    assert result.lapse_suspended == 1
    assert await _status(r) == "suspended"
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    assert [c["condition"] for c in gate["conditions"] if not c["met"]] == ["isolated_equipment"]
    [event] = await world.events("persona.suspend")
    assert event["actor"] is None
    assert event_details(event)["lapsed"] == ["isolated_equipment"]
    history = (await r.t.dana.get(f"/api/personas/{r.pid}")).json()["history"]
    suspension = next(h for h in history if h["action"] == "suspend")
    assert suspension["actor"] is None
    assert "003 IV.B.2" in suspension["details"]["reason"]
    # Resuming passes the gate again: refused until the device is re-inspected, then allowed.
    sam = r.t.sam
    response = await sam.post(f"/api/personas/{r.pid}/resume", json={"reason": "re-inspected"})
    assert response.status_code == 409
    assert [u["condition"] for u in response.json()["unmet"]] == ["isolated_equipment"]
    assert (await inspect(r.equipment, r.device_id)).status_code == 201
    response = await sam.post(f"/api/personas/{r.pid}/resume", json={"reason": "re-inspected"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"


async def test_past_the_approval_expiry_use_is_refused_and_the_persona_suspended(world):
    r = await _active(world)
    # Keep everything else current: reviews held, the device re-inspected, terms reviewed again.
    for _ in range(7):
        await later(r, timedelta(days=25))
        await _hold_review(r, world)
        assert (await inspect(r.equipment, r.device_id)).status_code == 201
    await review_terms(world, r.legal, r.platform_id, "2026-09")
    ack = await r.t.dana.post(f"/api/personas/{r.pid}/tos-acknowledgements", json={"platform_id": r.platform_id})
    assert ack.status_code == 201, ack.text
    await later(r, timedelta(days=6))  # day 181: approved for 180 days

    refused = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=_activity(r, world))
    assert refused.status_code == 409, refused.text
    assert [u["condition"] for u in refused.json()["unmet"]] == ["approved"]
    assert "renew" in refused.json()["unmet"][0]["detail"]

    assert (await world.jobs()).lapse_suspended == 1
    assert await _status(r) == "suspended"


async def test_past_the_investigation_authorization_the_persona_is_suspended(world):
    r = await _active(world)
    # The investigation was authorized for 365 days; shorten it in the database to reach it soon.
    await world.db.execute(
        "UPDATE investigations SET authorized_until = $1 WHERE id = $2",
        world.clock.now() + timedelta(days=10),
        r.t.investigation_id,
    )
    await later(r, timedelta(days=11))

    refused = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=_activity(r, world))
    assert refused.status_code == 409
    assert "investigation_authorized" in [u["condition"] for u in refused.json()["unmet"]]
    assert (await world.jobs()).lapse_suspended == 1
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    assert "investigation_authorized" in [c["condition"] for c in gate["conditions"] if not c["met"]]


async def test_a_new_terms_of_service_review_not_acknowledged_suspends_the_persona(world):
    r = await _active(world)
    await later(r, timedelta(days=1))
    await review_terms(world, r.legal, r.platform_id, "2026-03b")

    assert (await world.jobs()).lapse_suspended == 1
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    [tos] = [c for c in gate["conditions"] if not c["met"]]
    assert tos["condition"] == "terms_of_service"
    assert "acknowledge the current terms-of-service review" in tos["detail"].lower()


async def test_an_account_disabled_by_the_site_suspends_the_persona(world):
    r = await _active(world)
    response = await r.t.dana.post(f"/api/accounts/{r.account_id}/disabled", json={"note": "checkpoint, then banned"})
    assert response.status_code == 200, response.text

    assert (await world.jobs()).lapse_suspended == 1
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    accounts = next(c for c in gate["conditions"] if c["condition"] == "accounts_authorized")
    assert accounts["met"] is False
    assert "disabled the account on Facebook" in accounts["detail"]


async def test_a_persona_that_meets_every_condition_is_left_alone(world):
    r = await _active(world)
    await later(r, timedelta(days=20))

    result = await world.jobs()

    assert result.lapsed == 0
    assert await _status(r) == "active"


async def test_two_instances_sweeping_at_once_suspend_once(world, database_url, tmp_path):
    r = await _active(world)
    await _months_with_reviews_held(r, world, 75)
    await _hold_review(r, world)
    await later(r, timedelta(days=16))
    async with World.open(database_url, tmp_path / "second", world.clock.now()) as other:
        other.clock.set(world.clock.now())
        first, second = await asyncio.gather(world.jobs(), other.jobs())

    assert first.lapse_suspended + second.lapse_suspended == 1
    assert len(await world.events("persona.suspend")) == 1
    assert await _status(r) == "suspended"


async def test_under_report_the_sweep_reports_once_and_leaves_the_persona_active(world, database_url, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.read_text().replace('lapse_action = "suspend"', 'lapse_action = "report"'))
    async with World.open(database_url, tmp_path / "w", world.clock.now(), policy_path=policy) as world:
        r = await _active(world)
        await _months_with_reviews_held(r, world, 75)
        await _hold_review(r, world)
        await later(r, timedelta(days=16))

        first = await world.jobs()
        again = await world.jobs()

        assert first.lapsed == 1 and first.lapse_suspended == 0
        assert again.lapsed == 1
        assert await _status(r) == "active"
        assert len(await world.events("persona.lapse_report")) == 1
        kinds = await world.db.fetch("SELECT kind, subject FROM outbox WHERE kind = 'persona_lapsed'")
        assert kinds and all(r.persona["codename"] in k["subject"] for k in kinds)
        # Use is still refused: the conditions hold on every use whatever the sweep does.
        refused = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=_activity(r, world))
        assert refused.status_code == 409


async def test_reminders_go_before_an_inspection_lapses_to_the_handler_and_the_equipment_officer(world):
    r = await _active(world)
    await _months_with_reviews_held(r, world, 77)  # 13 days before the inspection lapses; 14 days ahead

    first = await world.jobs()
    again = await world.jobs()

    assert first.lapse_reminders >= 2
    assert again.lapse_reminders == 0
    rows = await world.db.fetch(
        "SELECT recipient_id, subject, body FROM outbox WHERE kind = 'inspection_lapsing' ORDER BY recipient_id"
    )
    recipients = {row["recipient_id"] for row in rows}
    assert {r.t.detective.id, r.officer.id} <= recipients
    assert all("LT-0001" in row["subject"] and r.persona["codename"] in row["subject"] for row in rows)
    # Codenames only: no alias leaves in a message.
    assert all("Jamie" not in row["body"] for row in rows)

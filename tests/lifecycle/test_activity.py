"""The activity log: what the handler did, on which assigned device (003 IV.B.4)."""

from __future__ import annotations

import asyncpg
import pytest

from tests.lifecycle.setup import prepare, register_device


def entry(r, **changes):
    return {
        "occurred_at": r.t.world.clock.now().isoformat(),
        "platform_id": r.platform_id,
        "equipment_id": r.device_id,
        "summary": "Joined the resale group; no contact made.",
    } | changes


async def test_activity_is_recorded_for_an_active_persona_and_read_back(world):
    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry(r))
    assert response.status_code == 201, response.text
    commander = await world.signin(await world.user("casey", "commander"))
    items = (await commander.get(f"/api/personas/{r.pid}/activity")).json()["items"]
    assert [i["summary"] for i in items] == ["Joined the resale group; no contact made."]
    assert items[0]["asset_tag"] == "LT-0001"
    # Encrypted at rest, append-only in the database.
    assert b"resale group" not in bytes(await world.db.fetchval("SELECT summary FROM activity_log"))
    with pytest.raises(asyncpg.PostgresError):
        await world.db.execute("UPDATE activity_log SET occurred_at = occurred_at")


async def test_activity_is_refused_for_a_persona_not_active(world):
    r = await prepare(world)
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry(r))
    assert response.status_code == 409
    assert "active" in response.json()["detail"]


async def test_activity_is_refused_on_a_device_not_assigned_to_the_persona(world):
    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    other = (await register_device(r.equipment, "PH-9")).json()["id"]
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry(r, equipment_id=other))
    assert response.status_code == 422
    assert "not assigned" in response.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM activity_log") == 0


async def test_a_back_dated_entry_answers_with_itself(world):
    from datetime import timedelta

    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    first = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry(r, summary="First entry."))
    earlier = (r.t.world.clock.now() - timedelta(hours=3)).isoformat()
    second = await r.t.dana.post(
        f"/api/personas/{r.pid}/activity", json=entry(r, occurred_at=earlier, summary="Late note of the morning.")
    )
    assert second.status_code == 201
    assert second.json()["summary"] == "Late note of the morning."
    assert second.json()["id"] != first.json()["id"]

"""Department equipment only, inspected for isolation, one persona at a time (003 IV.B.2)."""

from __future__ import annotations

import asyncio

from tests.lifecycle.setup import inspect, prepare, register_device
from tests.personas.helpers import approved_persona


async def test_a_personal_laptop_is_refused_with_the_clause(world):
    eli = await world.user("eli", "equipment_officer")
    client = await world.signin(eli)
    response = await register_device(client, "LT-PERSONAL", ownership="personal")
    assert response.status_code == 422
    assert "IV.B.2.a" in response.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM equipment") == 0


async def test_asset_tags_are_unique(world):
    client = await world.signin(await world.user("eli", "equipment_officer"))
    assert (await register_device(client, "LT-1")).status_code == 201
    assert (await register_device(client, "LT-1")).status_code == 409


async def test_inspection_passes_only_when_every_check_holds(world):
    client = await world.signin(await world.user("eli", "equipment_officer"))
    device = (await register_device(client, "LT-1")).json()["id"]
    failed = (await inspect(client, device, passing=False)).json()
    assert failed["passed"] is False and failed["failed_checks"] == ["on_department_network"]
    passed = (await inspect(client, device)).json()
    assert passed["passed"] is True and passed["failed_checks"] == []


async def test_an_uninspected_or_failed_device_cannot_be_assigned(world):
    r = await prepare(world, skip=("inspect",))
    response = await r.t.dana.post(f"/api/personas/{r.pid}/equipment", json={"equipment_id": r.device_id})
    assert response.status_code == 409
    assert "never been inspected" in response.json()["detail"]
    await inspect(r.equipment, r.device_id, passing=False)
    response = await r.t.dana.post(f"/api/personas/{r.pid}/equipment", json={"equipment_id": r.device_id})
    assert response.status_code == 409
    assert "failed" in response.json()["detail"]


async def test_two_personas_racing_for_one_device_one_wins(world):
    r = await prepare(world, skip=("assign",))
    second = await approved_persona(r.t, alias_name="Robin Ashdown")
    results = await asyncio.gather(
        r.t.dana.post(f"/api/personas/{r.pid}/equipment", json={"equipment_id": r.device_id}),
        r.t.dana.post(f"/api/personas/{second['id']}/equipment", json={"equipment_id": r.device_id}),
    )
    assert sorted(x.status_code for x in results) == [201, 409]
    live = await world.db.fetchval(
        "SELECT count(*) FROM equipment_assignments WHERE released_at IS NULL AND equipment_id = $1::uuid",
        r.device_id,
    )
    assert live == 1


async def test_compromise_quarantines_the_device_until_reinspected(world):
    r = await prepare(world)
    response = await r.t.dana.post(
        f"/api/personas/{r.pid}/compromise", json={"report": "Target asked about the persona's workplace by name."}
    )
    assert response.status_code == 200, response.text
    listing = (await r.equipment.get("/api/equipment")).json()["items"]
    assert [(d["asset_tag"], d["status"], d["assigned_to"]) for d in listing] == [("LT-0001", "quarantined", None)]
    # Not assignable again until a new passing inspection.
    other = await approved_persona(r.t, alias_name="Robin Ashdown")
    response = await r.t.dana.post(f"/api/personas/{other['id']}/equipment", json={"equipment_id": r.device_id})
    assert response.status_code == 409 and "quarantined" in response.json()["detail"]
    await inspect(r.equipment, r.device_id)
    response = await r.t.dana.post(f"/api/personas/{other['id']}/equipment", json={"equipment_id": r.device_id})
    assert response.status_code == 201, response.text


async def test_equipment_officers_see_codenames_not_personas(world):
    r = await prepare(world)
    listing = (await r.equipment.get("/api/equipment")).json()["items"]
    assert listing[0]["assigned_to"] == r.persona["codename"]
    assert (await r.equipment.get(f"/api/personas/{r.pid}")).status_code == 403
    assert "calloway" not in (await r.equipment.get("/api/equipment")).text.lower()


async def test_release_frees_the_device_and_keeps_history(world):
    r = await prepare(world)
    response = await r.t.dana.delete(f"/api/personas/{r.pid}/equipment/{r.device_id}")
    assert response.status_code == 204
    rows = await world.db.fetch(
        "SELECT released_at FROM equipment_assignments WHERE equipment_id = $1::uuid", r.device_id
    )
    assert len(rows) == 1 and rows[0]["released_at"] is not None
    listing = (await r.equipment.get("/api/equipment?status=available")).json()["items"]
    assert [d["asset_tag"] for d in listing] == ["LT-0001"]


async def test_a_device_serving_a_persona_cannot_be_retired_until_released(world):
    r = await prepare(world)
    response = await r.equipment.post(f"/api/equipment/{r.device_id}/retire")
    assert response.status_code == 409 and "release it" in response.json()["detail"]
    assert (await r.t.dana.delete(f"/api/personas/{r.pid}/equipment/{r.device_id}")).status_code == 204
    response = await r.equipment.post(f"/api/equipment/{r.device_id}/retire")
    assert response.status_code == 200 and response.json()["status"] == "retired"
    # A retired device takes no inspection and no persona.
    assert (await inspect(r.equipment, r.device_id)).status_code == 409


async def test_detectives_see_whether_a_device_is_free_not_whom_it_serves(world):
    r = await prepare(world)
    stranger = await world.signin(await world.user("mo", "detective"))
    listing = (await stranger.get("/api/equipment")).json()["items"]
    assert [(d["status"], d["assigned_to"]) for d in listing] == [("assigned", None)]
    assert r.persona["codename"] not in (await stranger.get("/api/equipment")).text


async def test_retiring_a_persona_returns_its_devices(world):
    r = await prepare(world)
    response = await r.t.dana.post(f"/api/personas/{r.pid}/retire", json={"reason": "Operation closed."})
    assert response.status_code == 200
    listing = (await r.equipment.get("/api/equipment")).json()["items"]
    assert [(d["status"], d["assigned_to"]) for d in listing] == [("available", None)]

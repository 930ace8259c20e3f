"""The auditor's log reads one vocabulary: filtered by action (a member of the enum), actor,
codename and time, paged by keyset; every action the registry writes is a member."""

from __future__ import annotations

from registry.audit.actions import Action
from tests.harness import World
from tests.personas.helpers import approved_persona, request_persona, team


async def test_the_log_filters_by_action_actor_codename_and_time(world: World) -> None:
    t = await team(world)
    first = await approved_persona(t, "Jamie Calloway")
    second = await request_persona(t.dana, t.investigation_id, "Robin Ashdown")
    auditor = await world.signin(await world.user("aud", "auditor"))

    approvals = (await auditor.get("/api/audit", params={"action": "persona.approve"})).json()["items"]
    by_dana = (await auditor.get("/api/audit", params={"actor": "dana"})).json()["items"]
    about_second = (await auditor.get("/api/audit", params={"codename": second["codename"]})).json()["items"]
    none_yet = (await auditor.get("/api/audit", params={"to": "2020-01-01T00:00:00Z"})).json()["items"]
    unknown = await auditor.get("/api/audit", params={"action": "persona.delete_everything"})

    assert [(e["action"], e["actor"]) for e in approvals] == [("persona.approve", "sam")]
    assert by_dana and all(e["actor"] == "dana" for e in by_dana)
    assert {e["action"] for e in about_second} == {"persona.create"}
    assert first["codename"] not in str(about_second)
    assert none_yet == []
    assert unknown.status_code == 400


async def test_every_action_the_registry_wrote_is_in_the_vocabulary(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    await t.sam.post(f"/api/personas/{persona['id']}/suspend", json={"reason": "Pause."})
    await t.dana.get(f"/api/personas/{persona['id']}")

    written = {r["action"] for r in await world.db.fetch("SELECT DISTINCT action FROM audit_event")}

    assert written and written <= {a.value for a in Action}

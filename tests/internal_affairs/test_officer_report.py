"""003 IV.C.3: in an internal investigation, the designated investigator lists one officer's
personas and accounts: what they requested, handled, received by handover or approved."""

from __future__ import annotations

from tests.harness import World
from tests.personas.helpers import approved_persona, request_persona, second_team, team


async def test_the_report_lists_exactly_the_officers_personas_and_accounts(world: World) -> None:
    t = await team(world)
    legal = await world.signin(await world.user("lee", "legal"))
    platform = (
        await legal.post(
            "/api/platforms", json={"name": "Chatter", "url": "https://c.example", "tos_url": "https://c.e"}
        )
    ).json()["id"]
    handled = await approved_persona(t, "Jamie Calloway")
    await t.dana.post(f"/api/personas/{handled['id']}/accounts", json={"platform_id": platform, "handle": "jc"})
    _, erin, erin_inv = await second_team(world, t)
    received = await request_persona(erin, erin_inv, "Morgan Vale")
    handover = await t.sam.post(
        f"/api/personas/{received['id']}/handover", json={"to_user_id": str(t.detective.id), "reason": "Cover."}
    )
    assert handover.status_code == 200, handover.text
    unrelated = await request_persona(erin, erin_inv, "Riley Stone")
    ia = await world.signin(await world.user("ivy", "internal_affairs"))

    dana = await ia.get(f"/api/internal-affairs/officers/{t.detective.id}")
    sam = await ia.get(f"/api/internal-affairs/officers/{t.supervisor.id}")

    assert dana.status_code == 200, dana.text
    parts = {p["codename"]: p["parts"] for p in dana.json()["personas"]}
    assert parts == {
        handled["codename"]: ["handled", "requested"],
        received["codename"]: ["handled", "received_by_handover"],
    }
    assert unrelated["codename"] not in dana.text
    assert [(a["codename"], a["platform"]) for a in dana.json()["accounts"]] == [(handled["codename"], "Chatter")]
    assert {p["codename"]: p["parts"] for p in sam.json()["personas"]} == {handled["codename"]: ["approved"]}
    # Codenames only: no identity leaves in the report.
    assert "Calloway" not in dana.text and "Vale" not in dana.text
    assert len(await world.events("internal_affairs.officer_report")) == 2


async def test_every_other_role_gets_403(world: World) -> None:
    t = await team(world)
    auditor = await world.signin(await world.user("aud", "auditor"))
    admin = await world.signin(await world.user("ada", "administrator"))

    for client in (t.dana, t.sam, t.alex, auditor, admin):
        response = await client.get(f"/api/internal-affairs/officers/{t.detective.id}")
        assert response.status_code == 403

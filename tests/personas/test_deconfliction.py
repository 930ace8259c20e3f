"""Deconfliction: two detectives never unknowingly run the same identity or the same handle.
A clash names the other persona's codename and handler to contact, never its identity; the
match is exact through a keyed blind index, ignoring case and spacing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.harness import World
from tests.personas.helpers import Team, approved_persona, identity, request_persona, second_team, team


async def _platform(world: World) -> str:
    legal = await world.signin(await world.user("lee", "legal"))
    created = await legal.post(
        "/api/platforms",
        json={"name": "Marketbook", "url": "https://marketbook.example", "tos_url": "https://marketbook.example/tos"},
    )
    assert created.status_code == 201, created.text
    platform_id: str = created.json()["id"]
    return platform_id


async def _deconflict(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/deconfliction", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _dana_with_persona(world: World) -> tuple[Team, dict[str, Any]]:
    t = await team(world)
    return t, await approved_persona(t, "Jamie Calloway")


async def test_a_duplicate_alias_is_refused_naming_whom_to_contact(world: World) -> None:
    t, persona = await _dana_with_persona(world)
    _, erin, erin_inv = await second_team(world, t)

    refused = await erin.post(
        "/api/personas",
        json={
            "investigation_id": erin_inv,
            "identity": identity("  jamie   CALLOWAY ", legend="A different legend entirely.", location="Toledo"),
        },
    )

    assert refused.status_code == 409
    body = refused.json()
    assert persona["codename"] in body["detail"]
    assert "Dana" in body["detail"]
    assert body["conflicts"] == [{"codename": persona["codename"], "handler": "Dana"}]
    # Nothing of the other identity (nor of this one) comes back.
    for secret in ("calloway", "springfield", "motorbikes", "1994", "toledo"):
        assert secret not in refused.text.casefold(), secret
    assert await world.db.fetchval("SELECT count(*) FROM personas") == 1


async def test_a_changed_alias_is_deconflicted_too(world: World) -> None:
    t, persona = await _dana_with_persona(world)
    _, erin, erin_inv = await second_team(world, t)
    own = await request_persona(erin, erin_inv, "Robin Ashdown")

    refused = await erin.patch(f"/api/personas/{own['id']}", json={"identity": identity("JAMIE CALLOWAY")})

    assert refused.status_code == 409
    assert persona["codename"] in refused.json()["detail"]
    shown = await erin.get(f"/api/personas/{own['id']}")
    assert shown.json()["identity"]["alias_name"] == "Robin Ashdown"


async def test_deconfliction_answers_for_an_alias_before_a_request(world: World) -> None:
    t, persona = await _dana_with_persona(world)
    _, erin, _ = await second_team(world, t)

    clash = await _deconflict(erin, alias_name="  jamie   CALLOWAY ")
    free = await _deconflict(erin, alias_name="Jamie Callowey")

    assert clash == {"conflicts": [{"codename": persona["codename"], "handler": "Dana", "matched": "alias_name"}]}
    assert free == {"conflicts": []}
    assert len(await world.events("persona.deconflict")) == 2
    assert all("calloway" not in e["details"].casefold() for e in await world.events("persona.deconflict"))


async def test_deconfliction_answers_for_a_platform_handle(world: World) -> None:
    t, persona = await _dana_with_persona(world)
    platform_id = await _platform(world)
    account = await t.dana.post(
        f"/api/personas/{persona['id']}/accounts", json={"platform_id": platform_id, "handle": "Handle"}
    )
    assert account.status_code == 201, account.text
    _, erin, erin_inv = await second_team(world, t)
    other_platform = await (await world.signin(await world.user("lou", "legal"))).post(
        "/api/platforms",
        json={"name": "Chatter", "url": "https://chatter.example", "tos_url": "https://chatter.example/t"},
    )

    clash = await _deconflict(erin, platform_id=platform_id, handle="@handle")
    elsewhere = await _deconflict(erin, platform_id=other_platform.json()["id"], handle="@handle")
    both = await _deconflict(erin, alias_name="jamie calloway", platform_id=platform_id, handle=" HANDLE ")

    assert clash == {"conflicts": [{"codename": persona["codename"], "handler": "Dana", "matched": "handle"}]}
    assert elsewhere == {"conflicts": []}
    assert sorted(c["matched"] for c in both["conflicts"]) == ["alias_name", "handle"]
    # The same handle is refused when Erin requests it for her own persona.
    own = await request_persona(erin, erin_inv, "Robin Ashdown")
    refused = await erin.post(
        f"/api/personas/{own['id']}/accounts", json={"platform_id": platform_id, "handle": "@HANDLE"}
    )
    assert refused.status_code == 409
    assert persona["codename"] in refused.json()["detail"]
    assert "@handle" not in refused.text.casefold()
    assert await world.db.fetchval("SELECT count(*) FROM platform_accounts") == 1


async def test_a_deconfliction_question_must_say_what_to_check(world: World) -> None:
    t = await team(world)

    nothing = await t.dana.post("/api/deconfliction", json={})
    half = await t.dana.post("/api/deconfliction", json={"handle": "someone"})

    assert nothing.status_code == 400
    assert "alias_name" in nothing.json()["detail"]
    assert half.status_code == 400
    assert "platform_id" in half.json()["detail"]


async def test_a_retired_persona_frees_its_alias_and_handles(world: World) -> None:
    t, persona = await _dana_with_persona(world)
    platform_id = await _platform(world)
    await t.dana.post(f"/api/personas/{persona['id']}/accounts", json={"platform_id": platform_id, "handle": "Handle"})
    _, erin, erin_inv = await second_team(world, t)

    retired = await t.dana.post(f"/api/personas/{persona['id']}/retire", json={"reason": "Operation closed."})
    assert retired.status_code == 200

    assert await _deconflict(erin, alias_name="Jamie Calloway") == {"conflicts": []}
    assert await _deconflict(erin, platform_id=platform_id, handle="handle") == {"conflicts": []}
    reused = await request_persona(erin, erin_inv, "Jamie Calloway")
    account = await erin.post(
        f"/api/personas/{reused['id']}/accounts", json={"platform_id": platform_id, "handle": "Handle"}
    )
    assert account.status_code == 201, account.text

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
    assert body["conflicts"] == [{"codename": persona["codename"], "handler": "Dana", "status": "approved"}]
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

    assert clash == {
        "conflicts": [
            {"codename": persona["codename"], "handler": "Dana", "matched": "alias_name", "status": "approved"}
        ]
    }
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

    assert clash == {
        "conflicts": [{"codename": persona["codename"], "handler": "Dana", "matched": "handle", "status": "approved"}]
    }
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


async def test_a_retired_personas_alias_and_handle_are_reused_only_once_acknowledged(world: World) -> None:
    t, persona = await _dana_with_persona(world)
    platform_id = await _platform(world)
    await t.dana.post(f"/api/personas/{persona['id']}/accounts", json={"platform_id": platform_id, "handle": "Handle"})
    _, erin, erin_inv = await second_team(world, t)
    retired = await t.dana.post(f"/api/personas/{persona['id']}/retire", json={"reason": "Operation closed."})
    assert retired.status_code == 200

    answer = await _deconflict(erin, alias_name="Jamie Calloway")
    assert [(c["codename"], c["status"]) for c in answer["conflicts"]] == [(persona["codename"], "retired")]
    warned = await erin.post("/api/personas", json={"investigation_id": erin_inv, "identity": identity()})
    assert warned.status_code == 409
    assert warned.json()["acknowledge"] == "acknowledge_retired"
    assert persona["codename"] in warned.json()["detail"]

    reused = await request_persona(erin, erin_inv, "Jamie Calloway", acknowledge_retired=True)
    handle = {"platform_id": platform_id, "handle": "Handle"}
    account = await erin.post(f"/api/personas/{reused['id']}/accounts", json=handle)
    assert account.status_code == 409
    account = await erin.post(f"/api/personas/{reused['id']}/accounts", json=handle | {"acknowledge_retired": True})
    assert account.status_code == 201, account.text


async def test_a_compromised_personas_alias_and_handle_stay_in_deconfliction_for_good(world: World) -> None:
    t, persona = await _dana_with_persona(world)
    platform_id = await _platform(world)
    await t.dana.post(f"/api/personas/{persona['id']}/accounts", json={"platform_id": platform_id, "handle": "Handle"})
    _, erin, erin_inv = await second_team(world, t)
    burned = await t.dana.post(
        f"/api/personas/{persona['id']}/compromise", json={"report": "Target posted a screenshot of the profile."}
    )
    assert burned.status_code == 200

    refused = await erin.post(
        "/api/personas",
        json={"investigation_id": erin_inv, "identity": identity(), "acknowledge_retired": True},
    )
    assert refused.status_code == 409
    assert persona["codename"] in refused.json()["detail"] and "compromised" in refused.json()["detail"]
    other = await request_persona(erin, erin_inv, "Morgan Vale")
    account = await erin.post(
        f"/api/personas/{other['id']}/accounts",
        json={"platform_id": platform_id, "handle": "handle", "acknowledge_retired": True},
    )
    assert account.status_code == 409
    assert "compromised" in account.json()["detail"]


async def test_invisible_and_look_alike_characters_do_not_make_an_alias_or_handle_new(world: World) -> None:
    t, persona = await _dana_with_persona(world)
    platform_id = await _platform(world)
    await t.dana.post(
        f"/api/personas/{persona['id']}/accounts", json={"platform_id": platform_id, "handle": "jamie.calloway"}
    )
    _, erin, erin_inv = await second_team(world, t)

    for alias in (
        "Jamie\u200b Calloway",
        "J\u0430mie C\u0430lloway",
        "Ja\u00admie Calloway",
    ):  # ZWSP, Cyrillic а, soft hyphen
        refused = await erin.post("/api/personas", json={"investigation_id": erin_inv, "identity": identity(alias)})
        assert refused.status_code == 409, alias
    other = await request_persona(erin, erin_inv, "Morgan Vale")
    for handle in ("jamie.c\u0430lloway", "jamie\u200b.calloway"):
        account = await erin.post(
            f"/api/personas/{other['id']}/accounts", json={"platform_id": platform_id, "handle": handle}
        )
        assert account.status_code == 409, handle


async def test_a_codename_that_spells_the_alias_is_refused_at_request_and_at_every_edit(world: World) -> None:
    t = await team(world)

    spelled = await t.dana.post(
        "/api/personas",
        json={
            "investigation_id": t.investigation_id,
            "codename": "Marta-Kowalczyk-X",
            "identity": identity("Marta Kowalczyk X"),
        },
    )
    assert spelled.status_code == 422
    assert spelled.json()["field"] == "codename"
    partial = await t.dana.post(
        "/api/personas",
        json={
            "investigation_id": t.investigation_id,
            "codename": "KOWALCZYK ONE",
            "identity": identity("Ann Kowalczyk"),
        },
    )
    assert partial.status_code == 422
    created = await request_persona(t.dana, t.investigation_id, "Ann Lee", codename="HARBOR NINE")

    edit = await t.dana.patch(f"/api/personas/{created['id']}", json={"identity": identity("Harbor Smith")})

    assert edit.status_code == 422
    assert "HARBOR" in edit.json()["detail"]

"""Platform accounts (003 IV.B.1.b): each site or profile a persona uses is requested by its
handler and authorized on its own by the policy's official, with a fresh code. The registry
keeps a reference to where credentials live, never a password."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.harness import World
from tests.personas.helpers import Team, approved_persona, request_persona, team, wrong_code


async def _platform(world: World, name: str = "Marketbook") -> str:
    legal = await world.signin(await world.user(f"legal_{name.lower()}", "legal"))
    created = await legal.post(
        "/api/platforms",
        json={"name": name, "url": f"https://{name.lower()}.example", "tos_url": f"https://{name.lower()}.example/tos"},
    )
    assert created.status_code == 201, created.text
    platform_id: str = created.json()["id"]
    return platform_id


async def _request(client: httpx.AsyncClient, persona_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/personas/{persona_id}/accounts", json=body)


async def _setup(world: World) -> tuple[Team, dict[str, Any], str]:
    t = await team(world)
    return t, await approved_persona(t), await _platform(world)


async def _account(world: World, account_id: str) -> dict[str, Any]:
    row = await world.db.fetchrow("SELECT * FROM platform_accounts WHERE id = $1", uuid.UUID(account_id))
    assert row is not None
    return dict(row)


async def test_legal_adds_a_platform_to_the_catalog(world: World) -> None:
    legal = await world.signin(await world.user("lee", "legal"))
    dana = await world.signin(await world.user("dana", "detective"))
    body = {"name": "Marketbook", "url": "https://marketbook.example", "tos_url": "https://marketbook.example/tos"}

    created = await legal.post("/api/platforms", json=body)
    again = await legal.post("/api/platforms", json=body | {"name": "MARKETBOOK"})
    by_detective = await dana.post("/api/platforms", json=body | {"name": "Chatter"})

    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Marketbook"
    assert again.status_code == 409
    assert by_detective.status_code == 403
    listed = await dana.get("/api/platforms")
    assert [p["name"] for p in listed.json()["items"]] == ["Marketbook"]


async def test_the_handler_requests_an_account(world: World) -> None:
    t, persona, platform_id = await _setup(world)

    requested = await _request(
        t.dana,
        persona["id"],
        platform_id=platform_id,
        handle="wrenchmonkey_jc",
        profile_url="https://marketbook.example/wrenchmonkey_jc",
        email="jc.wrenches@mail.example",
        phone="+1 555 0100",
        credential_ref="vault:secret/personas/wrenchmonkey",
    )

    assert requested.status_code == 201, requested.text
    assert requested.json()["status"] == "requested"
    shown = (await t.dana.get(f"/api/personas/{persona['id']}")).json()
    [account] = shown["accounts"]
    assert account["handle"] == "wrenchmonkey_jc"
    assert account["email"] == "jc.wrenches@mail.example"
    assert account["credential_ref"] == "vault:secret/personas/wrenchmonkey"
    assert (account["status"], account["platform"], account["requested_by"]) == ("requested", "Marketbook", "dana")
    assert len(await world.events("account.request")) == 1


async def test_a_password_is_refused_with_a_reason(world: World) -> None:
    t, persona, platform_id = await _setup(world)

    refused = await _request(t.dana, persona["id"], platform_id=platform_id, handle="jc", password="hunter2hunter2")

    assert refused.status_code == 400
    assert "never send a password" in refused.json()["detail"]
    assert "hunter2" not in refused.text
    assert await world.db.fetchval("SELECT count(*) FROM platform_accounts") == 0


async def test_a_credential_reference_must_be_a_vault_path(world: World) -> None:
    t, persona, platform_id = await _setup(world)

    refused = [
        await _request(t.dana, persona["id"], platform_id=platform_id, handle="jc", credential_ref=ref)
        for ref in ("hunter2hunter2", "correct horse battery staple", "vault:")
    ]

    assert [r.status_code for r in refused] == [400, 400, 400]
    assert all("credential_ref must be the vault path" in r.json()["detail"] for r in refused)
    assert "hunter2" not in refused[0].text
    assert await world.db.fetchval("SELECT count(*) FROM platform_accounts") == 0
    ok = await _request(t.dana, persona["id"], platform_id=platform_id, handle="jc", credential_ref="vault:kv/ops/jc")
    assert ok.status_code == 201, ok.text


async def test_only_the_handler_requests_accounts(world: World) -> None:
    t, persona, platform_id = await _setup(world)
    mo_person = await world.user("mo", "detective")
    mo = await world.signin(mo_person)
    outsider = await world.signin(await world.user("olga", "detective"))
    await t.dana.post(f"/api/investigations/{t.investigation_id}/members", json={"user_id": str(mo_person.id)})

    by_member = await _request(mo, persona["id"], platform_id=platform_id, handle="jc")
    by_outsider = await _request(outsider, persona["id"], platform_id=platform_id, handle="jc")
    unknown_platform = await _request(t.dana, persona["id"], platform_id=str(uuid.uuid4()), handle="jc")

    assert by_member.status_code == 403
    assert by_outsider.status_code == 404
    assert unknown_platform.status_code == 404
    assert await world.db.fetchval("SELECT count(*) FROM platform_accounts") == 0


async def test_the_authorizing_official_authorizes_with_a_fresh_code(world: World) -> None:
    t, persona, platform_id = await _setup(world)
    account_id = (await _request(t.dana, persona["id"], platform_id=platform_id, handle="jc")).json()["id"]

    code = world.code(t.official)
    authorized = await t.alex.post(f"/api/accounts/{account_id}/authorize", json={"totp_code": code})

    assert authorized.status_code == 200, authorized.text
    assert (authorized.json()["status"], authorized.json()["authorized_by"]) == ("authorized", "alex")
    assert authorized.json()["handle"] == "jc"
    assert len(await world.events("account.authorize")) == 1
    # The code was spent: it authorizes nothing else.
    other = await _request(t.dana, persona["id"], platform_id=await _platform(world, "Chatter"), handle="jc2")
    replayed = await t.alex.post(f"/api/accounts/{other.json()['id']}/authorize", json={"totp_code": code})
    assert replayed.status_code == 401
    assert (await _account(world, other.json()["id"]))["status"] == "requested"
    again = await t.alex.post(f"/api/accounts/{account_id}/authorize", json={"totp_code": world.code(t.official)})
    assert again.status_code == 409


async def test_the_requester_cannot_authorize_their_own_account(world: World) -> None:
    t = await team(world)
    # Dee is a detective who is also an authorizing official.
    dee_person = await world.user("dee", "detective", "authorizing_official")
    dee = await world.signin(dee_person)
    await t.dana.post(f"/api/investigations/{t.investigation_id}/members", json={"user_id": str(dee_person.id)})
    persona = await request_persona(dee, t.investigation_id)
    platform_id = await _platform(world)
    account_id = (await _request(dee, persona["id"], platform_id=platform_id, handle="jc")).json()["id"]

    refused = await dee.post(f"/api/accounts/{account_id}/authorize", json={"totp_code": world.code(dee_person)})
    by_detective = await t.dana.post(
        f"/api/accounts/{account_id}/authorize", json={"totp_code": world.code(t.detective)}
    )
    by_wrong_code = await t.alex.post(
        f"/api/accounts/{account_id}/authorize", json={"totp_code": wrong_code(world, t.official)}
    )

    assert refused.status_code == 403
    assert "another official" in refused.json()["detail"]
    assert by_detective.status_code == 403
    assert by_wrong_code.status_code == 401
    row = await _account(world, account_id)
    assert (row["status"], row["authorized_by"]) == ("requested", None)
    assert [e["outcome"] for e in await world.events("account.authorize")] == ["denied", "failure"]


async def test_an_account_the_site_disabled_is_marked_with_a_note(world: World) -> None:
    t, persona, platform_id = await _setup(world)
    account_id = (await _request(t.dana, persona["id"], platform_id=platform_id, handle="jc")).json()["id"]

    disabled = await t.dana.post(
        f"/api/accounts/{account_id}/disabled", json={"note": "Suspended by the site for 'inauthentic behaviour'."}
    )

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["status"] == "disabled"
    assert disabled.json()["status_note"] == "Suspended by the site for 'inauthentic behaviour'."
    again = await t.dana.post(f"/api/accounts/{account_id}/disabled", json={"note": "Again."})
    assert again.status_code == 409
    authorize = await t.alex.post(f"/api/accounts/{account_id}/authorize", json={"totp_code": world.code(t.official)})
    assert authorize.status_code == 409
    assert (await _account(world, account_id))["status"] == "disabled"
    assert "account_disabled" in [
        h["action"] for h in (await t.dana.get(f"/api/personas/{persona['id']}")).json()["history"]
    ]


async def test_a_handle_in_use_by_another_persona_is_refused_naming_its_codename(world: World) -> None:
    t, persona, platform_id = await _setup(world)
    assert (await _request(t.dana, persona["id"], platform_id=platform_id, handle="WrenchMonkey")).status_code == 201
    other = await request_persona(t.dana, t.investigation_id, "Robin Ashdown")

    refused = await _request(t.dana, other["id"], platform_id=platform_id, handle="@wrenchmonkey")
    elsewhere = await _request(
        t.dana, other["id"], platform_id=await _platform(world, "Chatter"), handle="wrenchmonkey"
    )

    assert refused.status_code == 409
    assert persona["codename"] in refused.json()["detail"]
    assert refused.json()["conflicts"] == [{"codename": persona["codename"], "handler": "Dana", "status": "approved"}]
    assert elsewhere.status_code == 201
    assert await world.db.fetchval("SELECT count(*) FROM platform_accounts") == 2

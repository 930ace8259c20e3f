"""Investigations: the justification, the team, and the authorization to use false identities
(003 IV.B.1.a, IV.B.3.a) by the policy's official, with a fresh code, never by the opener."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tests.harness import World
from tests.personas.helpers import authorize_investigation, justification, open_investigation, wrong_code


async def test_a_detective_opens_an_investigation_pending_authorization(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))

    created = await dana.post("/api/investigations", json=justification("2026-0042"))

    assert created.status_code == 201, created.text
    assert created.json()["status"] == "pending_authorization"
    shown = await dana.get(f"/api/investigations/{created.json()['id']}")
    assert shown.status_code == 200
    body = shown.json()
    assert body["case_number"] == "2026-0042"
    assert body["necessity"] == "Open-source searching has not identified them."
    assert body["collateral_intrusion"] == "Buyers' messages are not read or kept."
    assert body["opened_by"] == "dana"
    assert body["authorized_until"] is None
    assert body["authorization_current"] is False
    assert len(await world.events("investigation.create")) == 1


async def test_a_case_number_is_registered_once(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    erin = await world.signin(await world.user("erin", "detective"))
    await open_investigation(dana, "2026-0042")

    again = await erin.post("/api/investigations", json=justification("2026-0042"))

    assert again.status_code == 409
    assert "2026-0042" in again.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM investigations") == 1


async def test_the_justification_cannot_be_left_out(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    body = justification()
    del body["necessity"]

    refused = await dana.post("/api/investigations", json=body)

    assert refused.status_code == 400
    assert "necessity" in refused.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM investigations") == 0


async def test_the_opener_adds_members_who_then_see_the_investigation(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    erin_person = await world.user("erin", "detective")
    erin = await world.signin(erin_person)
    inv = await open_investigation(dana)
    assert (await erin.get(f"/api/investigations/{inv}")).status_code == 404

    added = await dana.post(f"/api/investigations/{inv}/members", json={"user_id": str(erin_person.id)})

    assert added.status_code == 200, added.text
    assert [m["username"] for m in added.json()["members"]] == ["dana", "erin"]
    assert (await erin.get(f"/api/investigations/{inv}")).status_code == 200
    assert [i["id"] for i in (await erin.get("/api/investigations")).json()["items"]] == [inv]


async def test_a_member_who_did_not_open_it_cannot_add_members(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    erin_person = await world.user("erin", "detective")
    erin = await world.signin(erin_person)
    finn = await world.user("finn", "detective")
    inv = await open_investigation(dana)
    await dana.post(f"/api/investigations/{inv}/members", json={"user_id": str(erin_person.id)})

    refused = await erin.post(f"/api/investigations/{inv}/members", json={"user_id": str(finn.id)})

    assert refused.status_code == 403
    assert refused.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM investigation_members WHERE user_id = $1", finn.id) == 0


async def test_adding_an_unknown_user_is_refused(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    inv = await open_investigation(dana)

    refused = await dana.post(f"/api/investigations/{inv}/members", json={"user_id": str(uuid.uuid4())})

    assert refused.status_code == 404
    assert await world.db.fetchval("SELECT count(*) FROM investigation_members") == 1  # the opener alone


async def test_the_authorizing_official_authorizes_for_the_policy_period(world: World) -> None:
    dana_person = await world.user("dana", "detective")
    dana = await world.signin(dana_person)
    alex_person = await world.user("alex", "authorizing_official")
    alex = await world.signin(alex_person)
    inv = await open_investigation(dana)

    code = world.code(alex_person)
    now = world.clock.now()
    authorized = await alex.post(f"/api/investigations/{inv}/authorize", json={"totp_code": code, "note": "ok"})

    assert authorized.status_code == 200, authorized.text
    body = authorized.json()
    assert body["status"] == "authorized"
    # policies/department.toml: authorization_valid_days = 365
    assert datetime.fromisoformat(body["authorized_until"]) == now + timedelta(days=365)
    shown = (await dana.get(f"/api/investigations/{inv}")).json()
    assert shown["status"] == "authorized"
    assert shown["authorized_by"] == "alex"
    assert shown["authorization_current"] is True
    assert len(await world.events("investigation.authorize")) == 1

    world.clock.advance(timedelta(days=366))
    dana = await world.signin(dana_person)
    assert (await dana.get(f"/api/investigations/{inv}")).json()["authorization_current"] is False


async def test_the_opener_cannot_authorize_their_own_investigation(world: World) -> None:
    # Dana is a detective who is also an authorizing official: still not for her own case.
    dana_person = await world.user("dana", "detective", "authorizing_official")
    dana = await world.signin(dana_person)
    inv = await open_investigation(dana)

    refused = await dana.post(f"/api/investigations/{inv}/authorize", json={"totp_code": world.code(dana_person)})

    assert refused.status_code == 403
    assert "another authorizing official" in refused.json()["detail"]
    row = await world.db.fetchrow("SELECT status, authorized_by FROM investigations WHERE id = $1", uuid.UUID(inv))
    assert (row["status"], row["authorized_by"]) == ("pending_authorization", None)
    denied = await world.events("investigation.authorize")
    assert [e["outcome"] for e in denied] == ["denied"]


async def test_only_the_policy_official_authorizes(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    sam_person = await world.user("sam", "supervisor")
    sam = await world.signin(sam_person)
    inv = await open_investigation(dana)

    refused = await sam.post(f"/api/investigations/{inv}/authorize", json={"totp_code": world.code(sam_person)})

    assert refused.status_code == 403
    assert await world.db.fetchval("SELECT status FROM investigations WHERE id = $1", uuid.UUID(inv)) == (
        "pending_authorization"
    )


async def test_an_authorization_code_is_accepted_once(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    alex_person = await world.user("alex", "authorizing_official")
    alex = await world.signin(alex_person)
    first, second = await open_investigation(dana), await open_investigation(dana)
    code = world.code(alex_person)
    assert (await alex.post(f"/api/investigations/{first}/authorize", json={"totp_code": code})).status_code == 200

    replayed = await alex.post(f"/api/investigations/{second}/authorize", json={"totp_code": code})

    assert replayed.status_code == 403  # code not accepted; the session stands
    assert await world.db.fetchval("SELECT status FROM investigations WHERE id = $1", uuid.UUID(second)) == (
        "pending_authorization"
    )
    # A fresh code works.
    await authorize_investigation(world, alex_person, alex, second)


async def test_a_wrong_code_does_not_authorize(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    alex_person = await world.user("alex", "authorizing_official")
    alex = await world.signin(alex_person)
    inv = await open_investigation(dana)

    refused = await alex.post(
        f"/api/investigations/{inv}/authorize", json={"totp_code": wrong_code(world, alex_person)}
    )

    assert refused.status_code == 403  # code not accepted; the session stands
    assert await world.db.fetchval("SELECT status FROM investigations WHERE id = $1", uuid.UUID(inv)) == (
        "pending_authorization"
    )


async def test_a_detective_outside_the_team_neither_finds_nor_lists_it(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    erin = await world.signin(await world.user("erin", "detective"))
    inv = await open_investigation(dana)
    own = await open_investigation(erin)

    assert (await erin.get(f"/api/investigations/{inv}")).status_code == 404
    assert (await erin.get(f"/api/investigations/{uuid.uuid4()}")).status_code == 404
    listed = await erin.get("/api/investigations")
    assert [i["id"] for i in listed.json()["items"]] == [own]
    refused = await erin.post(f"/api/investigations/{inv}/members", json={"user_id": str(uuid.uuid4())})
    assert refused.status_code == 404

"""Roles that read identities take two people: an administrator proposes, a commander (the
policy's `security.confirms_accounts`) confirms with a fresh code; until then the grant is
pending and gives nothing (issue 11.2)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import httpx
import pyotp
import pytest

from tests.harness import Person, World, details

TEMPORARY = "copper lantern meadow forty"
OWN = "quiet harbor pebble sixteen"


async def _confirm(world: World, client: httpx.AsyncClient, person: Person, grant_id: str) -> httpx.Response:
    return await client.post(f"/api/role-grants/{grant_id}/confirm", json={"totp_code": world.code(person)})


async def test_an_administrator_cannot_make_a_supervisor_account_for_themselves(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    body = {"username": "sam2", "display_name": "Sam Too", "roles": ["supervisor"], "password": TEMPORARY}

    proposed = await admin.post("/api/users", json=body)

    assert proposed.status_code == 202, proposed.text
    grant = proposed.json()
    assert (grant["roles"], grant["status"], grant["proposed_by"], grant["username"]) == (
        ["supervisor"],
        "pending",
        "ada",
        "sam2",
    )
    user_id = uuid.UUID(grant["user_id"])
    assert await world.db.fetchval("SELECT roles FROM users WHERE id = $1", user_id) == []
    # The administrator knows the password, but cannot enroll an authenticator for it.
    client = world.client()
    assert (await client.post("/api/auth/login", json={"username": "sam2", "password": TEMPORARY})).json() == {
        "mfa": "enroll"
    }
    assert (await client.post("/api/auth/mfa/enroll")).status_code == 403
    listed = {u["username"]: u for u in (await admin.get("/api/users")).json()["items"]}
    assert (listed["sam2"]["roles"], listed["sam2"]["pending_roles"]) == ([], ["supervisor"])
    assert listed["sam2"]["enrollment_gate"] == "awaiting_confirmation"
    proposals = await world.events("role_grant.propose")
    assert [(e["actor"], details(e)["roles"]) for e in proposals] == [("ada", ["supervisor"])]


async def test_a_commander_confirms_and_hands_the_new_user_their_enrollment_code(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    cora_person = await world.user("cora", "commander")
    cora = await world.signin(cora_person)
    body = {"username": "sam2", "display_name": "Sam Too", "roles": ["supervisor", "legal"], "password": TEMPORARY}
    grant = (await admin.post("/api/users", json=body)).json()
    listed = (await cora.get("/api/role-grants")).json()["items"]
    assert [g["id"] for g in listed] == [grant["id"]]

    confirmed = await _confirm(world, cora, cora_person, grant["id"])

    assert confirmed.status_code == 200, confirmed.text
    answer = confirmed.json()
    assert (answer["grant"]["status"], answer["grant"]["decided_by"]) == ("confirmed", "cora")
    assert answer["user"]["roles"] == ["legal", "supervisor"]
    handed_over = answer["enrollment"]["enrollment_code"]
    # The new supervisor signs in, enrolls with the code, replaces the temporary password.
    sam = world.client()
    await sam.post("/api/auth/login", json={"username": "sam2", "password": TEMPORARY})
    totp = pyotp.TOTP((await sam.post("/api/auth/mfa/enroll")).json()["secret"])
    enrolled = await sam.post(
        "/api/auth/mfa/enroll/confirm", json={"code": totp.at(world.clock.now()), "enrollment_code": handed_over}
    )
    assert enrolled.status_code == 200, enrolled.text
    world.clock.advance(timedelta(seconds=30))
    change = {"current_password": TEMPORARY, "new_password": OWN, "totp_code": totp.at(world.clock.now())}
    assert (await sam.post("/api/me/password", json=change)).status_code == 204
    assert (await sam.get("/api/personas")).status_code == 200
    assert (await cora.get("/api/role-grants")).json()["items"] == []
    assert len(await world.events("role_grant.confirm")) == 1


async def test_a_pending_grant_gives_nothing_until_confirmed(world: World) -> None:
    dana_person = await world.user("dana", "detective")
    dana = await world.signin(dana_person)
    admin = await world.signin(await world.user("ada", "administrator"))
    cora_person = await world.user("cora", "commander")
    cora = await world.signin(cora_person)

    proposed = await admin.patch(f"/api/users/{dana_person.id}", json={"roles": ["detective", "supervisor"]})

    assert proposed.status_code == 202
    assert (await dana.get("/api/me")).json()["roles"] == ["detective"]
    assert "persona:approve" not in (await dana.get("/api/me")).json()["permissions"]
    wrong = await cora.post(
        f"/api/role-grants/{proposed.json()['id']}/confirm", json={"totp_code": world.wrong_code(cora_person)}
    )
    assert (wrong.status_code, wrong.json()["title"]) == (403, "Code not accepted")
    assert (await cora.get("/api/me")).status_code == 200  # the session stands
    assert (await dana.get("/api/me")).json()["roles"] == ["detective"]

    confirmed = await _confirm(world, cora, cora_person, proposed.json()["id"])

    assert confirmed.status_code == 200
    # Dana's authenticator was enrolled at the console: no re-enrollment, no code.
    assert confirmed.json()["enrollment"] is None
    me = (await dana.get("/api/me")).json()
    assert me["roles"] == ["detective", "supervisor"]
    assert "persona:approve" in me["permissions"]
    again = await _confirm(world, cora, cora_person, proposed.json()["id"])
    assert again.status_code == 409


async def test_nobody_confirms_a_grant_to_themselves_or_one_they_proposed(world: World) -> None:
    cora_person = await world.user("cora", "commander")
    cora = await world.signin(cora_person)
    cy_person = await world.user("cy", "commander")
    cy = await world.signin(cy_person)
    admin = await world.signin(await world.user("ada", "administrator"))
    dana = await world.user("dana", "legal")

    to_herself = await admin.patch(f"/api/users/{cora_person.id}", json={"roles": ["commander", "detective"]})
    own = await _confirm(world, cora, cora_person, to_herself.json()["id"])
    # A grant cora proposed (written behind the API: no route lets a confirmer propose).
    proposed_by_cora = await world.db.fetchval(
        "INSERT INTO role_grants (user_id, roles, proposed_by, proposed_at)"
        " VALUES ($1, '{detective}', $2, $3) RETURNING id",
        dana.id,
        cora_person.id,
        world.clock.now(),
    )
    hers = await _confirm(world, cora, cora_person, str(proposed_by_cora))

    assert (own.status_code, hers.status_code) == (403, 403)
    assert await world.db.fetchval("SELECT count(*) FROM role_grants WHERE status = 'pending'") == 2
    # The database itself refuses it too.
    with pytest.raises(asyncpg.CheckViolationError):
        await world.db.execute("UPDATE role_grants SET decided_by = proposed_by WHERE id = $1", proposed_by_cora)
    assert (await _confirm(world, cy, cy_person, to_herself.json()["id"])).status_code == 200
    assert "detective" in (await cora.get("/api/me")).json()["roles"]


async def test_only_the_policys_confirming_role_confirms(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    sam_person = await world.user("sam", "supervisor")
    sam = await world.signin(sam_person)
    dana = await world.user("dana", "legal")
    grant = (await admin.patch(f"/api/users/{dana.id}", json={"roles": ["legal", "detective"]})).json()

    by_supervisor = await _confirm(world, sam, sam_person, grant["id"])
    by_admin = await admin.post(f"/api/role-grants/{grant['id']}/confirm", json={"totp_code": "123456"})

    assert (by_supervisor.status_code, by_admin.status_code) == (403, 403)
    assert "user:confirm" in by_supervisor.json()["detail"]
    assert await world.db.fetchval("SELECT roles FROM users WHERE id = $1", dana.id) == ["legal"]


async def test_an_account_enrolled_with_an_administrators_password_re_enrolls_when_it_gains_such_a_role(
    world: World,
) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    cora_person = await world.user("cora", "commander")
    cora = await world.signin(cora_person)
    body = {"username": "lee", "display_name": "Lee Tanaka", "roles": ["auditor"], "password": TEMPORARY}
    lee_id = (await admin.post("/api/users", json=body)).json()["id"]
    # Whoever knows the temporary password (the administrator) enrolls an authenticator.
    held = world.client()
    await held.post("/api/auth/login", json={"username": "lee", "password": TEMPORARY})
    totp = pyotp.TOTP((await held.post("/api/auth/mfa/enroll")).json()["secret"])
    assert (
        await held.post("/api/auth/mfa/enroll/confirm", json={"code": totp.at(world.clock.now())})
    ).status_code == 200

    grant = (await admin.patch(f"/api/users/{lee_id}", json={"roles": ["legal", "detective"]})).json()
    confirmed = await _confirm(world, cora, cora_person, grant["id"])

    assert confirmed.status_code == 200
    assert confirmed.json()["enrollment"]["enrollment_code"]
    assert confirmed.json()["user"]["mfa_enrolled"] is False
    assert (await held.get("/api/me")).status_code == 401
    again = world.client()
    await again.post("/api/auth/login", json={"username": "lee", "password": TEMPORARY})
    world.clock.advance(timedelta(seconds=30))
    assert (await again.post("/api/auth/mfa", json={"code": totp.at(world.clock.now())})).status_code == 401


async def test_roles_taken_away_go_at_once_and_a_new_proposal_supersedes_the_old(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    cora_person = await world.user("cora", "commander")
    cora = await world.signin(cora_person)
    sam = await world.user("sam", "supervisor", "legal")

    first = (await admin.patch(f"/api/users/{sam.id}", json={"roles": ["supervisor", "legal", "commander"]})).json()
    dropped = await admin.patch(f"/api/users/{sam.id}", json={"roles": ["legal"]})

    assert dropped.status_code == 200
    assert dropped.json()["roles"] == ["legal"]
    assert dropped.json()["pending_roles"] == []
    stale = await _confirm(world, cora, cora_person, first["id"])
    assert stale.status_code == 409
    assert "superseded" in stale.json()["detail"]
    assert await world.db.fetchval("SELECT roles FROM users WHERE id = $1", sam.id) == ["legal"]


async def test_the_api_document_declares_the_pending_grant_answer(world: World) -> None:
    paths = (await world.client().get("/schema/openapi.json")).json()["paths"]

    for path, method, done in (("/api/users", "post", "201"), ("/api/users/{user_id}", "patch", "200")):
        responses = paths[path][method]["responses"]
        assert responses[done]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/UserOut"}
        assert responses["202"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/RoleGrantOut"
        }
    assert "/api/role-grants/{grant_id}/confirm" in paths


async def test_legal_opens_disclosure_identities_so_granting_it_takes_a_second_person(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))

    response = await admin.post(
        "/api/users", json={"username": "lex", "display_name": "Lex", "roles": ["legal"], "password": TEMPORARY}
    )

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"

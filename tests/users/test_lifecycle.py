"""The account lifecycle, as an administrator who wants someone's personas would try it: every
password they set is temporary, and an authenticator reset needs a second person, so the
password alone never enrolls (issue 11.1)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pyotp

from tests.harness import Person, World, details
from tests.personas.helpers import request_persona, team

TEMPORARY = "copper lantern meadow forty"
OWN = "quiet harbor pebble sixteen"


async def _reset_password(admin: httpx.AsyncClient, person: Person, password: str = TEMPORARY) -> None:
    response = await admin.post(f"/api/users/{person.id}/reset-password", json={"password": password})
    assert response.status_code == 200, response.text
    assert response.json()["password_change_required"] is True


async def test_an_administrator_cannot_take_over_an_account_by_resetting_its_password_and_mfa(world: World) -> None:
    t = await team(world)
    pid = (await request_persona(t.dana, t.investigation_id))["id"]
    admin = await world.signin(await world.user("ada", "administrator"))

    await _reset_password(admin, t.detective)
    reset = await admin.post(f"/api/users/{t.detective.id}/reset-mfa")
    assert reset.status_code == 200
    assert (reset.json()["mfa_enrolled"], reset.json()["enrollment_gate"]) == (False, "awaiting_confirmation")

    # The administrator signs in with the password they set, and tries to enroll their own phone.
    thief = world.client()
    login = await thief.post("/api/auth/login", json={"username": "dana", "password": TEMPORARY})
    assert login.json() == {"mfa": "enroll"}
    begin = await thief.post("/api/auth/mfa/enroll")
    assert begin.status_code == 403
    assert "commander" in begin.json()["detail"]
    confirm = await thief.post("/api/auth/mfa/enroll/confirm", json={"code": "123456"})
    assert confirm.status_code in (403, 409)
    assert (await thief.get(f"/api/personas/{pid}")).status_code == 401
    assert await world.db.fetchval("SELECT totp_secret IS NULL FROM users WHERE id = $1", t.detective.id)
    assert len(await world.events("user.reset_password")) == 1
    assert len(await world.events("user.reset_mfa")) == 1


async def test_after_a_reset_the_user_enrolls_with_the_code_a_second_person_hands_over(world: World) -> None:
    dana = await world.user("dana", "detective")
    ada = await world.user("ada", "administrator")
    admin = await world.signin(ada)
    cora_person = await world.user("cora", "commander")
    cora = await world.signin(cora_person)
    sam = await world.signin(await world.user("sam", "supervisor"))
    assert (await admin.post(f"/api/users/{dana.id}/reset-mfa")).status_code == 200

    # Neither the administrator, nor a role the policy does not name, confirms.
    by_admin = await admin.post(f"/api/users/{dana.id}/reset-mfa/confirm", json={"totp_code": world.code(ada)})
    by_supervisor = await sam.post(f"/api/users/{dana.id}/reset-mfa/confirm", json={"totp_code": "123456"})
    assert (by_admin.status_code, by_supervisor.status_code) == (403, 403)
    wrong = await cora.post(
        f"/api/users/{dana.id}/reset-mfa/confirm", json={"totp_code": world.wrong_code(cora_person)}
    )
    assert wrong.status_code == 403
    assert wrong.json()["title"] == "Code not accepted"

    confirmed = await cora.post(f"/api/users/{dana.id}/reset-mfa/confirm", json={"totp_code": world.code(cora_person)})
    assert confirmed.status_code == 200, confirmed.text
    handed_over = confirmed.json()["enrollment_code"]
    assert confirmed.json()["username"] == "dana"

    client = world.client()
    assert (await client.post("/api/auth/login", json={"username": "dana", "password": dana.password})).json() == {
        "mfa": "enroll"
    }
    begun = await client.post("/api/auth/mfa/enroll")
    assert begun.status_code == 200
    assert begun.json()["enrollment_code_required"] is True
    totp = pyotp.TOTP(begun.json()["secret"])
    without = await client.post("/api/auth/mfa/enroll/confirm", json={"code": totp.at(world.clock.now())})
    assert without.status_code == 401
    guessed = await client.post(
        "/api/auth/mfa/enroll/confirm", json={"code": totp.at(world.clock.now()), "enrollment_code": "aaaa-bbbb"}
    )
    assert guessed.status_code == 401
    world.clock.advance(timedelta(seconds=30))
    enrolled = await client.post(
        "/api/auth/mfa/enroll/confirm",
        json={"code": totp.at(world.clock.now()), "enrollment_code": handed_over.upper().replace("-", " ")},
    )
    assert enrolled.status_code == 200, enrolled.text
    assert len(enrolled.json()["recovery_codes"]) == 10
    assert (await client.get("/api/me")).status_code == 200
    assert await world.db.fetchval("SELECT count(*) FROM enrollment_gates") == 0
    reasons = [details(e)["reason"] for e in await world.events("auth.mfa.enroll.confirm")]
    assert reasons == ["wrong enrollment code", "wrong enrollment code", "mfa_reset"]
    confirmations = await world.events("user.reset_mfa.confirm")
    assert [(e["actor"], e["target_id"], e["outcome"]) for e in confirmations] == [
        ("cora", str(cora_person.id), "failure"),  # her wrong code
        ("cora", str(dana.id), "success"),
    ]


async def test_an_enrollment_code_expires(world: World) -> None:
    dana = await world.user("dana", "detective")
    admin = await world.signin(await world.user("ada", "administrator"))
    cora_person = await world.user("cora", "commander")
    cora = await world.signin(cora_person)
    await admin.post(f"/api/users/{dana.id}/reset-mfa")
    confirmed = await cora.post(f"/api/users/{dana.id}/reset-mfa/confirm", json={"totp_code": world.code(cora_person)})
    handed_over = confirmed.json()["enrollment_code"]

    world.clock.advance(timedelta(hours=73))  # policies/department.toml: enrollment_code_hours = 72
    client = world.client()
    await client.post("/api/auth/login", json={"username": "dana", "password": dana.password})
    secret = (await client.post("/api/auth/mfa/enroll")).json()["secret"]
    late = await client.post(
        "/api/auth/mfa/enroll/confirm",
        json={"code": pyotp.TOTP(secret).at(world.clock.now()), "enrollment_code": handed_over},
    )

    assert late.status_code == 401
    assert "expired" in late.json()["detail"]


async def test_a_new_account_signs_in_once_with_its_temporary_password_and_must_replace_it(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    body = {"username": "avery", "display_name": "Avery Brennan", "roles": ["auditor"], "password": TEMPORARY}
    created = await admin.post("/api/users", json=body)
    assert created.status_code == 201
    assert created.json()["password_change_required"] is True

    avery = world.client()
    assert (await avery.post("/api/auth/login", json={"username": "avery", "password": TEMPORARY})).json() == {
        "mfa": "enroll"
    }
    totp = pyotp.TOTP((await avery.post("/api/auth/mfa/enroll")).json()["secret"])
    assert (
        await avery.post("/api/auth/mfa/enroll/confirm", json={"code": totp.at(world.clock.now())})
    ).status_code == 200

    # Signed in, but the temporary password buys nothing but replacing it.
    refused = await avery.get("/api/audit")
    assert refused.status_code == 403
    assert "/api/me/password" in refused.json()["detail"]
    me = (await avery.get("/api/me")).json()
    assert (me["password_change_required"], me["permissions"]) == (True, ["self"])

    def change(current: str, code: str) -> dict[str, str]:
        return {"current_password": current, "new_password": OWN, "totp_code": code}

    world.clock.advance(timedelta(seconds=30))
    wrong_current = await avery.post("/api/me/password", json=change("not the password", totp.at(world.clock.now())))
    assert wrong_current.status_code == 403
    wrong_code = await avery.post("/api/me/password", json=change(TEMPORARY, "000000"))
    assert wrong_code.status_code == 403
    assert wrong_code.json()["title"] == "Code not accepted"
    same = await avery.post(
        "/api/me/password", json=change(TEMPORARY, totp.at(world.clock.now())) | {"new_password": TEMPORARY}
    )
    assert same.status_code == 422
    changed = await avery.post("/api/me/password", json=change(TEMPORARY, totp.at(world.clock.now())))
    assert changed.status_code == 204, changed.text

    assert (await avery.get("/api/audit")).status_code == 200
    old = await world.client().post("/api/auth/login", json={"username": "avery", "password": TEMPORARY})
    assert old.status_code == 401
    new = await world.client().post("/api/auth/login", json={"username": "avery", "password": OWN})
    assert new.status_code == 200
    events = await world.events("auth.password.change")
    assert [(e["outcome"], details(e).get("reason")) for e in events] == [
        ("failure", "wrong password"),
        ("failure", "wrong code"),
        ("success", None),
    ]
    assert details(events[-1])["was_temporary"] is True


async def test_users_change_their_own_password_and_their_other_sessions_end(world: World) -> None:
    dana = await world.user("dana", "detective")
    here = await world.signin(dana)
    elsewhere = await world.signin(dana)

    changed = await here.post(
        "/api/me/password",
        json={"current_password": dana.password, "new_password": OWN, "totp_code": world.code(dana)},
    )

    assert changed.status_code == 204, changed.text
    assert (await here.get("/api/me")).status_code == 200
    assert (await elsewhere.get("/api/me")).status_code == 401
    assert (await world.client().post("/api/auth/login", json={"username": "dana", "password": OWN})).status_code == 200


async def test_an_administrator_password_reset_is_temporary_and_ends_the_users_sessions(world: World) -> None:
    dana = await world.user("dana", "detective")
    session = await world.signin(dana)
    ada = await world.user("ada", "administrator")
    admin = await world.signin(ada)

    await _reset_password(admin, dana)
    own = await admin.post(f"/api/users/{ada.id}/reset-password", json={"password": TEMPORARY})

    assert own.status_code == 403
    assert (await session.get("/api/me")).status_code == 401
    # Her authenticator stays: knowing the password gives the administrator nothing more.
    temp = Person(dana.id, dana.username, TEMPORARY, dana.secret)
    client = await world.signin(temp)
    assert (await client.get("/api/personas")).status_code == 403
    assert (await client.get("/api/me")).json()["password_change_required"] is True

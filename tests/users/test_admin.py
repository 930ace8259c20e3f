"""Account administration: who may do it, and what it does."""

from __future__ import annotations

import uuid

import httpx

from tests.harness import PASSWORD, World, details


def new_user(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "username": "bob",
        "display_name": "Bob Builder",
        # Roles that read identities take a second person (tests/users/test_grants.py).
        "roles": ["auditor"],
        "password": "copper lantern meadow forty",
    }
    return body | fields


async def admin_client(world: World) -> httpx.AsyncClient:
    return await world.signin(await world.user("ada", "administrator"))


async def test_a_detective_calling_an_administrator_route_is_refused_and_audited(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)

    listing = await client.get("/api/users")
    creating = await client.post("/api/users", json=new_user())
    unlocking = await client.post(f"/api/users/{dana.id}/unlock")

    assert [r.status_code for r in (listing, creating, unlocking)] == [403, 403, 403]
    assert "user:manage" in listing.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM users WHERE username = 'bob'") == 0
    denied = await world.events("access.denied")
    assert [(e["outcome"], e["actor"], e["actor_id"]) for e in denied] == [("denied", "dana", dana.id)] * 3
    assert [details(e)["permission"] for e in denied] == ["user:manage"] * 3
    assert details(denied[2])["route"] == "/api/users/{user_id}/unlock"


async def test_administrator_routes_need_a_session(world: World) -> None:
    dana = await world.user("dana", "detective")
    anonymous = world.client()

    answers = [
        await anonymous.get("/api/users"),
        await anonymous.post("/api/users", json=new_user()),
        await anonymous.patch(f"/api/users/{dana.id}", json={"active": False}),
        await anonymous.post(f"/api/users/{dana.id}/unlock"),
        await anonymous.post(f"/api/users/{dana.id}/reset-mfa"),
    ]

    assert [r.status_code for r in answers] == [401] * 5
    assert await world.db.fetchval("SELECT active FROM users WHERE id = $1", dana.id)


async def test_an_administrator_creates_a_user_who_can_then_sign_in(world: World) -> None:
    admin = await admin_client(world)

    response = await admin.post("/api/users", json=new_user(roles=["auditor", "equipment_officer"]))

    assert response.status_code == 201
    body = response.json()
    assert uuid.UUID(body["id"])
    assert (body["username"], body["display_name"], body["roles"]) == (
        "bob",
        "Bob Builder",
        ["auditor", "equipment_officer"],
    )
    assert (body["active"], body["locked"], body["mfa_enrolled"]) == (True, False, False)
    assert body["password_change_required"] is True
    created = await world.events("user.create")
    assert [(e["actor"], e["target_id"]) for e in created] == [("ada", body["id"])]
    login = await world.client().post(
        "/api/auth/login", json={"username": "bob", "password": "copper lantern meadow forty"}
    )
    assert login.json() == {"mfa": "enroll"}


async def test_a_taken_username_is_a_conflict(world: World) -> None:
    admin = await admin_client(world)
    assert (await admin.post("/api/users", json=new_user())).status_code == 201

    again = await admin.post("/api/users", json=new_user(display_name="Another Bob"))

    assert again.status_code == 409
    assert "bob" in again.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM users WHERE username = 'bob'") == 1


async def test_an_unknown_role_is_refused_with_a_clear_message(world: World) -> None:
    admin = await admin_client(world)

    response = await admin.post("/api/users", json=new_user(roles=["chief"]))

    assert response.status_code == 400
    problem = response.json()
    assert "'chief'" in problem["detail"]
    assert [e["key"] for e in problem["errors"]] == ["roles[0]"]


async def test_unknown_fields_and_bad_usernames_are_refused(world: World) -> None:
    admin = await admin_client(world)

    unknown = await admin.post("/api/users", json=new_user(clearance="top"))
    bad_name = await admin.post("/api/users", json=new_user(username="Bob Smith!"))
    empty_patch = await admin.patch(f"/api/users/{uuid.uuid4()}", json={})

    assert unknown.status_code == 400
    assert "clearance" in unknown.json()["detail"]
    assert bad_name.status_code == 400
    assert empty_patch.status_code == 400
    assert "at least one of" in empty_patch.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM users") == 1


async def test_an_administrator_cannot_disable_themselves_or_drop_their_own_role(world: World) -> None:
    ada = await world.user("ada", "administrator")
    admin = await world.signin(ada)

    disable = await admin.patch(f"/api/users/{ada.id}", json={"active": False})
    demote = await admin.patch(f"/api/users/{ada.id}", json={"roles": ["auditor"]})

    assert disable.status_code == 403
    assert demote.status_code == 403
    assert (await admin.get("/api/users")).status_code == 200
    row = await world.db.fetchrow("SELECT active, roles FROM users WHERE id = $1", ada.id)
    assert (row["active"], row["roles"]) == (True, ["administrator"])
    # Another administrator may.
    other = await world.signin(await world.user("otto", "administrator"))
    assert (await other.patch(f"/api/users/{ada.id}", json={"active": False})).status_code == 200
    assert (await admin.get("/api/users")).status_code == 401


async def test_changes_to_unknown_users_are_not_found(world: World) -> None:
    admin = await admin_client(world)
    nobody = uuid.uuid4()

    answers = [
        await admin.patch(f"/api/users/{nobody}", json={"active": False}),
        await admin.post(f"/api/users/{nobody}/unlock"),
        await admin.post(f"/api/users/{nobody}/reset-mfa"),
    ]

    assert [r.status_code for r in answers] == [404] * 3


async def test_reset_mfa_makes_the_next_sign_in_enroll_and_ends_sessions(world: World) -> None:
    admin = await admin_client(world)
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)

    response = await admin.post(f"/api/users/{dana.id}/reset-mfa")

    assert response.status_code == 200
    assert response.json()["mfa_enrolled"] is False
    assert (await client.get("/api/me")).status_code == 401
    login = await world.client().post("/api/auth/login", json={"username": "dana", "password": dana.password})
    assert login.json() == {"mfa": "enroll"}
    assert len(await world.events("user.reset_mfa")) == 1


async def test_the_user_list_holds_no_password_hashes_or_secrets(world: World) -> None:
    admin = await admin_client(world)
    dana = await world.user("dana", "detective")

    response = await admin.get("/api/users")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [u["username"] for u in items] == ["ada", "dana"]
    for item in items:
        assert set(item) == {
            "id",
            "username",
            "display_name",
            "roles",
            "active",
            "locked",
            "mfa_enrolled",
            "created_at",
            "email",
            "password_change_required",
            "pending_roles",
            "enrollment_gate",
            "unit_ids",
        }
    text = response.text
    assert "argon2" not in text
    assert PASSWORD not in text
    assert dana.secret is not None
    assert dana.secret not in text
    assert "totp" not in text.lower()


async def test_an_administrator_cannot_grant_roles_that_read_identities(world: World) -> None:
    """IT staff are not cleared for identities: not by changing their own roles, nor by an
    administrator account that also holds a role that reads personas."""
    ada_person = await world.user("ada", "administrator")
    ada = await world.signin(ada_person)
    own = await ada.patch(f"/api/users/{ada_person.id}", json={"roles": ["administrator", "commander"]})
    assert own.status_code == 403
    other = await world.user("bo", "administrator")
    mixed = await ada.patch(f"/api/users/{other.id}", json={"roles": ["administrator", "supervisor"]})
    assert mixed.status_code == 422 and "supervisor" in mixed.json()["detail"]
    created = await ada.post(
        "/api/users",
        json={
            "username": "cy",
            "display_name": "Cy",
            "roles": ["administrator", "detective"],
            "password": "velvet orchard signal ninety",
        },
    )
    assert created.status_code == 422
    assert await world.db.fetchval("SELECT roles FROM users WHERE username = 'bo'") == ["administrator"]


async def test_text_the_database_cannot_store_is_a_400(world: World) -> None:
    ada = await world.signin(await world.user("ada", "administrator"))
    response = await ada.post(
        "/api/users",
        json={
            "username": "cy",
            "display_name": "C\u0000y",
            "roles": ["detective"],
            "password": "velvet orchard signal ninety",
        },
    )
    assert response.status_code == 400
    assert await world.db.fetchval("SELECT count(*) FROM users WHERE username = 'cy'") == 0


async def test_anyone_sets_their_own_email_for_reminders_and_the_audit_keeps_no_address(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)

    bad = await client.patch("/api/me", json={"email": "not an address"})
    assert bad.status_code == 400, bad.text
    response = await client.patch("/api/me", json={"email": "dana@pd.example"})
    assert response.status_code == 200, response.text
    assert await world.db.fetchval("SELECT email FROM users WHERE id = $1", dana.id) == "dana@pd.example"
    # Only one's own: there is no user id to name, and the address stays out of the log.
    [row] = await world.events("user.own_email")
    assert row["target_id"] == str(dana.id)
    assert details(row) == {"set": True}
    assert (await client.patch("/api/me", json={"email": None})).status_code == 200
    assert await world.db.fetchval("SELECT email FROM users WHERE id = $1", dana.id) is None


async def test_no_administrator_unlocks_resets_or_disables_their_own_account(world: World) -> None:
    """As an attacker holding one administrator's session would try: every risky step on the
    account itself is refused with a message, and nothing changes or is recorded as done."""
    ada = await world.user("ada", "administrator")
    admin = await world.signin(ada)
    me = f"/api/users/{ada.id}"

    answers = [
        await admin.post(f"{me}/unlock", json={"reason": "locked myself out"}),
        await admin.post(f"{me}/unlock"),
        await admin.post(f"{me}/reset-mfa", json={"reason": "new phone"}),
        await admin.post(f"{me}/reset-password", json={"password": "a brand new passphrase here"}),
        await admin.patch(me, json={"active": False, "reason": "leaving"}),
        await admin.patch(me, json={"active": True}),
    ]

    assert [r.status_code for r in answers] == [403] * 6
    assert all("your own" in r.json()["detail"] for r in answers)
    row = await world.db.fetchrow("SELECT active, totp_secret IS NOT NULL AS enrolled FROM users WHERE id = $1", ada.id)
    assert (row["active"], row["enrolled"]) == (True, True)
    done = ("user.unlock", "user.reset_mfa", "user.reset_password", "user.update")
    assert await world.db.fetchval("SELECT count(*) FROM audit_event WHERE action = ANY($1)", list(done)) == 0
    assert (await admin.get("/api/me")).status_code == 200


async def test_the_reason_for_a_risky_step_lands_in_its_audit_event(world: World) -> None:
    admin = await admin_client(world)
    dana = await world.user("dana", "detective")
    users = f"/api/users/{dana.id}"

    reset = await admin.post(f"{users}/reset-mfa", json={"reason": "Phone stolen, ticket 4411"})
    disable = await admin.patch(users, json={"active": False, "reason": "Transferred out of the unit"})
    unlock = await admin.post(f"{users}/unlock")  # older clients send no body: still accepted
    too_short = await admin.post(f"{users}/unlock", json={"reason": "x"})
    unknown = await admin.post(f"{users}/unlock", json={"reason": "fine", "why": "extra"})

    assert [reset.status_code, disable.status_code, unlock.status_code] == [200, 200, 200]
    assert too_short.status_code == 400 and "reason" in too_short.text, too_short.text
    assert unknown.status_code == 400
    [mfa] = await world.events("user.reset_mfa")
    [update] = await world.events("user.update")
    [unlocked] = await world.events("user.unlock")
    assert details(mfa) == {"reason": "Phone stolen, ticket 4411"}
    assert details(update) == {"active": False, "reason": "Transferred out of the unit"}
    assert details(unlocked) == {}

"""Sessions: logout, timeouts, revocation on disable, role changes, response headers, cookies."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import World, session_cookie


async def test_logout_revokes_the_session_and_its_cookie_is_refused(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)
    token = client.cookies.get("registry_session")

    response = await client.post("/api/auth/logout")

    assert response.status_code == 204
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert (await client.get("/api/me")).status_code == 401
    replay = await world.client().get("/api/me", headers={"cookie": f"registry_session={token}"})
    assert replay.status_code == 401
    assert len(await world.events("auth.logout")) == 1


async def test_an_idle_session_expires_after_30_minutes(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)

    world.clock.advance(timedelta(minutes=29))
    assert (await client.get("/api/me")).status_code == 200

    world.clock.advance(timedelta(minutes=31))
    assert (await client.get("/api/me")).status_code == 401


async def test_activity_keeps_a_session_alive_past_the_idle_timeout(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)

    for _ in range(6):  # two hours of a request every 20 minutes
        world.clock.advance(timedelta(minutes=20))
        assert (await client.get("/api/me")).status_code == 200


async def test_a_session_ends_after_12_hours_even_with_activity(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)

    for _ in range(35):  # 11 h 40 min of steady work
        world.clock.advance(timedelta(minutes=20))
        assert (await client.get("/api/me")).status_code == 200

    world.clock.advance(timedelta(minutes=21))
    assert (await client.get("/api/me")).status_code == 401


async def test_disabling_a_user_ends_their_session_at_once(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)
    assert (await client.get("/api/me")).status_code == 200

    response = await admin.patch(f"/api/users/{dana.id}", json={"active": False})

    assert response.status_code == 200
    assert response.json()["active"] is False
    assert (await client.get("/api/me")).status_code == 401
    # Re-enabling does not bring the old session back.
    assert (await admin.patch(f"/api/users/{dana.id}", json={"active": True})).status_code == 200
    assert (await client.get("/api/me")).status_code == 401
    await world.signin(dana)


async def test_a_disabled_user_cannot_sign_in(world: World) -> None:
    gone = await world.user("gone", "detective", active=False)

    response = await world.client().post("/api/auth/login", json={"username": "gone", "password": gone.password})

    assert response.status_code == 401


async def test_a_role_change_applies_on_the_next_request(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)
    assert (await client.get("/api/audit")).status_code == 403

    granted = await admin.patch(f"/api/users/{dana.id}", json={"roles": ["detective", "auditor"]})
    assert granted.status_code == 200

    assert (await client.get("/api/audit")).status_code == 200
    assert sorted((await client.get("/api/me")).json()["roles"]) == ["auditor", "detective"]

    assert (await admin.patch(f"/api/users/{dana.id}", json={"roles": ["detective"]})).status_code == 200
    assert (await client.get("/api/audit")).status_code == 403


async def test_api_answers_are_never_cached(world: World) -> None:
    dana = await world.user("dana", "detective")
    anonymous = world.client()
    client = await world.signin(dana)

    answers = [
        await anonymous.get("/api/auth/notice"),
        await anonymous.get("/api/me"),
        await anonymous.post("/api/auth/login", json={"username": "dana", "password": "wrong password here"}),
        await client.get("/api/me"),
        await client.get("/api/users"),
    ]

    assert [r.headers.get("cache-control") for r in answers] == ["no-store"] * len(answers)


async def test_the_session_cookie_is_httponly_strict_and_secure(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = world.client()

    login = await client.post("/api/auth/login", json={"username": "dana", "password": dana.password})
    mfa = await client.post("/api/auth/mfa", json={"code": world.code(dana)})

    for response in (login, mfa):
        assert session_cookie(response)
        attributes = [a.strip().lower() for a in response.headers["set-cookie"].split(";")[1:]]
        assert "httponly" in attributes
        assert "samesite=strict" in attributes
        assert "secure" in attributes
        assert "path=/" in attributes


async def test_the_session_token_is_stored_only_as_a_digest(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)
    token = client.cookies.get("registry_session")
    assert token

    rows = await world.db.fetch("SELECT token_hash FROM sessions WHERE user_id = $1", dana.id)

    assert rows
    assert all(token.encode() not in bytes(r["token_hash"]) for r in rows)
    assert world.keyring.digest(token) in [bytes(r["token_hash"]) for r in rows]


async def test_the_session_cookie_is_found_among_others_and_only_under_its_own_name(world: World) -> None:
    dana = await world.user("dana", "detective")
    token = (await world.signin(dana)).cookies.get("registry_session")
    stranger = world.client()

    async def me(cookie: str) -> int:
        return (await stranger.get("/api/me", headers={"cookie": cookie})).status_code

    assert await me(f"theme=dark; registry_session={token} ; lang=en") == 200
    # An empty one first (a stale cookie of another path): the one with a value counts.
    assert await me(f"registry_session=; registry_session={token}") == 200
    assert await me(f"xregistry_session={token}") == 401
    assert await me(f"registry_session_old={token}") == 401
    assert await me("registry_session=") == 401
    assert await me(f"registry_session={token[:-1]}") == 401

"""The second step of sign-in: TOTP enrollment and verification, replay, recovery codes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pyotp

from tests.harness import Person, World, details, session_cookie


async def password_step(world: World, person: Person, client: httpx.AsyncClient | None = None) -> httpx.AsyncClient:
    client = client or world.client()
    response = await client.post("/api/auth/login", json={"username": person.username, "password": person.password})
    assert response.status_code == 200, response.text
    return client


async def enroll(world: World, person: Person) -> tuple[httpx.AsyncClient, str, list[str]]:
    """Enroll an authenticator through the API: the client, the secret and the recovery codes."""
    client = await password_step(world, person)
    secret = (await client.post("/api/auth/mfa/enroll")).json()["secret"]
    world.clock.advance(timedelta(seconds=30))
    code = pyotp.TOTP(secret).at(world.clock.now())
    response = await client.post("/api/auth/mfa/enroll/confirm", json={"code": code})
    assert response.status_code == 200, response.text
    person.secret = secret
    return client, secret, response.json()["recovery_codes"]


async def test_a_user_without_an_authenticator_enrolls_one(world: World) -> None:
    nils = await world.user("nils", "detective", enrolled=False)
    client = world.client()
    login = await client.post("/api/auth/login", json={"username": "nils", "password": nils.password})
    assert login.json() == {"mfa": "enroll"}

    offered = await client.post("/api/auth/mfa/enroll")

    assert offered.status_code == 200
    body = offered.json()
    uri = urlparse(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [body["secret"]]
    assert parse_qs(uri.query)["issuer"] == ["Persona Registry"]
    assert "nils" in uri.path
    assert "<svg" in body["qr_svg"]
    assert (await client.get("/api/me")).status_code == 401  # not until a code confirms it

    code = pyotp.TOTP(body["secret"]).at(world.clock.now())
    confirmed = await client.post("/api/auth/mfa/enroll/confirm", json={"code": code})

    assert confirmed.status_code == 200
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert session_cookie(confirmed) not in (None, session_cookie(login))
    me = await client.get("/api/me")
    assert me.status_code == 200
    assert me.json()["username"] == "nils"
    # Next time, the same authenticator is asked for.
    nils.secret = body["secret"]
    again = await world.client().post("/api/auth/login", json={"username": "nils", "password": nils.password})
    assert again.json() == {"mfa": "verify"}
    await world.signin(nils)


async def test_enrollment_needs_a_code_from_the_offered_secret(world: World) -> None:
    nils = await world.user("nils", "detective", enrolled=False)
    client = await password_step(world, nils)
    secret = (await client.post("/api/auth/mfa/enroll")).json()["secret"]
    other = pyotp.TOTP(pyotp.random_base32()).at(world.clock.now())
    if other == pyotp.TOTP(secret).at(world.clock.now()):  # one in a million
        other = str((int(other) + 1) % 1_000_000).zfill(6)

    refused = await client.post("/api/auth/mfa/enroll/confirm", json={"code": other})

    assert refused.status_code == 401
    assert (await client.get("/api/me")).status_code == 401
    assert await world.db.fetchval("SELECT totp_secret IS NULL FROM users WHERE id = $1", nils.id)


async def test_an_enrolled_user_cannot_enroll_again_without_a_reset(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await password_step(world, dana)

    response = await client.post("/api/auth/mfa/enroll")

    assert response.status_code == 409
    assert "administrator" in response.json()["detail"]


async def test_a_totp_code_is_accepted_once(world: World) -> None:
    dana = await world.user("dana", "detective")
    code = world.code(dana)

    first = await password_step(world, dana)
    assert (await first.post("/api/auth/mfa", json={"code": code})).status_code == 200
    second = await password_step(world, dana)
    replay = await second.post("/api/auth/mfa", json={"code": code})

    assert replay.status_code == 401
    assert (await second.get("/api/me")).status_code == 401
    assert [details(e)["reason"] for e in await world.events("auth.mfa")] == ["code already used"]
    # The next code works.
    assert (await second.post("/api/auth/mfa", json={"code": world.code(dana)})).status_code == 200


async def test_an_older_code_is_refused_after_a_newer_one(world: World) -> None:
    dana = await world.user("dana", "detective")
    older = dana.totp.at(world.clock.now())
    newer = world.code(dana)  # the next step; the older one is still within the drift window

    assert (await (await password_step(world, dana)).post("/api/auth/mfa", json={"code": newer})).status_code == 200
    late = await (await password_step(world, dana)).post("/api/auth/mfa", json={"code": older})

    assert late.status_code == 401


async def test_the_same_code_sent_concurrently_succeeds_exactly_once(world: World) -> None:
    dana = await world.user("dana", "detective")
    clients = [await password_step(world, dana) for _ in range(10)]
    code = world.code(dana)

    responses = await asyncio.gather(*(c.post("/api/auth/mfa", json={"code": code}) for c in clients))

    assert sorted(r.status_code for r in responses) == [200] + [401] * 9
    assert len(await world.events("auth.login.mfa")) == 1


async def test_a_recovery_code_works_once(world: World) -> None:
    nils = await world.user("nils", "detective", enrolled=False)
    client, _, codes = await enroll(world, nils)
    assert (await client.post("/api/auth/logout")).status_code == 204

    first = await password_step(world, nils)
    used = await first.post("/api/auth/recovery", json={"code": codes[0]})
    assert used.status_code == 200
    assert (await first.get("/api/me")).status_code == 200

    second = await password_step(world, nils)
    again = await second.post("/api/auth/recovery", json={"code": codes[0]})
    assert again.status_code == 401
    assert (await second.get("/api/me")).status_code == 401

    # Another code still works, typed the way people type (capitals, no dashes).
    other = await second.post("/api/auth/recovery", json={"code": codes[1].replace("-", "").upper()})
    assert other.status_code == 200
    assert [details(e)["method"] for e in await world.events("auth.login.mfa")] == [
        "enrollment",
        "recovery_code",
        "recovery_code",
    ]


async def test_recovery_codes_are_stored_hashed(world: World) -> None:
    nils = await world.user("nils", "detective", enrolled=False)
    _, _, codes = await enroll(world, nils)

    stored = await world.db.fetch("SELECT code_hash FROM recovery_codes WHERE user_id = $1", nils.id)

    assert len(stored) == 10
    dump = b"".join(bytes(r["code_hash"]) for r in stored)
    for code in codes:
        assert code.encode() not in dump
        assert code.replace("-", "").encode() not in dump


async def test_a_password_stage_session_cannot_use_the_api(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await password_step(world, dana)

    me = await client.get("/api/me")

    assert me.status_code == 401
    assert "Sign in" in me.json()["detail"]
    assert (await client.get("/api/users")).status_code == 401


async def test_the_password_stage_expires(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await password_step(world, dana)

    world.clock.advance(timedelta(minutes=11))
    response = await client.post("/api/auth/mfa", json={"code": world.code(dana)})

    assert response.status_code == 401
    assert (await client.get("/api/me")).status_code == 401


async def test_a_full_session_cannot_redo_the_mfa_step(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)

    response = await client.post("/api/auth/mfa", json={"code": world.code(dana)})

    assert response.status_code == 401


async def test_the_session_cookie_changes_at_login_and_at_mfa(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)
    before = client.cookies.get("registry_session")

    login = await client.post("/api/auth/login", json={"username": "dana", "password": dana.password})
    at_login = session_cookie(login)
    mfa = await client.post("/api/auth/mfa", json={"code": world.code(dana)})
    at_mfa = session_cookie(mfa)

    assert before and at_login and at_mfa
    assert len({before, at_login, at_mfa}) == 3
    # Neither earlier token still opens a session.
    for token in (before, at_login):
        stale = world.client()
        response = await stale.get("/api/me", headers={"cookie": f"registry_session={token}"})
        assert response.status_code == 401
    assert (await client.get("/api/me")).status_code == 200

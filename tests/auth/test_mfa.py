"""The second step of sign-in: TOTP enrollment and verification, replay, recovery codes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pyotp

from tests.harness import Person, World, details, session_cookie
from tests.personas.helpers import open_investigation

THRESHOLD = 5  # policies/department.toml: lockout_threshold


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


async def test_codes_sent_at_once_are_checked_no_more_than_the_threshold(world: World) -> None:
    """Forty wrong codes and the right one, at once, from 41 password-stage sessions: each takes
    one of the account's attempts before its code is checked; the rest are refused unchecked."""
    dana = await world.user("dana", "detective")
    clients = [await password_step(world, dana) for _ in range(41)]
    right = world.code(dana)
    wrong = world.wrong_code(dana)
    attempts = [c.post("/api/auth/mfa", json={"code": wrong}) for c in clients[:40]]
    attempts.append(clients[40].post("/api/auth/mfa", json={"code": right}))

    # The timeout only turns a hang into a failure; it measures nothing.
    async with asyncio.timeout(60):
        responses = await asyncio.gather(*attempts)

    assert [r.status_code for r in responses[:40]] == [401] * 40
    # Sessions end when the account locks: later requests are refused before any code is
    # looked at, and leave no auth.mfa event. Those that got as far are checked or refused.
    reasons = [details(e)["reason"] for e in await world.events("auth.mfa")]
    assert set(reasons) <= {"wrong code", "account locked"}
    checked = reasons.count("wrong code") + (responses[40].status_code == 200)
    if responses[40].status_code == 200:
        # The right code was among the first attempts reserved. Its success starts the count
        # afresh, as a full sign-in does, for the guesses that come after it.
        assert checked <= 2 * THRESHOLD
    else:
        assert responses[40].status_code == 401
        assert checked <= THRESHOLD
    # However the attempts fell, the account is locked once, and stays locked: a success does
    # not lift a lock placed while it was in flight.
    assert len(await world.events("auth.account.locked")) == 1
    assert await world.db.fetchval("SELECT locked_at IS NOT NULL FROM users WHERE id = $1", dana.id)
    fresh = await world.client().post("/api/auth/login", json={"username": dana.username, "password": dana.password})
    assert fresh.status_code == 401
    assert session_cookie(fresh) is None


async def test_a_locked_account_answers_a_right_code_like_a_wrong_one(world: World) -> None:
    dana = await world.user("dana", "detective")
    erin = await world.user("erin", "detective")
    dana_client, erin_client = await password_step(world, dana), await password_step(world, erin)
    await world.db.execute("UPDATE users SET locked_at = $2 WHERE id = $1", dana.id, world.clock.now())

    refused = await dana_client.post("/api/auth/mfa", json={"code": world.code(dana)})
    wrong = await erin_client.post("/api/auth/mfa", json={"code": world.wrong_code(erin)})

    assert refused.status_code == wrong.status_code == 401
    assert refused.content == wrong.content
    reasons = {e["target_id"]: details(e)["reason"] for e in await world.events("auth.mfa")}
    assert reasons == {str(dana.id): "account locked", str(erin.id): "wrong code"}
    full = "SELECT count(*) FROM sessions WHERE user_id = $1 AND stage = 'full'"
    assert await world.db.fetchval(full, dana.id) == 0


async def test_right_codes_for_approvals_do_not_count_towards_the_lockout(world: World) -> None:
    """Each code takes an attempt while it is checked and gives it back when it was right."""
    dana = await world.signin(await world.user("dana", "detective"))
    alex_person = await world.user("alex", "authorizing_official")
    alex = await world.signin(alex_person)

    for _ in range(THRESHOLD + 2):
        inv = await open_investigation(dana)
        code = world.code(alex_person)
        response = await alex.post(f"/api/investigations/{inv}/authorize", json={"totp_code": code})
        assert response.status_code == 200, response.text

    row = await world.db.fetchrow("SELECT failed_attempts, locked_at FROM users WHERE id = $1", alex_person.id)
    assert (row["failed_attempts"], row["locked_at"]) == (0, None)
    assert (await alex.get("/api/me")).status_code == 200


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

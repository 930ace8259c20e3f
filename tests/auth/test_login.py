"""The password step of sign-in: notice, answers, weak passwords, rehashing and lockout."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from registry.settings import PasswordHashParams
from tests.harness import PASSWORD, TEST_HASH, World, details, session_cookie

LOGIN = "/api/auth/login"
NEW_PASSWORD = "copper lantern meadow forty"


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


async def test_the_system_use_notice_is_shown_before_sign_in(world: World) -> None:
    response = await world.client().get("/api/auth/notice")

    assert response.status_code == 200
    body = response.json()
    assert body["department"] == "Demo Police Department"
    assert "restricted law-enforcement information system" in body["notice"]
    assert "monitored and recorded" in body["notice"]


async def test_password_step_answers_the_mfa_step_and_sets_a_cookie(world: World) -> None:
    enrolled = await world.user("dana", "detective")
    newcomer = await world.user("nils", "detective", enrolled=False)

    first = await login(world.client(), enrolled.username, enrolled.password)
    second = await login(world.client(), newcomer.username, newcomer.password)

    assert (first.status_code, first.json()) == (200, {"mfa": "verify"})
    assert (second.status_code, second.json()) == (200, {"mfa": "enroll"})
    assert session_cookie(first)
    assert session_cookie(second)
    assert session_cookie(first) != session_cookie(second)


async def test_username_is_not_case_sensitive(world: World) -> None:
    dana = await world.user("dana", "detective")

    response = await login(world.client(), " DANA ", dana.password)

    assert response.json() == {"mfa": "verify"}


async def test_unknown_user_and_wrong_password_answer_byte_identically(world: World) -> None:
    dana = await world.user("dana", "detective")

    unknown = await login(world.client(), "nobody", "some password or other")
    wrong = await login(world.client(), dana.username, "some password or other")

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.content == wrong.content
    assert unknown.headers["content-type"] == wrong.headers["content-type"]
    assert session_cookie(unknown) is None
    assert session_cookie(wrong) is None
    # Both are audited, each with its real reason (the audit log may know; the stranger may not).
    events = await world.events("auth.login")
    assert [(e["outcome"], e["target_id"], details(e)["reason"]) for e in events] == [
        ("failure", None, "unknown username"),
        ("failure", str(dana.id), "wrong password"),
    ]


async def test_disabled_and_locked_accounts_answer_like_a_wrong_password(world: World) -> None:
    dana = await world.user("dana", "detective")
    gone = await world.user("gone", "detective", active=False)
    wrong = await login(world.client(), dana.username, "not the password at all")
    for _ in range(4):
        await login(world.client(), dana.username, "not the password at all")

    disabled = await login(world.client(), gone.username, gone.password)
    locked = await login(world.client(), dana.username, dana.password)

    assert disabled.status_code == locked.status_code == 401
    assert disabled.content == locked.content == wrong.content


async def test_weak_or_short_passwords_are_refused_at_creation_with_the_reason(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))

    def new_user(password: str) -> dict[str, object]:
        return {"username": "bob", "display_name": "Bob Smith", "roles": ["auditor"], "password": password}

    short = await admin.post("/api/users", json=new_user("tiny words"))
    common = await admin.post("/api/users", json=new_user("password123456"))
    own_name = await admin.post("/api/users", json=new_user("bobsmithbobsmith"))

    assert short.status_code == 422
    assert "at least 12 characters" in short.json()["detail"]
    assert common.status_code == 422
    assert "too weak" in common.json()["detail"]
    assert "common" in common.json()["detail"].lower()
    assert own_name.status_code == 422
    assert "too weak" in own_name.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM users WHERE username = 'bob'") == 0

    strong = await admin.post("/api/users", json=new_user(NEW_PASSWORD))
    assert strong.status_code == 201


async def test_a_hash_with_old_parameters_is_replaced_at_sign_in(database_url: str, tmp_path: Path) -> None:
    stronger = PasswordHashParams(time_cost=2, memory_cost=2048, parallelism=1)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    async with World.open(database_url, tmp_path, start, password_hash=stronger) as world:
        # The harness stores hashes with TEST_HASH's parameters: older than the app's.
        dana = await world.user("dana", "detective")
        before = await world.db.fetchval("SELECT password_hash FROM users WHERE id = $1", dana.id)
        assert f"m={TEST_HASH.memory_cost},t={TEST_HASH.time_cost}," in before

        assert (await login(world.client(), dana.username, dana.password)).status_code == 200

        after = await world.db.fetchval("SELECT password_hash FROM users WHERE id = $1", dana.id)
        assert after != before
        assert "$argon2id$" in after
        assert "m=2048,t=2,p=1" in after
        # The new hash still lets them in, and is not rewritten again.
        await world.signin(dana)
        assert await world.db.fetchval("SELECT password_hash FROM users WHERE id = $1", dana.id) == after


async def test_a_current_hash_is_left_alone(world: World) -> None:
    dana = await world.user("dana", "detective")
    before = await world.db.fetchval("SELECT password_hash FROM users WHERE id = $1", dana.id)

    await world.signin(dana)

    assert await world.db.fetchval("SELECT password_hash FROM users WHERE id = $1", dana.id) == before


async def test_five_wrong_passwords_lock_until_an_administrator_unlocks(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    dana = await world.user("dana", "detective")

    for _ in range(5):
        assert (await login(world.client(), dana.username, "wrong guess number one")).status_code == 401
    refused = await login(world.client(), dana.username, dana.password)

    assert refused.status_code == 401
    assert session_cookie(refused) is None
    assert len(await world.events("auth.account.locked")) == 1
    listed = {u["username"]: u for u in (await admin.get("/api/users")).json()["items"]}
    assert listed["dana"]["locked"] is True

    unlocked = await admin.post(f"/api/users/{dana.id}/unlock")
    assert unlocked.status_code == 200
    assert unlocked.json()["locked"] is False
    assert len(await world.events("user.unlock")) == 1

    client = await world.signin(dana)
    assert (await client.get("/api/me")).status_code == 200


async def test_failures_must_be_consecutive_to_lock(world: World) -> None:
    dana = await world.user("dana", "detective")
    for _ in range(4):
        await login(world.client(), dana.username, "wrong guess number one")
    await world.signin(dana)  # a full sign-in starts the count again

    for _ in range(4):
        await login(world.client(), dana.username, "wrong guess number one")

    assert (await login(world.client(), dana.username, dana.password)).status_code == 200


async def test_a_lock_lifts_by_itself_after_the_policy_lock_time(world: World) -> None:
    dana = await world.user("dana", "detective")
    for _ in range(5):
        await login(world.client(), dana.username, "wrong guess number one")

    world.clock.advance(timedelta(minutes=29))
    assert (await login(world.client(), dana.username, dana.password)).status_code == 401

    world.clock.advance(timedelta(minutes=2))  # past lockout_minutes = 30 from the lock
    client = await world.signin(dana)
    assert (await client.get("/api/me")).status_code == 200


async def test_wrong_passwords_sent_at_once_are_checked_no_more_than_the_threshold(world: World) -> None:
    """Each guess takes one of the account's five attempts before its password is checked; the
    rest are refused unchecked, as locked, and answer like any other failure."""
    dana = await world.user("dana", "detective")
    guesses = [login(world.client(), dana.username, f"wrong guess number {i}") for i in range(30)]

    # The timeout only turns a hang into a failure; it measures nothing.
    async with asyncio.timeout(60):
        responses = await asyncio.gather(*guesses)

    assert [r.status_code for r in responses] == [401] * 30
    assert len({r.content for r in responses}) == 1
    assert all(session_cookie(r) is None for r in responses)
    reasons = [details(e)["reason"] for e in await world.events("auth.login")]
    assert len(reasons) == 30
    # policies/department.toml: lockout_threshold = 5. No guess succeeds, so exactly five.
    assert reasons.count("wrong password") == 5
    assert reasons.count("account locked") == 25
    assert len(await world.events("auth.account.locked")) == 1
    assert await world.db.fetchval("SELECT locked_at IS NOT NULL FROM users WHERE id = $1", dana.id)

    refused = await login(world.client(), dana.username, dana.password)
    assert refused.status_code == 401
    assert refused.content == responses[0].content
    assert session_cookie(refused) is None
    assert details((await world.events("auth.login"))[-1])["reason"] == "account locked"


async def test_a_right_password_does_not_take_an_attempt(world: World) -> None:
    """The right password gives its reserved attempt back, without starting the count afresh."""
    dana = await world.user("dana", "detective")
    for _ in range(4):
        await login(world.client(), dana.username, "wrong guess number one")
    for _ in range(3):
        assert (await login(world.client(), dana.username, dana.password)).status_code == 200

    assert await world.db.fetchval("SELECT failed_attempts FROM users WHERE id = $1", dana.id) == 4
    await login(world.client(), dana.username, "wrong guess number one")
    assert (await login(world.client(), dana.username, dana.password)).status_code == 401


async def test_five_wrong_totp_codes_lock_the_account(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    dana = await world.user("dana", "detective")
    client = world.client()
    assert (await login(client, dana.username, dana.password)).status_code == 200

    for _ in range(5):
        response = await client.post("/api/auth/mfa", json={"code": world.wrong_code(dana)})
        assert response.status_code == 401

    # Locked: the half-finished session is gone and the right password no longer works.
    assert (await client.post("/api/auth/mfa", json={"code": world.code(dana)})).status_code == 401
    assert (await login(world.client(), dana.username, dana.password)).status_code == 401
    assert [details(e)["reason"] for e in await world.events("auth.mfa")][:5] == ["wrong code"] * 5
    assert len(await world.events("auth.account.locked")) == 1

    assert (await admin.post(f"/api/users/{dana.id}/unlock")).status_code == 200
    await world.signin(dana)


async def test_a_burst_of_failed_sign_ins_is_answered_not_stalled(world: World) -> None:
    """More failing logins at once than the pool has connections: each holds one and needs a
    second for its audit event. They must all be answered (this once hung for ever)."""
    await world.user("dana", "detective")
    attempts = [login(world.client(), f"nobody{i}", "a wrong password here") for i in range(30)]

    # The timeout only turns a hang into a failure; it measures nothing.
    async with asyncio.timeout(60):
        responses = await asyncio.gather(*attempts)

    assert [r.status_code for r in responses] == [401] * 30
    assert len(await world.events("auth.login")) == 30


async def test_the_harness_password_is_strong_enough(world: World) -> None:
    """Guards the other tests: the shared password passes the creation rules."""
    admin = await world.signin(await world.user("ada", "administrator"))
    body = {"username": "eve", "display_name": "Eve", "roles": ["auditor"], "password": PASSWORD}
    assert (await admin.post("/api/users", json=body)).status_code == 201

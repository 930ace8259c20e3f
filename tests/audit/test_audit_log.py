"""The audit log: what is recorded, that it survives rollbacks, that it cannot be changed, and
that tampering behind the database's back is found."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pyotp
import pytest

from tests.harness import World, details


async def seal(world: World) -> int:
    sealed: int = await world.db.fetchval("SELECT audit_seal(5000)")
    return sealed


async def test_sign_in_is_recorded_with_who_what_when_and_where(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)
    await client.post("/api/auth/logout")

    [password] = await world.events("auth.login.password")
    [mfa] = await world.events("auth.login.mfa")
    [logout] = await world.events("auth.logout")

    for event in (password, mfa, logout):
        assert event["outcome"] == "success"
        assert event["target_type"] == "user"
        assert event["target_id"] == str(dana.id)
        assert event["ip"] == "198.51.100.7"
        assert event["request_id"]
    assert details(password) == {"mfa": "verify"}
    assert details(mfa) == {"method": "totp"}
    # The right password names who signed in, though no session existed yet (issue 13.6).
    assert (password["actor"], password["actor_id"]) == ("dana", dana.id)
    assert (mfa["actor"], logout["actor"], logout["actor_id"]) == ("dana", "dana", dana.id)
    assert password["occurred_at"] < mfa["occurred_at"]  # the clock moved on for the code


async def test_the_request_id_of_an_answer_finds_its_audit_event(world: World) -> None:
    response = await world.client().post("/api/auth/login", json={"username": "nobody", "password": "wrong"})

    [event] = await world.events("auth.login")

    assert event["request_id"] == response.headers["x-request-id"]


async def test_failed_attempts_are_recorded_although_the_request_rolls_back(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = world.client()
    await client.post("/api/auth/login", json={"username": "dana", "password": "a wrong password"})
    await client.post("/api/auth/login", json={"username": "dana", "password": dana.password})
    await client.post("/api/auth/mfa", json={"code": world.wrong_code(dana)})

    failures = await world.db.fetch("SELECT action, outcome, details FROM audit_event WHERE outcome = 'failure'")

    assert [(f["action"], details(f)["reason"]) for f in failures] == [
        ("auth.login", "wrong password"),
        ("auth.mfa", "wrong code"),
    ]
    # The rolled-back request left no other trace: still no full session for dana.
    assert await world.db.fetchval("SELECT count(*) FROM sessions WHERE stage = 'full'") == 0


async def test_a_business_event_commits_with_its_change_and_not_without(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    body = {"username": "bob", "display_name": "Bob", "roles": ["auditor"], "password": "copper lantern meadow forty"}
    assert (await admin.post("/api/users", json=body)).status_code == 201
    assert (await admin.post("/api/users", json=body)).status_code == 409  # rolled back

    assert len(await world.events("user.create")) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET details = '{}'::jsonb",
        "UPDATE audit_event SET seq = NULL, hash = NULL, prev_hash = NULL",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ],
)
async def test_the_database_refuses_to_change_audit_events(world: World, statement: str) -> None:
    await world.client().post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
    await seal(world)
    before = await world.db.fetch("SELECT * FROM audit_event ORDER BY id")

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await world.db.execute(statement)

    assert await world.db.fetch("SELECT * FROM audit_event ORDER BY id") == before


async def test_the_database_refuses_to_truncate_the_chain_head(world: World) -> None:
    await world.client().post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
    await seal(world)
    head = await world.db.fetchrow("SELECT * FROM audit_chain_head")

    # Refused, though by accident: the shared trigger function trips over a column this table
    # lacks (see the report; migrations are out of this change's reach).
    with pytest.raises(asyncpg.PostgresError):
        await world.db.execute("TRUNCATE audit_chain_head")

    assert await world.db.fetchrow("SELECT * FROM audit_chain_head") == head


async def test_verify_reports_a_missing_chain_head(world: World) -> None:
    auditor = await world.signin(await world.user("aud", "auditor"))
    await seal(world)
    with pytest.raises(asyncpg.PostgresError):
        await world.db.execute("DELETE FROM audit_chain_head")
    # Someone with the power to switch triggers off does it anyway.
    await world.remove_chain_head()

    response = await auditor.get("/api/audit/verify")

    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert "head" in response.json()["reason"]


async def test_an_untampered_chain_verifies(world: World) -> None:
    auditor = await world.signin(await world.user("aud", "auditor"))
    for _ in range(3):
        await world.client().post("/api/auth/login", json={"username": "nobody", "password": "wrong"})

    response = await auditor.get("/api/audit/verify")

    assert response.status_code == 200
    body = response.json()
    count = await world.db.fetchval("SELECT count(*) FROM audit_event")
    assert body["ok"] is True
    assert body["events"] == count >= 5
    head = await world.db.fetchval("SELECT encode(hash, 'hex') FROM audit_chain_head")
    assert body["head"] == head


async def tampered(world: World, statement: str) -> tuple[httpx.AsyncClient, int]:
    """Sign an auditor in, make some events, seal them, then run `statement` (with $1 = the id
    of an event in the middle) as a superuser with the append-only triggers switched off."""
    auditor = await world.signin(await world.user("aud", "auditor"))
    for _ in range(4):
        await world.client().post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
    await seal(world)
    ids = [r["id"] for r in await world.db.fetch("SELECT id FROM audit_event ORDER BY seq")]
    victim: int = ids[len(ids) // 2]
    await world.db.execute("SET session_replication_role = replica")
    try:
        await world.db.execute(statement, victim)
    finally:
        await world.db.execute("SET session_replication_role = DEFAULT")
    return auditor, victim


async def test_verify_finds_an_edited_event(world: World) -> None:
    auditor, victim = await tampered(
        world, """UPDATE audit_event SET details = '{"reason": "nothing to see"}'::jsonb WHERE id = $1"""
    )

    response = await auditor.get("/api/audit/verify")

    body = response.json()
    assert response.status_code == 200
    assert body["ok"] is False
    assert body["first_bad_event"] == victim


async def test_verify_finds_a_deleted_event(world: World) -> None:
    auditor, victim = await tampered(world, "DELETE FROM audit_event WHERE id = $1")
    following = await world.db.fetchval("SELECT min(id) FROM audit_event WHERE id > $1", victim)

    body = (await auditor.get("/api/audit/verify")).json()

    assert body["ok"] is False
    assert body["first_bad_event"] == following


async def test_verify_finds_an_event_moved_to_the_front_of_the_chain(world: World) -> None:
    auditor, victim = await tampered(world, "UPDATE audit_event SET seq = 0 WHERE id = $1")

    body = (await auditor.get("/api/audit/verify")).json()

    assert body["ok"] is False
    assert body["first_bad_event"] == victim
    assert body["reason"] == "chain position 1 is missing"


async def test_the_audit_log_pages_newest_first_with_a_cursor(world: World) -> None:
    auditor = await world.signin(await world.user("aud", "auditor"))
    for _ in range(6):
        await world.client().post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
    expected = [r["id"] for r in await world.db.fetch("SELECT id FROM audit_event ORDER BY id DESC")]

    seen: list[int] = []
    pages = 0
    cursor: str | None = None
    while True:
        params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        response = await auditor.get("/api/audit", params=params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 3
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == expected
    assert pages >= 3
    first = (await auditor.get("/api/audit", params={"limit": "1"})).json()["items"][0]
    assert first["action"] == "auth.login"
    assert first["details"] == {"reason": "unknown username"}


async def test_a_bad_cursor_or_limit_is_refused(world: World) -> None:
    auditor = await world.signin(await world.user("aud", "auditor"))

    assert (await auditor.get("/api/audit", params={"cursor": "abc"})).status_code == 400
    assert (await auditor.get("/api/audit", params={"limit": "0"})).status_code == 400
    assert (await auditor.get("/api/audit", params={"limit": "501"})).status_code == 400


async def test_only_auditors_read_or_verify_the_log(world: World) -> None:
    detective = await world.signin(await world.user("dana", "detective"))
    admin = await world.signin(await world.user("ada", "administrator"))

    answers = [
        await detective.get("/api/audit"),
        await detective.get("/api/audit/verify"),
        await admin.get("/api/audit"),
        await admin.get("/api/audit/verify"),
        await world.client().get("/api/audit"),
    ]

    assert [r.status_code for r in answers] == [403, 403, 403, 403, 401]
    assert len(await world.events("access.denied")) == 4


async def test_no_password_code_or_token_reaches_the_audit_log(world: World) -> None:
    secrets_used: list[str] = []
    ada = await world.user("ada", "administrator")
    admin = await world.signin(ada)
    secrets_used += [ada.password, admin.cookies["registry_session"]]

    # A failed password and a failed code.
    wrong_password = "definitely the wrong password"
    dana = await world.user("dana", "detective")
    client = world.client()
    await client.post("/api/auth/login", json={"username": "dana", "password": wrong_password})
    await client.post("/api/auth/login", json={"username": "nobody at all", "password": wrong_password})
    await client.post("/api/auth/login", json={"username": "dana", "password": dana.password})
    bad_code = world.wrong_code(dana)
    await client.post("/api/auth/mfa", json={"code": bad_code})
    good_code = world.code(dana)
    await client.post("/api/auth/mfa", json={"code": good_code})
    secrets_used += [wrong_password, bad_code, good_code, client.cookies["registry_session"]]

    # A user created through the API, confirmed by a commander, enrolled with the code she
    # handed over, signed in with a recovery code, with the temporary password replaced.
    new_password = "copper lantern meadow forty"
    body = {"username": "bob", "display_name": "Bob", "roles": ["detective"], "password": new_password}
    grant = await admin.post("/api/users", json=body)
    assert grant.status_code == 202
    cora_person = await world.user("cora", "commander")
    cora = await world.signin(cora_person)
    cora_code = world.code(cora_person)
    confirmed = await cora.post(f"/api/role-grants/{grant.json()['id']}/confirm", json={"totp_code": cora_code})
    enrollment_code = confirmed.json()["enrollment"]["enrollment_code"]
    bob = world.client()
    await bob.post("/api/auth/login", json={"username": "bob", "password": new_password})
    secret = (await bob.post("/api/auth/mfa/enroll")).json()["secret"]
    code = pyotp.TOTP(secret).at(world.clock.now())
    enrolled = await bob.post("/api/auth/mfa/enroll/confirm", json={"code": code, "enrollment_code": enrollment_code})
    recovery = enrolled.json()["recovery_codes"]
    other = world.client()
    await other.post("/api/auth/login", json={"username": "bob", "password": new_password})
    assert (await other.post("/api/auth/recovery", json={"code": recovery[0]})).status_code == 200
    own_password = "quiet harbor pebble sixteen"
    world.clock.advance(timedelta(seconds=30))
    change_code = pyotp.TOTP(secret).at(world.clock.now())
    change = {"current_password": new_password, "new_password": own_password, "totp_code": change_code}
    assert (await other.post("/api/me/password", json=change)).status_code == 204
    secrets_used += [new_password, secret, code, *recovery, *(c.replace("-", "") for c in recovery)]
    secrets_used += [cora_code, enrollment_code, enrollment_code.replace("-", ""), own_password, change_code]
    assert dana.secret is not None
    secrets_used.append(dana.secret)

    rows = await world.db.fetch("SELECT (to_jsonb(e) - 'hash' - 'prev_hash')::text AS text FROM audit_event e")

    assert len(rows) >= 10
    text = "\n".join(r["text"] for r in rows)
    leaked = [s for s in secrets_used if s in text]
    assert leaked == []


async def test_a_malformed_cursor_is_a_400(world: World) -> None:
    auditor = await world.signin(await world.user("aud", "auditor"))
    for cursor in ("\u00b2", "99999999999999999999999", "abc"):
        assert (await auditor.get("/api/audit", params={"cursor": cursor})).status_code == 400

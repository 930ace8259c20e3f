"""Lockouts as a stranger or a careless insider would meet them: a lock stops new sign-ins but
signs no one out of work; one address cannot run through the accounts' attempts; a wrong code
on an approval is refused without ending the session (issue 11.10, 11.11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registry.errors import ConfigurationError
from registry.policy import load_policy
from tests.harness import POLICY, World, details
from tests.personas.helpers import open_investigation

STRANGER = "203.0.113.66"


def _policy(tmp_path: Path, old: str, new: str) -> Path:
    text = POLICY.read_text()
    assert old in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, new))
    return path


async def test_five_anonymous_wrong_passwords_lock_new_sign_ins_but_end_no_working_session(world: World) -> None:
    dana = await world.user("dana", "detective")
    at_work = await world.signin(dana)
    half_way = world.client()
    assert (
        await half_way.post("/api/auth/login", json={"username": "dana", "password": dana.password})
    ).status_code == 200

    stranger = world.client(STRANGER)
    for _ in range(5):
        assert (
            await stranger.post("/api/auth/login", json={"username": "dana", "password": "a wrong guess"})
        ).status_code == 401

    assert len(await world.events("auth.account.locked")) == 1
    assert (await at_work.get("/api/me")).status_code == 200
    assert (
        await at_work.post(
            "/api/investigations",
            json={
                "case_number": "2026-0001",
                "title": "t",
                "purpose": "p",
                "necessity": "n",
                "proportionality": "p",
                "collateral_intrusion": "c",
            },
        )
    ).status_code == 201
    # New sign-ins are stopped, and one still owing its code is over.
    assert (
        await world.client().post("/api/auth/login", json={"username": "dana", "password": dana.password})
    ).status_code == 401
    assert (await half_way.post("/api/auth/mfa", json={"code": world.code(dana)})).status_code == 401


async def test_one_address_cannot_run_through_the_attempts_of_every_account(database_url: str, tmp_path: Path) -> None:
    policy = _policy(tmp_path, "address_attempt_limit = 50", "address_attempt_limit = 6")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    async with World.open(database_url, tmp_path, start, policy_path=policy) as world:
        people = [await world.user(name, "detective") for name in ("dana", "erin", "finn")]
        stranger = world.client(STRANGER)
        answers = [
            await stranger.post("/api/auth/login", json={"username": p.username, "password": f"wrong guess {i}"})
            for i in range(3)
            for p in people
        ]

        assert [a.status_code for a in answers] == [401] * 6 + [429] * 3
        refused = answers[-1]
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) == 15 * 60
        assert "network address" in refused.json()["detail"]
        # Refused unchecked: the accounts were not charged, and none locked.
        failures = await world.db.fetch("SELECT username, failed_attempts, locked_at FROM users ORDER BY username")
        assert [(r["username"], r["failed_attempts"], r["locked_at"]) for r in failures] == [
            ("dana", 2, None),
            ("erin", 2, None),
            ("finn", 2, None),
        ]
        # Even the right password is refused from that address; from the office it works.
        right = {"username": "dana", "password": people[0].password}
        assert (await stranger.post("/api/auth/login", json=right)).status_code == 429
        assert (await world.client().post("/api/auth/login", json=right)).status_code == 200
        kept = await world.db.fetchrow("SELECT failures FROM signin_address_attempts WHERE address = $1", STRANGER)
        assert kept["failures"] == 6
        reasons = [details(e)["reason"] for e in await world.events("auth.login")]
        assert reasons.count("address limit") == 4

        world.clock.advance(timedelta(minutes=16))  # address_window_minutes = 15
        assert (await stranger.post("/api/auth/login", json=right)).status_code == 200


async def test_right_passwords_give_their_address_attempt_back(database_url: str, tmp_path: Path) -> None:
    """An office behind one address signs in all day: only failures count."""
    policy = _policy(tmp_path, "address_attempt_limit = 50", "address_attempt_limit = 5")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    async with World.open(database_url, tmp_path, start, policy_path=policy) as world:
        dana = await world.user("dana", "detective")
        office = world.client()
        for _ in range(12):
            assert (
                await office.post("/api/auth/login", json={"username": "dana", "password": dana.password})
            ).status_code == 200
        assert await world.db.fetchval("SELECT failures FROM signin_address_attempts") == 0


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("address_attempt_limit = 50", "address_attempt_limit = 2", "security.address_attempt_limit"),
        ("address_window_minutes = 15", "address_window_minutes = 0", "security.address_window_minutes"),
        ('confirms_accounts = "commander"', 'confirms_accounts = "administrator"', "security.confirms_accounts"),
        ("enrollment_code_hours = 72", "enrollment_code_hours = 0", "security.enrollment_code_hours"),
    ],
)
def test_the_new_security_settings_are_validated(tmp_path: Path, old: str, new: str, key: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        load_policy(_policy(tmp_path, old, new))


async def test_a_wrong_approval_code_is_not_accepted_and_the_session_stands(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    alex_person = await world.user("alex", "authorizing_official")
    alex = await world.signin(alex_person)
    inv = await open_investigation(dana)

    wrong = await alex.post(f"/api/investigations/{inv}/authorize", json={"totp_code": world.wrong_code(alex_person)})

    assert wrong.status_code == 403
    assert wrong.json()["title"] == "Code not accepted"
    assert "code" in wrong.json()["detail"]
    assert wrong.json()["field"] == "code"
    assert (await alex.get("/api/me")).status_code == 200
    right = await alex.post(f"/api/investigations/{inv}/authorize", json={"totp_code": world.code(alex_person)})
    assert right.status_code == 200


async def test_a_right_code_starts_the_count_of_failures_afresh(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    alex_person = await world.user("alex", "authorizing_official")
    alex = await world.signin(alex_person)

    async def attempts(count: int) -> None:
        for _ in range(count):
            inv = await open_investigation(dana)
            wrong = world.wrong_code(alex_person)
            assert (
                await alex.post(f"/api/investigations/{inv}/authorize", json={"totp_code": wrong})
            ).status_code == 403

    await attempts(4)
    assert await world.db.fetchval("SELECT failed_attempts FROM users WHERE id = $1", alex_person.id) == 4
    inv = await open_investigation(dana)
    assert (
        await alex.post(f"/api/investigations/{inv}/authorize", json={"totp_code": world.code(alex_person)})
    ).status_code == 200
    assert await world.db.fetchval("SELECT failed_attempts FROM users WHERE id = $1", alex_person.id) == 0
    await attempts(4)  # four more: still under the threshold of five
    row = await world.db.fetchrow("SELECT failed_attempts, locked_at FROM users WHERE id = $1", alex_person.id)
    assert (row["failed_attempts"], row["locked_at"]) == (4, None)

"""Accounts old enough to use: a profile created last week is the first thing a platform or a
target notices, so the policy sets a minimum age on the site before the persona goes into use."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import POLICY, World
from tests.lifecycle.setup import prepare


def _policy(tmp_path, extra: str, warming_days: int = 0):
    path = tmp_path / "policy.toml"
    text = POLICY.read_text().replace("account_minimum_age_days = 0", extra)
    path.write_text(text.replace("warming_interval_days = 0", f"warming_interval_days = {warming_days}"))
    return path


async def _age(r, world) -> dict:
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    return next(c for c in gate["conditions"] if c["condition"] == "account_old_enough")


async def test_a_young_account_keeps_the_gate_closed_naming_the_day_it_opens(world, database_url, tmp_path):
    policy = _policy(tmp_path, 'account_minimum_age_days = 30\naccount_minimum_age_by_platform = { "facebook" = 45 }')
    async with World.open(database_url, tmp_path / "w", world.clock.now(), policy_path=policy) as w:
        r = await prepare(w)
        unknown = await _age(r, w)
        assert unknown["met"] is False
        assert "record when the account on facebook was created" in unknown["detail"].lower()

        today = w.clock.now().date()
        patched = await r.t.dana.patch(
            f"/api/accounts/{r.account_id}", json={"created_on": (today - timedelta(days=40)).isoformat()}
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["created_on"] == (today - timedelta(days=40)).isoformat()

        young = await _age(r, w)
        assert young["met"] is False
        # Facebook's own minimum (45 days) overrides the default (30).
        assert f"may be used from {(today + timedelta(days=5)).isoformat()}" in young["detail"]
        refused = await r.t.dana.post(f"/api/personas/{r.pid}/activate")
        assert refused.status_code == 409
        assert [u["condition"] for u in refused.json()["unmet"]] == ["account_old_enough"]

        w.clock.advance(timedelta(days=5))
        await w.signin(r.t.detective, r.t.dana)
        assert (await _age(r, w))["met"] is True
        assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200


async def test_a_creation_day_in_the_future_or_by_someone_else_is_refused(world, database_url, tmp_path):
    r = await prepare(world)
    tomorrow = (world.clock.now().date() + timedelta(days=1)).isoformat()

    future = await r.t.dana.patch(f"/api/accounts/{r.account_id}", json={"created_on": tomorrow})
    other = await r.t.sam.patch(f"/api/accounts/{r.account_id}", json={"created_on": "2026-01-01"})

    assert future.status_code == 422
    assert future.json()["field"] == "created_on"
    assert other.status_code in (403, 404)


async def test_a_dormant_persona_is_warmed_before_its_accounts_are_old_enough(world, database_url, tmp_path):
    policy = _policy(tmp_path, "account_minimum_age_days = 30", warming_days=7)
    async with World.open(database_url, tmp_path / "w", world.clock.now(), policy_path=policy) as w:
        r = await prepare(w)
        today = w.clock.now().date()
        await r.t.dana.patch(f"/api/accounts/{r.account_id}", json={"created_on": today.isoformat()})
        listed = (await r.t.dana.get("/api/personas")).json()["items"]
        assert listed[0]["warming_due_on"] == (today + timedelta(days=7)).isoformat()

        w.clock.advance(timedelta(days=5))
        await w.signin(r.t.detective, r.t.dana)
        entry = {
            "occurred_at": w.clock.now().isoformat(),
            "platform_id": r.platform_id,
            "equipment_id": r.device_id,
            "summary": "Liked two posts in a local gardening group.",
        }
        # Operational use waits for the account's age; warming does not.
        used = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry)
        assert used.status_code == 409
        assert [u["condition"] for u in used.json()["unmet"]] == ["account_old_enough"]
        warmed = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry | {"warming": True})
        assert warmed.status_code == 201, warmed.text
        assert warmed.json()["warming"] is True

        # The plan counts from the last activity: due again a week after the warming.
        listed = (await r.t.dana.get("/api/personas")).json()["items"]
        assert listed[0]["warming_due_on"] == (today + timedelta(days=12)).isoformat()


async def test_warming_is_still_a_use_of_isolated_equipment(world):
    r = await prepare(world, skip=("assign",))
    entry = {
        "occurred_at": world.clock.now().isoformat(),
        "platform_id": r.platform_id,
        "equipment_id": r.device_id,
        "summary": "Warming.",
        "warming": True,
    }

    refused = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry)

    assert refused.status_code == 409
    assert "isolated_equipment" in [u["condition"] for u in refused.json()["unmet"]]

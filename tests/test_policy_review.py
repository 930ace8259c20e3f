"""The policy in force is part of every decision (003's header leaves its version and
effective date blank), and 002 II's annual review is not forgotten."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import POLICY, World
from tests.personas.helpers import approved_persona, team


async def test_once_the_review_date_passes_administrators_and_legal_are_reminded_once(world, database_url, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.read_text().replace("review_due_on = 2027-01-01", "review_due_on = 2026-03-12"))
    async with World.open(database_url, tmp_path / "w", world.clock.now(), policy_path=policy) as w:
        ada = await w.user("ada", "administrator")
        lee = await w.user("lee", "legal")
        await w.user("dana", "detective")

        assert (await w.jobs()).policy_reminders == 0
        w.clock.advance(timedelta(days=10))
        assert (await w.jobs()).policy_reminders == 2
        assert (await w.jobs()).policy_reminders == 0

        rows = await w.db.fetch("SELECT recipient_id, subject FROM outbox WHERE kind = 'policy_review'")
        assert {r["recipient_id"] for r in rows} == {ada.id, lee.id}
        assert all("2026.1" in r["subject"] for r in rows)


async def test_every_approval_records_the_policy_version_and_the_central_record_shows_it(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    auditor = await world.signin(await world.user("ava", "auditor"))

    history = (await t.dana.get(f"/api/personas/{persona['id']}")).json()["history"]
    record = (await auditor.get("/api/central-record")).json()["items"]

    assert next(h for h in history if h["action"] == "approve")["details"]["policy_version"] == "2026.1"
    [row] = [r for r in record if r["codename"] == persona["codename"]]
    assert row["approvals"][0]["policy_version"] == "2026.1"

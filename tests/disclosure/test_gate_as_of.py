"""The gate's state on each activity date: the conditions judged on the facts as they stood
then, not as they stand at export."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.disclosure.helpers import entry, export, files, worked_case
from tests.lifecycle.setup import inspect, later, prepare
from tests.personas.helpers import approved_persona


def conditions_of(item):
    return {c["condition"]: c for c in item["gate"]["conditions"]}


async def test_an_entry_dated_before_the_terms_were_acknowledged_shows_that_condition_unmet(world):
    r = await prepare(world, skip=("acknowledge",))
    await later(r, timedelta(hours=2))
    response = await r.t.dana.post(f"/api/personas/{r.pid}/tos-acknowledgements", json={"platform_id": r.platform_id})
    assert response.status_code == 201, response.text
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry(r))).status_code == 201
    # A late note of something done an hour before the acknowledgement.
    early = (world.clock.now() - timedelta(hours=1)).isoformat()
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry(r, occurred_at=early))
    assert response.status_code == 201, response.text

    auditor = await world.signin(await world.user("audrey", "auditor"))
    report = json.loads(files((await export(auditor, persona_id=r.pid)).content)["report.json"])
    [persona] = report["personas"]
    first, current = persona["activity"]
    assert first["gate"]["ready"] is False
    unmet = {name for name, c in conditions_of(first).items() if not c["met"]}
    assert unmet == {"terms_of_service"}
    assert conditions_of(first)["terms_of_service"]["detail"].startswith("Acknowledge the current terms")
    assert current["gate"]["ready"] is True
    # Recorded afterwards, once they all held: the registry checked them then.
    assert first["gate_when_recorded"]["ready"] is True


async def test_a_later_lapse_does_not_rewrite_the_days_the_rules_held(world):
    """Export after the device's inspection failed: the earlier entries still show it passing."""
    case = await worked_case(world)
    r = case.r
    assert (await inspect(r.equipment, r.device_id, passing=False)).status_code == 201
    report = json.loads(files((await export(case.auditor, persona_id=r.pid)).content)["report.json"])
    [persona] = report["personas"]
    assert all(conditions_of(a)["isolated_equipment"]["met"] for a in persona["activity"])
    [device] = persona["equipment"]
    assert [i["passed"] for i in device["inspections"]] == [True, False]


async def test_a_persona_pack_carries_that_persona_only(world):
    case = await worked_case(world)
    other = await approved_persona(case.r.t, "Quinn Harlow")
    persona_pack = json.loads(files((await export(case.auditor, persona_id=case.r.pid)).content)["report.json"])
    case_pack = json.loads(
        files((await export(case.auditor, investigation_id=case.r.t.investigation_id)).content)["report.json"]
    )

    assert [p["codename"] for p in persona_pack["personas"]] == [case.r.persona["codename"]]
    assert persona_pack["subject"] == {
        "kind": "persona",
        "case_number": case_pack["investigation"]["case_number"],
        "codename": case.r.persona["codename"],
    }
    assert sorted(p["codename"] for p in case_pack["personas"]) == sorted(
        [case.r.persona["codename"], other["codename"]]
    )
    other_events = {e["target_id"] for e in persona_pack["audit_events"]}
    assert str(other["id"]) not in other_events


async def test_a_declined_account_is_in_the_pack_with_its_decision(world):
    r = await prepare(world, skip=("authorize_account",))
    response = await r.t.alex.post(
        f"/api/accounts/{r.account_id}/decline",
        json={"reason": "The handle echoes a real resident's name.", "totp_code": world.code(r.t.official)},
    )
    assert response.status_code == 200, response.text
    auditor = await world.signin(await world.user("audrey", "auditor"))
    report = json.loads(files((await export(auditor, persona_id=r.pid)).content)["report.json"])
    [account] = report["personas"][0]["accounts"]
    assert (account["status"], account["declined_by"]) == ("declined", "alex")
    assert account["decline_audit"]["action"] == "account.decline"
    declined = next(h for h in report["personas"][0]["history"] if h["action"] == "account_declined")
    assert declined["audit"]["action"] == "account.decline"

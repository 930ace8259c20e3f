"""The activation gate: every condition reported with its clause and what to do; activation
only when all hold (DESIGN: persona lifecycle; 003 IV.B.1-4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.lifecycle.setup import inspect, later, prepare

CONDITIONS = [
    "approved",
    "investigation_authorized",
    "accounts_authorized",
    "account_old_enough",
    "isolated_equipment",
    "terms_of_service",
    "conduct_review_scheduled",
]


async def test_with_every_condition_met_the_persona_activates(world):
    r = await prepare(world)
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    assert gate["ready"] is True, gate
    assert [c["condition"] for c in gate["conditions"]] == CONDITIONS
    # Every condition names its clause; the account age is the department's own rule.
    assert all(
        c["clause"].startswith("003 IV.B") or c["clause"].startswith("department policy") for c in gate["conditions"]
    )

    response = await r.t.dana.post(f"/api/personas/{r.pid}/activate")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"
    assert len(await world.events("persona.activate")) == 1


@pytest.mark.parametrize(
    ("skip", "unmet", "hint"),
    [
        (("authorize_account",), "accounts_authorized", "authorizing official"),
        (("inspect",), "isolated_equipment", "isolation inspection"),
        (("tos_review",), "terms_of_service", "ask legal"),
        (("acknowledge",), "terms_of_service", "acknowledge"),
    ],
)
async def test_one_missing_condition_is_named_alone_with_what_to_do(world, skip, unmet, hint):
    r = await prepare(world, skip=skip)
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activate")
    assert response.status_code == 409, response.text
    body = response.json()
    assert [u["condition"] for u in body["unmet"]] == [unmet]
    assert hint in body["unmet"][0]["detail"].lower()
    assert body["unmet"][0]["clause"].startswith("003 IV.B")
    # Nothing changed.
    assert (await r.t.dana.get(f"/api/personas/{r.pid}")).json()["status"] == "approved"


async def test_a_draft_persona_reports_every_unmet_condition(world):
    from tests.personas.helpers import request_persona, team

    t = await team(world)
    created = await request_persona(t.dana, t.investigation_id)
    response = await t.dana.post(f"/api/personas/{created['id']}/activate")
    assert response.status_code == 409
    unmet = {u["condition"] for u in response.json()["unmet"]}
    assert unmet == {
        "approved",
        "accounts_authorized",
        "isolated_equipment",
        "terms_of_service",
        "conduct_review_scheduled",
    }


async def test_only_the_handler_activates(world):
    r = await prepare(world)
    response = await r.t.sam.post(f"/api/personas/{r.pid}/activate")
    assert response.status_code == 403


async def test_an_expired_inspection_is_reported_by_the_gate(world):
    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    await later(r, timedelta(days=91))  # policy: inspections valid 90 days
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    assert gate["ready"] is False
    equipment = next(c for c in gate["conditions"] if c["condition"] == "isolated_equipment")
    assert equipment["met"] is False
    assert "isolation inspection of" in equipment["detail"] and "expired on" in equipment["detail"]
    # A new passing inspection puts it right.
    assert (await inspect(r.equipment, r.device_id)).status_code == 201
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    assert next(c for c in gate["conditions"] if c["condition"] == "isolated_equipment")["met"] is True


async def test_an_expired_approval_blocks_activation_until_renewed(world):
    r = await prepare(world)
    await later(r, timedelta(days=181))
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activate")
    assert response.status_code == 409
    assert "approved" in [u["condition"] for u in response.json()["unmet"]]


async def test_a_newer_tos_review_invalidates_the_acknowledgement(world):
    from tests.lifecycle.setup import review_terms

    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    history = f"/api/platforms/{r.platform_id}/tos-reviews"
    assert (await r.legal.get(history)).json()["blocks"] == []
    await later(r, timedelta(days=1))
    await review_terms(world, r.legal, r.platform_id, version="2026-02")
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    tos = next(c for c in gate["conditions"] if c["condition"] == "terms_of_service")
    assert tos["met"] is False and "acknowledge" in tos["detail"].lower()
    # Legal is told which active personas the new review stops; the earlier review stays listed.
    reviews = (await r.legal.get(history)).json()
    assert reviews["blocks"] == [r.persona["codename"]]
    assert [i["tos_version"] for i in reviews["items"]] == ["2026-02", "2026-01"]
    assert (await r.t.dana.get(history)).json()["blocks"] is None  # codenames across units are legal's only
    ack = await r.t.dana.post(f"/api/personas/{r.pid}/tos-acknowledgements", json={"platform_id": r.platform_id})
    assert ack.status_code == 201
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    assert gate["ready"] is True
    assert (await r.legal.get(history)).json()["blocks"] == []


async def test_a_stale_tos_review_is_reported_and_cannot_be_acknowledged(world):
    r = await prepare(world)
    await later(r, timedelta(days=366))
    platforms = (await r.legal.get("/api/platforms")).json()["items"]
    assert platforms[0]["current_review"]["stale"] is True
    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    tos = next(c for c in gate["conditions"] if c["condition"] == "terms_of_service")
    assert tos["met"] is False and "stale" in tos["detail"]
    ack = await r.t.dana.post(f"/api/personas/{r.pid}/tos-acknowledgements", json={"platform_id": r.platform_id})
    assert ack.status_code == 409


async def test_outsiders_get_404_on_the_gate(world):
    r = await prepare(world)
    stranger = await world.user("omar", "detective")
    client = await world.signin(stranger)
    assert (await client.get(f"/api/personas/{r.pid}/gate")).status_code == 404
    assert (await client.post(f"/api/personas/{r.pid}/activate")).status_code == 404


async def test_the_persona_list_reports_what_an_active_persona_no_longer_meets(world):
    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    item = (await r.t.dana.get("/api/personas")).json()["items"][0]
    assert item["status"] == "active" and item["lapsed"] == []
    assert item["next_review_due"] == (world.clock.now().date() + timedelta(days=30)).isoformat()
    await later(r, timedelta(days=91))
    item = (await r.t.dana.get("/api/personas")).json()["items"][0]
    assert "isolated_equipment" in item["lapsed"]
    assert "conduct_review_scheduled" in item["lapsed"]


async def test_a_suspended_persona_goes_back_into_use_only_through_the_gate(world):
    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    assert (await r.t.sam.post(f"/api/personas/{r.pid}/suspend", json={"reason": "Checking."})).status_code == 200
    await later(r, timedelta(days=91))  # the inspection has expired meanwhile
    response = await r.t.sam.post(f"/api/personas/{r.pid}/resume", json={"reason": "Checked."})
    assert response.status_code == 409
    assert "isolated_equipment" in [u["condition"] for u in response.json()["unmet"]]
    assert (await r.t.dana.get(f"/api/personas/{r.pid}")).json()["status"] == "suspended"


async def test_a_handed_over_persona_has_a_review_scheduled_for_its_new_handler(world):
    r = await prepare(world)
    erin = await world.user("erin", "detective")
    handed = await r.t.sam.post(
        f"/api/personas/{r.pid}/handover", json={"to_user_id": str(erin.id), "reason": "Dana transferred."}
    )
    assert handed.status_code == 200, handed.text
    erin_client = await world.signin(erin)
    gate = (await erin_client.get(f"/api/personas/{r.pid}/gate")).json()
    review = next(c for c in gate["conditions"] if c["condition"] == "conduct_review_scheduled")
    assert review["met"] is True

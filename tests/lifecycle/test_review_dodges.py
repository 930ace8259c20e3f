"""A missed conduct review cannot be dodged (003 IV.B.4): no edit, re-approval, renewal,
handover, or retiring and requesting again clears or postpones it; only holding it does."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import World
from tests.lifecycle.setup import Ready, later, prepare
from tests.personas.helpers import identity, request_persona
from tests.reviews.helpers import calendar, commander, move_on


async def _overdue(world: World) -> tuple[Ready, dict]:
    """An active persona whose review (due 2026-04-01) was missed and enforced by the sweep."""
    cora, cora_client = await commander(world)
    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    await move_on(r, cora, cora_client, timedelta(days=38))  # due + 7 days of grace has passed
    assert (await world.jobs()).suspended == 1
    [review] = await calendar(cora_client)
    assert review["status"] == "overdue"
    return r, review


async def _review_of(client, review_id: str) -> dict:
    response = await client.get(f"/api/reviews/{review_id}")
    assert response.status_code == 200, response.text
    review: dict = response.json()["review"]
    return review


async def test_edit_reapprove_and_activate_does_not_clear_an_overdue_review(world):
    r, review = await _overdue(world)

    edited = await r.t.dana.patch(f"/api/personas/{r.pid}", json={"identity": identity(location="Tacoma, WA")})
    assert edited.status_code == 200, edited.text
    # The suspension holds; the change waits for approval once it is lifted.
    assert edited.json()["status"] == "suspended"
    approve = await r.t.sam.post(f"/api/personas/{r.pid}/approve", json={"totp_code": r.t.world.code(r.t.supervisor)})
    assert approve.status_code == 409
    activate = await r.t.dana.post(f"/api/personas/{r.pid}/activate")
    assert activate.status_code == 409
    resume = await r.t.sam.post(f"/api/personas/{r.pid}/resume", json={"reason": "edited"})
    assert resume.status_code == 409
    assert [u["condition"] for u in resume.json()["unmet"]] == ["conduct_review_scheduled"]

    after = await _review_of(r.t.sam, review["id"])
    assert after["status"] == "overdue"
    assert after["due_on"] == review["due_on"]
    assert (await r.t.dana.get(f"/api/personas/{r.pid}")).json()["status"] == "suspended"


async def test_an_edit_of_an_approved_persona_keeps_its_review_schedule(world):
    r = await prepare(world)
    [before] = await calendar(r.t.dana)

    edited = await r.t.dana.patch(f"/api/personas/{r.pid}", json={"identity": identity(location="Tacoma, WA")})
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "submitted"
    await later(r, timedelta(days=20))
    approve = await r.t.sam.post(f"/api/personas/{r.pid}/approve", json={"totp_code": r.t.world.code(r.t.supervisor)})
    assert approve.status_code == 200, approve.text

    [after] = await calendar(r.t.dana)
    assert after["id"] == before["id"]
    assert after["due_on"] == before["due_on"] == "2026-04-01"


async def test_renewal_does_not_postpone_an_overdue_review(world):
    r, review = await _overdue(world)

    renew = await r.t.sam.post(f"/api/personas/{r.pid}/renew", json={"totp_code": r.t.world.code(r.t.supervisor)})
    assert renew.status_code == 200, renew.text

    after = await _review_of(r.t.sam, review["id"])
    assert after["status"] == "overdue" and after["due_on"] == review["due_on"]
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 409


async def test_retiring_and_requesting_again_in_the_same_investigation_keeps_the_review_overdue(world):
    r, review = await _overdue(world)

    assert (await r.t.dana.post(f"/api/personas/{r.pid}/retire", json={"reason": "start over"})).status_code == 200
    created = await request_persona(r.t.dana, r.t.investigation_id, "Morgan Vale")
    assert (await r.t.dana.post(f"/api/personas/{created['id']}/submit")).status_code == 200
    approve = await r.t.sam.post(
        f"/api/personas/{created['id']}/approve", json={"totp_code": r.t.world.code(r.t.supervisor)}
    )
    assert approve.status_code == 200, approve.text

    after = await _review_of(r.t.sam, review["id"])
    assert after["status"] == "overdue"
    assert after["due_on"] == review["due_on"]
    gate = (await r.t.dana.get(f"/api/personas/{created['id']}/gate")).json()
    review_condition = next(c for c in gate["conditions"] if c["condition"] == "conduct_review_scheduled")
    assert review_condition["met"] is False


async def test_a_handover_carries_the_overdue_review_to_the_new_handler(world):
    r, review = await _overdue(world)
    erin = await world.user("erin", "detective")

    handover = await r.t.sam.post(
        f"/api/personas/{r.pid}/handover", json={"to_user_id": str(erin.id), "reason": "reassigned"}
    )
    assert handover.status_code == 200, handover.text

    gate = (await r.t.sam.get(f"/api/personas/{r.pid}/gate")).json()
    review_condition = next(c for c in gate["conditions"] if c["condition"] == "conduct_review_scheduled")
    assert review_condition["met"] is False
    # The missed review of the former handler is still on the calendar, to be held.
    assert (await _review_of(r.t.sam, review["id"]))["status"] == "overdue"


async def test_holding_the_review_is_what_lifts_it(world):
    r, review = await _overdue(world)
    _, cora_client = await commander(world, "cora2")
    response = await cora_client.post(
        f"/api/reviews/{review['id']}/complete",
        json={
            "held_on": world.clock.now().date().isoformat(),
            "attendees": [review["handler"]["id"]],
            "notes": "Late, but held.",
            "outcome": "continue",
        },
    )
    assert response.status_code == 200, response.text
    resume = await r.t.sam.post(f"/api/personas/{r.pid}/resume", json={"reason": "review held"})
    assert resume.status_code == 200, resume.text

"""Refusals are decisions too: the authorizing official refuses an investigation's use of false
identities, or declines a site or profile, each with a reason and a fresh code; the refused
request is closed, and nothing can be built on it."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import World
from tests.lifecycle.setup import later, prepare
from tests.personas.helpers import identity, open_investigation, team


async def test_a_refused_investigation_is_closed_with_its_reason_and_takes_no_persona(world: World) -> None:
    t = await team(world)
    inv = await open_investigation(t.dana)

    refused = await t.alex.post(
        f"/api/investigations/{inv}/refuse",
        json={"reason": "Proportionality not shown: use open sources first.", "totp_code": world.code(t.official)},
    )

    assert refused.status_code == 200, refused.text
    shown = (await t.dana.get(f"/api/investigations/{inv}")).json()
    assert shown["status"] == "refused"
    assert shown["refusal_reason"] == "Proportionality not shown: use open sources first."
    assert shown["refused_by"] == "alex"
    persona = await t.dana.post("/api/personas", json={"investigation_id": inv, "identity": identity()})
    assert persona.status_code == 409
    assert "refused" in persona.json()["detail"]
    again = await t.alex.post(f"/api/investigations/{inv}/authorize", json={"totp_code": world.code(t.official)})
    assert again.status_code == 409
    assert len(await world.events("investigation.refuse")) == 1


async def test_nobody_refuses_their_own_investigation_audited_or_a_current_authorization(world: World) -> None:
    t = await team(world)
    both = await world.user("bo", "detective", "authorizing_official")
    bo = await world.signin(both)
    inv = await open_investigation(bo)

    own = await bo.post(f"/api/investigations/{inv}/refuse", json={"reason": "Mine.", "totp_code": world.code(both)})
    current = await t.alex.post(
        f"/api/investigations/{t.investigation_id}/refuse",
        json={"reason": "Changed my mind.", "totp_code": world.code(t.official)},
    )

    assert own.status_code == 403
    [event] = await world.events("investigation.refuse")
    assert event["outcome"] == "denied"
    assert await world.db.fetchval("SELECT status FROM investigations WHERE id = $1", inv) != "refused"
    assert current.status_code == 409


async def test_refusing_the_renewal_of_a_lapsed_investigation_stops_its_personas(world: World) -> None:
    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    await world.db.execute(
        "UPDATE investigations SET authorized_until = $1 WHERE id = $2",
        world.clock.now() + timedelta(days=2),
        r.t.investigation_id,
    )
    await later(r, timedelta(days=3))

    refused = await r.t.alex.post(
        f"/api/investigations/{r.t.investigation_id}/refuse",
        json={"reason": "The case no longer justifies it.", "totp_code": world.code(r.t.official)},
    )
    assert refused.status_code == 200, refused.text

    gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
    condition = next(c for c in gate["conditions"] if c["condition"] == "investigation_authorized")
    assert condition["met"] is False and "refused" in condition["detail"]
    assert (await world.jobs()).lapse_suspended == 1


async def test_a_declined_account_is_closed_and_cannot_be_authorized_later(world: World) -> None:
    r = await prepare(world, skip=("authorize_account",))

    declined = await r.t.alex.post(
        f"/api/accounts/{r.account_id}/decline",
        json={"reason": "This site's terms forbid it outright.", "totp_code": world.code(r.t.official)},
    )

    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    later_on = await r.t.alex.post(
        f"/api/accounts/{r.account_id}/authorize", json={"totp_code": world.code(r.t.official)}
    )
    assert later_on.status_code == 409
    assert "new request" in later_on.json()["detail"]
    history = (await r.t.dana.get(f"/api/personas/{r.pid}")).json()["history"]
    entry = next(h for h in history if h["action"] == "account_declined")
    assert entry["details"]["reason"] == "This site's terms forbid it outright."
    assert entry["actor"] == "alex"


async def test_the_handler_cannot_decline_their_own_account(world: World) -> None:
    r = await prepare(world, skip=("authorize_account",))

    response = await r.t.dana.post(
        f"/api/accounts/{r.account_id}/decline", json={"reason": "Never mind.", "totp_code": world.code(r.t.detective)}
    )

    assert response.status_code == 403


async def test_an_official_declining_an_account_of_their_own_is_refused_and_audited(world: World) -> None:
    r = await prepare(world, skip=("authorize_account",))
    both = await world.user("bo", "detective", "authorizing_official")
    bo = await world.signin(both)
    added = await r.t.dana.post(f"/api/investigations/{r.t.investigation_id}/members", json={"user_id": str(both.id)})
    assert added.status_code == 200, added.text
    handover = await r.t.sam.post(
        f"/api/personas/{r.pid}/handover", json={"to_user_id": str(both.id), "reason": "Leave."}
    )
    assert handover.status_code == 200, handover.text

    response = await bo.post(
        f"/api/accounts/{r.account_id}/decline", json={"reason": "Mine.", "totp_code": world.code(both)}
    )

    assert response.status_code == 403
    [event] = await world.events("account.decline")
    assert event["outcome"] == "denied"
    assert await world.db.fetchval("SELECT status FROM platform_accounts WHERE id = $1", r.account_id) == "requested"

"""The persona page over plain HTTP: it renders the lifecycle's verdicts. An approval from the
page binds the version the supervisor was shown; the approver sees what changed since the
last approval; the handler and their colleagues never see that view."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from tests.harness import World
from tests.lifecycle.setup import later, prepare
from tests.personas.helpers import (
    approved_persona,
    authorize_investigation,
    identity,
    open_investigation,
    request_persona,
    submitted_persona,
    team,
)
from tests.web.pages import csrf_token

_VERSION = re.compile(r'<input type="hidden" name="version" value="(\d+)">')


async def _status(world: World, persona_id: str) -> str:
    status: str = await world.db.fetchval("SELECT status FROM personas WHERE id = $1", persona_id)
    return status


async def test_an_approval_of_a_version_changed_since_the_page_was_opened_is_refused_beside_the_form(
    world: World,
) -> None:
    t = await team(world)
    created = await submitted_persona(t)
    path = f"/personas/{created['id']}"
    opened = await t.sam.get(path)
    assert _VERSION.findall(opened.text) == ["1", "1"]  # approve and reject both carry it
    token = await csrf_token(t.sam, path)

    # The handler changes the legend's location while the supervisor reads the page.
    edited = await t.dana.patch(f"/api/personas/{created['id']}", json={"identity": identity(location="Boise, ID")})
    assert edited.status_code == 200, edited.text

    stale = await t.sam.post(
        f"{path}/approve", data={"_csrf_token": token, "version": "1", "totp_code": world.code(t.supervisor)}
    )
    assert stale.status_code == 409, stale.text
    beside = re.search(r'<p class="error" id="e-decide"[^>]*>([^<]*)</p>', stale.text)
    assert beside, "the refusal is not shown beside the approval form"
    assert "changed since you opened it" in beside.group(1)
    assert await _status(world, created["id"]) == "submitted"
    assert await world.events("persona.approve") == []
    # The page shown again is the current version, with the change in the approver's view.
    assert set(_VERSION.findall(stale.text)) == {"2"}
    assert "Boise, ID" in stale.text

    current = await t.sam.post(
        f"{path}/approve", data={"_csrf_token": token, "version": "2", "totp_code": world.code(t.supervisor)}
    )
    assert current.status_code == 303, current.text
    assert await _status(world, created["id"]) == "approved"


async def test_a_stale_rejection_is_refused_too(world: World) -> None:
    t = await team(world)
    created = await submitted_persona(t)
    path = f"/personas/{created['id']}"
    token = await csrf_token(t.sam, path)
    await t.dana.patch(f"/api/personas/{created['id']}", json={"identity": identity(location="Boise, ID")})

    stale = await t.sam.post(
        f"{path}/reject",
        data={
            "_csrf_token": token,
            "version": "1",
            "reason": "Legend too thin.",
            "totp_code": world.code(t.supervisor),
        },
    )

    assert stale.status_code == 409
    assert "changed since you opened it" in stale.text
    assert await _status(world, created["id"]) == "submitted"


async def test_the_approver_sees_what_changed_since_the_last_approval(world: World) -> None:
    t = await team(world)
    created = await approved_persona(t)
    before = await world.db.fetchval("SELECT count(*) FROM audit_event WHERE action = 'persona.read_identity'")
    edited = await t.dana.patch(
        f"/api/personas/{created['id']}", json={"identity": identity(location="Boise, ID", legend="Works a car lot.")}
    )
    assert edited.json()["status"] == "submitted"

    page = await t.sam.get(f"/personas/{created['id']}")

    assert page.status_code == 200
    changes = re.search(r'<div class="changes" id="changes">(.*?)</div>', page.text, re.DOTALL)
    assert changes, "no changes view for the approver"
    rows = re.findall(
        r'<th scope="row">([^<]*)</th><td class="pre">([^<]*)</td><td class="pre">([^<]*)</td>', changes[1]
    )
    assert [(field, now) for field, _, now in rows] == [("Location", "Boise, ID"), ("Legend", "Works a car lot.")]
    assert [was for _, was, _ in rows] == ["Springfield, Ohio", identity()["legend"]]
    assert "version 2 against the approved version 1" in changes[1].replace("Version", "version")
    # Both decrypting reads are audited: the page's identity and the approval changes.
    reads = await world.db.fetch(
        "SELECT details FROM audit_event WHERE action = 'persona.read_identity' ORDER BY id OFFSET $1", before
    )
    assert any("approval changes" in r["details"] for r in reads)


async def test_a_first_approval_says_everything_is_new(world: World) -> None:
    t = await team(world)
    created = await submitted_persona(t)

    page = await t.sam.get(f"/personas/{created['id']}")

    assert "Never approved before: every detail of version 1 is new." in page.text


async def test_the_handler_sees_no_changes_view_and_no_approval_form(world: World) -> None:
    t = await team(world)
    created = await approved_persona(t)
    await t.dana.patch(f"/api/personas/{created['id']}", json={"identity": identity(location="Boise, ID")})
    reads = await world.db.fetchval("SELECT count(*) FROM audit_event WHERE action = 'persona.read_identity'")

    page = await t.dana.get(f"/personas/{created['id']}")

    assert page.status_code == 200
    assert 'id="changes"' not in page.text
    assert 'action="/personas/' + created["id"] + '/approve"' not in page.text
    # Only the page's own identity read, not the approval changes.
    after = await world.db.fetch(
        "SELECT details FROM audit_event WHERE action = 'persona.read_identity' ORDER BY id OFFSET $1", reads
    )
    assert len(after) == 1 and "approval changes" not in after[0]["details"]


def _section(page: str, section_id: str) -> str:
    found = re.search(rf'<section class="panel" id="{section_id}".*?</section>', page, re.DOTALL)
    assert found, f"no #{section_id} on the page"
    return found.group(0)


async def test_the_activity_form_follows_the_lifecycle_and_a_refusal_says_why(world: World) -> None:
    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    path = f"/personas/{r.pid}"

    handler = _section((await r.t.dana.get(path)).text, "activity")
    assert f'action="{path}/activity"' in handler
    assert f'<option value="{r.device_id}">LT-0001 — laptop</option>' in handler
    assert f'<option value="{r.platform_id}">Facebook</option>' in handler
    # Not the handler: no form, and no refusal to read either (it is never theirs to record).
    supervisor = _section((await r.t.sam.get(path)).text, "activity")
    assert "/activity" not in supervisor and "activity-refused" not in supervisor

    # Past the inspection's 90 days the sweep suspends it; the page says why, for each of them.
    await later(r, timedelta(days=91))
    await world.jobs()
    handler = _section((await r.t.dana.get(path)).text, "activity")
    assert f'action="{path}/activity"' not in handler
    assert "Activity cannot be recorded now." in handler
    assert "LT-0001&#39;s isolation inspection" in handler and "(003 IV.B.2)" in handler
    steps = _section((await r.t.sam.get(path)).text, "actions")
    assert "It cannot go back into use yet." in steps
    assert "LT-0001&#39;s isolation inspection" in steps
    assert f'action="{path}/resume"' not in steps


async def test_a_dormant_persona_is_offered_warming_activity_only(world: World) -> None:
    r = await prepare(world)  # approved, every condition met, not yet activated
    path = f"/personas/{r.pid}"
    page = (await r.t.dana.get(path)).text
    activity = _section(page, "activity")
    assert "Record warming activity" in activity
    assert '<input type="hidden" name="warming" value="on">' in activity
    token = await csrf_token(r.t.dana, path)

    response = await r.t.dana.post(
        f"{path}/activity",
        data={
            "_csrf_token": token,
            "warming": "on",
            "occurred_at": world.clock.now().strftime("%Y-%m-%dT%H:%M"),
            "platform_id": r.platform_id,
            "equipment_id": r.device_id,
            "summary": "Liked two posts in the resale group.",
        },
    )

    assert response.status_code == 303, response.text
    assert await world.db.fetchval("SELECT warming FROM activity_log WHERE persona_id = $1", r.pid) is True
    logged = _section((await r.t.dana.get(path)).text, "activity")
    assert '<span class="status draft">warming</span> Liked two posts' in logged


async def _platform(world: World) -> str:
    legal = await world.signin(await world.user("lee", "legal"))
    response = await legal.post(
        "/api/platforms", json={"name": "Marketplace", "url": "https://m.example", "tos_url": "https://m.example/t"}
    )
    assert response.status_code == 201, response.text
    platform_id: str = response.json()["id"]
    return platform_id


async def _account(client: httpx.AsyncClient, persona_id: str, platform_id: str, handle: str) -> str:
    response = await client.post(
        f"/api/personas/{persona_id}/accounts", json={"platform_id": platform_id, "handle": handle}
    )
    assert response.status_code == 201, response.text
    account_id: str = response.json()["id"]
    return account_id


async def test_an_official_authorizes_an_account_from_the_page_but_never_their_own(world: World) -> None:
    t = await team(world)
    platform_id = await _platform(world)
    persona = await approved_persona(t)
    account_id = await _account(t.dana, persona["id"], platform_id, "jamie.sells")
    # Olga is a detective and an authorizing official: her own persona's account is not hers to authorize.
    olga = await world.user("olga", "detective", "authorizing_official")
    olga_client = await world.signin(olga)
    investigation = await open_investigation(olga_client)
    await authorize_investigation(world, t.official, t.alex, investigation)
    own = await request_persona(olga_client, investigation, "Robin Vance")
    await _account(olga_client, own["id"], platform_id, "robin.buys")

    mine = await olga_client.get(f"/personas/{own['id']}")
    assert "another official must authorize it" in _section(mine.text, "accounts")
    assert "/authorize" not in _section(mine.text, "accounts")

    # On Dana's investigation team, she sees Dana's persona and may authorize its account.
    response = await t.dana.post(f"/api/investigations/{t.investigation_id}/members", json={"user_id": str(olga.id)})
    assert response.status_code == 200, response.text
    path = f"/personas/{persona['id']}"
    seen = await olga_client.get(path)
    assert seen.status_code == 200, seen.text
    accounts = _section(seen.text, "accounts")
    assert f'action="{path}/accounts/{account_id}/authorize"' in accounts
    token = await csrf_token(olga_client, path)
    response = await olga_client.post(
        f"{path}/accounts/{account_id}/authorize", data={"_csrf_token": token, "totp_code": world.code(olga)}
    )
    assert response.status_code == 303, response.text
    assert await world.db.fetchval("SELECT status FROM platform_accounts WHERE id = $1", account_id) == "authorized"
    # Authorized: nothing waits, so no form is offered any more.
    assert "/authorize" not in _section((await olga_client.get(path)).text, "accounts")


async def test_an_official_off_the_team_authorizes_or_declines_from_the_queue_without_the_identity(
    world: World,
) -> None:
    t = await team(world)
    platform_id = await _platform(world)
    persona = await approved_persona(t)
    first = await _account(t.dana, persona["id"], platform_id, "jamie.sells")
    second = await _account(t.dana, persona["id"], platform_id, "jamie.buys")

    queue = await t.alex.get("/queue")
    assert queue.status_code == 200
    assert "jamie.sells" in queue.text and "jamie.buys" in queue.text
    assert "Calloway" not in queue.text
    # The persona's page, with its identity, stays out of reach.
    assert (await t.alex.get(f"/personas/{persona['id']}")).status_code == 404

    token = await csrf_token(t.alex, "/queue")
    wrong = await t.alex.post(f"/queue/accounts/{first}/authorize", data={"_csrf_token": token, "totp_code": "000000"})
    assert wrong.status_code in (401, 403, 422)
    assert 'aria-invalid="true"' in wrong.text
    token = await csrf_token(t.alex, "/queue")
    authorized = await t.alex.post(
        f"/queue/accounts/{first}/authorize", data={"_csrf_token": token, "totp_code": world.code(t.official)}
    )
    assert authorized.status_code == 303, authorized.text
    token = await csrf_token(t.alex, "/queue")
    declined = await t.alex.post(
        f"/queue/accounts/{second}/decline",
        data={"_csrf_token": token, "totp_code": world.code(t.official), "reason": "One account is enough."},
    )
    assert declined.status_code == 303, declined.text
    statuses = {
        str(r["id"]): r["status"] for r in await world.db.fetch("SELECT id, status FROM platform_accounts ORDER BY id")
    }
    assert statuses == {first: "authorized", second: "declined"}

"""The persona page over plain HTTP: it renders the lifecycle's verdicts. An approval from the
page binds the version the supervisor was shown; the approver sees what changed since the
last approval; the handler and their colleagues never see that view."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.harness import World
from tests.lifecycle.setup import later, prepare
from tests.personas.helpers import approved_persona, identity, submitted_persona, team
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

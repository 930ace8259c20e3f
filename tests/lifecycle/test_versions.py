"""An approval binds the version the supervisor saw (003 IV.B.3.b.2): a change since answers
409, and the approver sees what changed since the last approval, field by field."""

from __future__ import annotations

from tests.personas.helpers import identity, submitted_persona, team


async def test_the_read_carries_the_version_and_an_etag(world):
    t = await team(world)
    created = await submitted_persona(t)

    response = await t.sam.get(f"/api/personas/{created['id']}")

    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert response.headers["etag"] == '"1"'


async def test_an_edit_while_submitted_moves_the_version_and_a_stale_approval_is_refused(world):
    t = await team(world)
    created = await submitted_persona(t)
    seen = (await t.sam.get(f"/api/personas/{created['id']}")).json()["version"]

    edited = await t.dana.patch(f"/api/personas/{created['id']}", json={"identity": identity(location="Boise, ID")})
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "submitted"
    assert edited.json()["version"] == seen + 1

    stale = await t.sam.post(
        f"/api/personas/{created['id']}/approve", json={"totp_code": world.code(t.supervisor), "version": seen}
    )
    assert stale.status_code == 409, stale.text
    assert "changed since you opened it" in stale.json()["detail"]
    assert (await t.sam.get(f"/api/personas/{created['id']}")).json()["status"] == "submitted"

    current = await t.sam.post(
        f"/api/personas/{created['id']}/approve", json={"totp_code": world.code(t.supervisor), "version": seen + 1}
    )
    assert current.status_code == 200, current.text
    assert current.json()["status"] == "approved"


async def test_if_match_binds_a_rejection_too(world):
    t = await team(world)
    created = await submitted_persona(t)
    etag = (await t.sam.get(f"/api/personas/{created['id']}")).headers["etag"]
    await t.dana.patch(f"/api/personas/{created['id']}", json={"identity": identity(location="Boise, ID")})

    stale = await t.sam.post(
        f"/api/personas/{created['id']}/reject",
        json={"totp_code": world.code(t.supervisor), "reason": "Legend too thin."},
        headers={"if-match": etag},
    )
    assert stale.status_code == 409
    fresh = (await t.sam.get(f"/api/personas/{created['id']}")).headers["etag"]
    ok = await t.sam.post(
        f"/api/personas/{created['id']}/reject",
        json={"totp_code": world.code(t.supervisor), "reason": "Legend too thin."},
        headers={"if-match": fresh},
    )
    assert ok.status_code == 200, ok.text


async def test_a_malformed_if_match_is_a_clear_400(world):
    t = await team(world)
    created = await submitted_persona(t)

    response = await t.sam.post(
        f"/api/personas/{created['id']}/approve",
        json={"totp_code": world.code(t.supervisor)},
        headers={"if-match": "yesterday"},
    )

    assert response.status_code == 400
    assert "If-Match" in response.json()["detail"]


async def test_the_approver_sees_what_changed_since_the_last_approval_field_by_field(world):
    t = await team(world)
    created = await submitted_persona(t)
    first = await t.sam.get(f"/api/personas/{created['id']}/changes")
    assert first.status_code == 200, first.text
    assert first.json()["first_approval"] is True
    approve = await t.sam.post(f"/api/personas/{created['id']}/approve", json={"totp_code": world.code(t.supervisor)})
    assert approve.status_code == 200, approve.text
    edited = await t.dana.patch(f"/api/personas/{created['id']}", json={"identity": identity(location="Boise, ID")})
    assert edited.json()["status"] == "submitted"

    changes = await t.sam.get(f"/api/personas/{created['id']}/changes")

    assert changes.status_code == 200, changes.text
    body = changes.json()
    assert body["first_approval"] is False
    assert body["approved_version"] == 1 and body["version"] == 2
    assert [(c["field"], c["after"]) for c in body["changes"]] == [("location", "Boise, ID")]
    assert body["changes"][0]["before"] != "Boise, ID"
    # The read decrypted identity fields: it is audited.
    reads = await world.events("persona.read_identity")
    assert any("approval changes" in str(e["details"]) for e in reads)


async def test_the_handler_cannot_read_the_approval_changes(world):
    t = await team(world)
    created = await submitted_persona(t)

    response = await t.dana.get(f"/api/personas/{created['id']}/changes")

    assert response.status_code == 403


async def test_an_edit_names_the_version_it_changes_and_one_made_meanwhile_is_not_overwritten(world):
    t = await team(world)
    created = await submitted_persona(t)
    path = f"/api/personas/{created['id']}"
    etag = (await t.dana.get(path)).headers["etag"]
    first = await t.dana.patch(path, json={"identity": identity(location="Boise, ID")}, headers={"if-match": etag})
    assert first.status_code == 200, first.text

    # A second edit from the same, now stale, read is refused and leaves the first in place.
    stale = await t.dana.patch(path, json={"identity": identity(location="Nampa, ID"), "version": 1})
    assert stale.status_code == 409, stale.text
    assert "changed since you opened it" in stale.json()["detail"]
    shown = (await t.dana.get(path)).json()
    assert shown["identity"]["location"] == "Boise, ID"
    assert shown["history"][-1]["actor_name"] == "Dana"

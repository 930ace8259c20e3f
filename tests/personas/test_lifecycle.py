"""The persona lifecycle end to end through the API: request, submit, approve with a fresh code
(003 IV.B.3.b.2), reject and rework, material changes, suspension, retirement, compromise,
handover, and approval expiry with renewal. Every refused step says why and changes nothing."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.harness import World
from tests.personas.helpers import (
    Team,
    approved_persona,
    event_details,
    identity,
    persona_row,
    request_persona,
    submitted_persona,
    team,
    wrong_code,
)

CODENAME = re.compile(r"^[A-Z]+-[A-Z]+-[0-9]{2}$")


async def _get(client: httpx.AsyncClient, persona_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/personas/{persona_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _actions(persona: dict[str, Any]) -> list[str]:
    return [h["action"] for h in persona["history"]]


async def test_request_submit_and_approve_with_a_code(world: World) -> None:
    t = await team(world)

    created = await t.dana.post(
        "/api/personas", json={"investigation_id": t.investigation_id, "identity": identity("Jamie Calloway")}
    )

    assert created.status_code == 201, created.text
    persona = created.json()
    assert persona["status"] == "draft"
    assert CODENAME.match(persona["codename"])
    pid = persona["id"]
    submitted = await t.dana.post(f"/api/personas/{pid}/submit")
    assert (submitted.status_code, submitted.json()["status"]) == (200, "submitted")

    code = world.code(t.supervisor)
    approved_at = world.clock.now()
    approved = await t.sam.post(f"/api/personas/{pid}/approve", json={"totp_code": code, "note": "documented"})

    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    # policies/department.toml: approval_valid_days = 180
    assert datetime.fromisoformat(approved.json()["approval_expires_at"]) == approved_at + timedelta(days=180)
    shown = await _get(t.dana, pid)
    assert shown["status"] == "approved"
    assert shown["approved_by"] == "sam"
    assert shown["approval_current"] is True
    assert shown["review_interval_days"] == 30
    assert shown["identity"]["alias_name"] == "Jamie Calloway"
    assert shown["handler"]["username"] == "dana"
    assert _actions(shown) == ["requested", "submit", "approve"]
    events = await world.events("persona.approve")
    assert [(e["actor"], e["outcome"], e["target_id"]) for e in events] == [("sam", "success", pid)]


async def test_a_given_codename_is_kept_and_must_be_unique(world: World) -> None:
    t = await team(world)

    created = await request_persona(t.dana, t.investigation_id, "Jamie Calloway", codename="amber heron")
    clash = await t.dana.post(
        "/api/personas",
        json={"investigation_id": t.investigation_id, "identity": identity("Robin Ashdown"), "codename": "AMBER-HERON"},
    )

    assert created["codename"] == "AMBER-HERON"
    assert clash.status_code == 409
    assert "AMBER-HERON" in clash.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM personas") == 1


async def test_an_approval_code_cannot_be_used_twice(world: World) -> None:
    t = await team(world)
    first = await submitted_persona(t, "Jamie Calloway")
    second = await submitted_persona(t, "Robin Ashdown")
    code = world.code(t.supervisor)
    assert (await t.sam.post(f"/api/personas/{first['id']}/approve", json={"totp_code": code})).status_code == 200

    replayed = await t.sam.post(f"/api/personas/{second['id']}/approve", json={"totp_code": code})
    renewal = await t.sam.post(f"/api/personas/{first['id']}/renew", json={"totp_code": code})

    assert replayed.status_code == 403  # code not accepted; the session stands
    assert replayed.json()["detail"]
    assert renewal.status_code == 403  # code not accepted; the session stands
    assert (await persona_row(world, second["id"]))["status"] == "submitted"
    assert (await persona_row(world, second["id"]))["approved_by"] is None
    assert [e["target_id"] for e in await world.events("persona.approve") if e["outcome"] == "success"] == [first["id"]]
    assert [e["outcome"] for e in await world.events("persona.renew")] == ["failure"]
    replays = await world.events("persona.approve") + await world.events("persona.renew")
    assert sorted(event_details(e)["reason"] for e in replays if e["outcome"] == "failure") == ["code already used"] * 2


async def test_a_supervisor_cannot_approve_a_persona_they_requested(world: World) -> None:
    t = await team(world)
    # Sol is a detective and a supervisor, on Dana's team.
    sol_person = await world.user("sol", "detective", "supervisor")
    sol = await world.signin(sol_person)
    await t.dana.post(f"/api/investigations/{t.investigation_id}/members", json={"user_id": str(sol_person.id)})
    own = await request_persona(sol, t.investigation_id)
    assert (await sol.post(f"/api/personas/{own['id']}/submit")).status_code == 200
    code = world.code(sol_person)

    refused = await sol.post(f"/api/personas/{own['id']}/approve", json={"totp_code": code})

    assert refused.status_code == 403
    assert "another supervisor" in refused.json()["detail"]
    row = await persona_row(world, own["id"])
    assert (row["status"], row["approved_by"], row["approval_expires_at"]) == ("submitted", None, None)
    assert [e["outcome"] for e in await world.events("persona.approve")] == ["denied"]
    # The refusal did not spend the code: Sol can still use it on someone else's persona.
    other = await submitted_persona(t, "Robin Ashdown")
    used = await sol.post(f"/api/personas/{other['id']}/approve", json={"totp_code": code})
    assert used.status_code == 200, used.text


async def test_a_detective_cannot_approve(world: World) -> None:
    t = await team(world)
    erin_person = await world.user("erin", "detective")
    erin = await world.signin(erin_person)
    persona = await submitted_persona(t)

    refused = await erin.post(f"/api/personas/{persona['id']}/approve", json={"totp_code": world.code(erin_person)})

    assert refused.status_code == 403
    assert (await persona_row(world, persona["id"]))["status"] == "submitted"


async def test_rejection_returns_to_draft_on_edit_and_can_be_resubmitted(world: World) -> None:
    t = await team(world)
    persona = await submitted_persona(t)
    pid = persona["id"]

    rejected = await t.sam.post(
        f"/api/personas/{pid}/reject",
        json={"reason": "The legend needs an employer we can back up.", "totp_code": world.code(t.supervisor)},
    )

    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    shown = await _get(t.dana, pid)
    assert shown["rejection_reason"] == "The legend needs an employer we can back up."
    edited = await t.dana.patch(
        f"/api/personas/{pid}", json={"identity": identity(legend="Works nights at Ridgeway Storage.")}
    )
    assert (edited.status_code, edited.json()["status"]) == (200, "draft")
    resubmitted = await t.dana.post(f"/api/personas/{pid}/submit")
    assert (resubmitted.status_code, resubmitted.json()["status"]) == (200, "submitted")
    assert (await _get(t.dana, pid))["rejection_reason"] is None
    approved = await t.sam.post(f"/api/personas/{pid}/approve", json={"totp_code": world.code(t.supervisor)})
    assert approved.status_code == 200
    shown = await _get(t.dana, pid)
    assert shown["identity"]["legend"] == "Works nights at Ridgeway Storage."
    assert _actions(shown) == ["requested", "submit", "reject", "identity_changed", "submit", "approve"]
    assert len(await world.events("persona.reject")) == 1


async def test_a_rejection_needs_a_reason(world: World) -> None:
    t = await team(world)
    persona = await submitted_persona(t)

    refused = await t.sam.post(f"/api/personas/{persona['id']}/reject", json={"totp_code": world.code(t.supervisor)})

    assert refused.status_code == 400
    assert "reason" in refused.json()["detail"]
    assert (await persona_row(world, persona["id"]))["status"] == "submitted"


async def test_the_approver_may_shorten_the_review_interval_but_not_lengthen_it(world: World) -> None:
    t = await team(world)
    shorter = await submitted_persona(t, "Jamie Calloway")
    longer = await submitted_persona(t, "Robin Ashdown")

    ok = await t.sam.post(
        f"/api/personas/{shorter['id']}/approve",
        json={"totp_code": world.code(t.supervisor), "review_interval_days": 14},
    )
    refused = await t.sam.post(
        f"/api/personas/{longer['id']}/approve",
        json={"totp_code": world.code(t.supervisor), "review_interval_days": 45},
    )

    assert ok.status_code == 200, ok.text
    assert (await _get(t.dana, shorter["id"]))["review_interval_days"] == 14
    assert refused.status_code == 422
    assert "30" in refused.json()["detail"]
    row = await persona_row(world, longer["id"])
    assert (row["status"], row["review_interval_days"]) == ("submitted", None)


async def test_changing_an_approved_identity_sends_it_back_for_approval(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    pid = persona["id"]

    unchanged = await t.dana.patch(f"/api/personas/{pid}", json={"identity": identity()})
    assert (unchanged.status_code, unchanged.json()["status"]) == (200, "approved")
    assert (await _get(t.dana, pid))["approval_current"] is True

    changed = await t.dana.patch(f"/api/personas/{pid}", json={"identity": identity(location="Dayton, Ohio")})

    assert (changed.status_code, changed.json()["status"]) == (200, "submitted")
    shown = await _get(t.dana, pid)
    assert shown["approval_current"] is False
    assert shown["identity"]["location"] == "Dayton, Ohio"
    assert shown["history"][-1]["action"] == "identity_changed"
    assert shown["history"][-1]["details"] == {"resubmitted": True, "version": 2}
    again = await t.sam.post(f"/api/personas/{pid}/approve", json={"totp_code": world.code(t.supervisor)})
    assert (again.status_code, again.json()["status"]) == (200, "approved")


async def test_only_the_handler_edits_the_identity(world: World) -> None:
    t = await team(world)
    persona = await request_persona(t.dana, t.investigation_id)
    before = await persona_row(world, persona["id"])

    refused = await t.sam.patch(f"/api/personas/{persona['id']}", json={"identity": identity(location="Toledo")})

    assert refused.status_code == 403
    assert (await persona_row(world, persona["id"]))["identity"] == before["identity"]


async def test_suspend_resume_and_retire_with_reasons(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    pid = persona["id"]

    suspended = await t.sam.post(f"/api/personas/{pid}/suspend", json={"reason": "Review overdue."})
    assert (suspended.status_code, suspended.json()["status"]) == (200, "suspended")
    # The handler cannot lift the supervisor's suspension; the chain can.
    assert (await t.dana.post(f"/api/personas/{pid}/resume", json={"reason": "Done."})).status_code == 403
    resumed = await t.sam.post(f"/api/personas/{pid}/resume", json={"reason": "Review held."})
    assert (resumed.status_code, resumed.json()["status"]) == (200, "approved")
    no_reason = await t.dana.post(f"/api/personas/{pid}/retire", json={})
    assert no_reason.status_code == 400
    retired = await t.dana.post(f"/api/personas/{pid}/retire", json={"reason": "Operation closed."})
    assert (retired.status_code, retired.json()["status"]) == (200, "retired")

    shown = await _get(t.dana, pid)
    assert _actions(shown)[-3:] == ["suspend", "resume", "retire"]
    assert [h["details"].get("reason") for h in shown["history"][-3:]] == [
        "Review overdue.",
        "Review held.",
        "Operation closed.",
    ]
    after = await t.sam.post(f"/api/personas/{pid}/resume", json={"reason": "Changed my mind."})
    assert after.status_code == 409
    assert (await persona_row(world, pid))["status"] == "retired"


async def test_a_compromised_persona_is_closed_for_good(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    pid = persona["id"]

    short = await t.dana.post(f"/api/personas/{pid}/compromise", json={"report": "burned"})
    assert short.status_code == 400
    burned = await t.dana.post(
        f"/api/personas/{pid}/compromise",
        json={"report": "A seller recognised the profile photo and posted it in a group chat."},
    )
    assert (burned.status_code, burned.json()["status"]) == (200, "compromised")

    attempts = [
        await t.dana.post(f"/api/personas/{pid}/submit"),
        await t.sam.post(f"/api/personas/{pid}/resume", json={"reason": "try again"}),
        await t.sam.post(f"/api/personas/{pid}/suspend", json={"reason": "try again"}),
        await t.dana.post(f"/api/personas/{pid}/retire", json={"reason": "try again"}),
        await t.dana.post(f"/api/personas/{pid}/compromise", json={"report": "and once more, for the record"}),
        await t.sam.post(f"/api/personas/{pid}/renew", json={"totp_code": world.code(t.supervisor)}),
        await t.dana.patch(f"/api/personas/{pid}", json={"identity": identity(location="Akron")}),
    ]

    assert [a.status_code for a in attempts] == [409] * len(attempts)
    assert all(a.json()["detail"] for a in attempts)
    assert (await persona_row(world, pid))["status"] == "compromised"
    assert (await _get(t.dana, pid))["identity"]["location"] == "Springfield, Ohio"


async def test_handover_moves_the_persona_to_another_detective(world: World) -> None:
    t = await team(world)
    erin_person = await world.user("erin", "detective")
    erin = await world.signin(erin_person)
    persona = await approved_persona(t)
    pid = persona["id"]
    assert (await erin.get(f"/api/personas/{pid}")).status_code == 404

    handed = await t.sam.post(
        f"/api/personas/{pid}/handover", json={"to_user_id": str(erin_person.id), "reason": "Dana transferred."}
    )

    assert handed.status_code == 200, handed.text
    assert handed.json()["status"] == "approved"
    shown = await _get(erin, pid)
    assert shown["handler"]["username"] == "erin"
    assert shown["history"][-1]["action"] == "handover"
    assert shown["history"][-1]["details"]["reason"] == "Dana transferred."
    assert shown["history"][-1]["details"]["to_user_id"] == str(erin_person.id)
    # Dana stays on the investigation's team and may read it, but she no longer handles it.
    assert (await t.dana.get(f"/api/personas/{pid}")).status_code == 200
    changed = await t.dana.patch(f"/api/personas/{pid}", json={"identity": identity(legend="Moved to Dayton.")})
    assert changed.status_code == 403
    # Erin joined the team with the persona.
    team_now = (await erin.get(f"/api/investigations/{t.investigation_id}")).json()["members"]
    assert {m["username"] for m in team_now} == {"dana", "erin"}
    # The new handler is the handler now.
    assert (await erin.post(f"/api/personas/{pid}/suspend", json={"reason": "Taking stock."})).status_code == 200
    assert len(await world.events("persona.handover")) == 1


async def test_a_previous_handler_on_the_team_keeps_sight_of_the_persona(world: World) -> None:
    t = await team(world)
    mo_person = await world.user("mo", "detective")
    mo = await world.signin(mo_person)
    erin_person = await world.user("erin", "detective")
    erin = await world.signin(erin_person)
    await t.dana.post(f"/api/investigations/{t.investigation_id}/members", json={"user_id": str(mo_person.id)})
    persona = await request_persona(mo, t.investigation_id)

    handed = await t.sam.post(
        f"/api/personas/{persona['id']}/handover", json={"to_user_id": str(erin_person.id), "reason": "Workload."}
    )

    assert handed.status_code == 200, handed.text
    assert (await _get(mo, persona["id"]))["handler"]["username"] == "erin"
    assert (await _get(erin, persona["id"]))["handler"]["username"] == "erin"
    # ...but only the handler edits it.
    edit = await mo.patch(f"/api/personas/{persona['id']}", json={"identity": identity(location="Akron")})
    assert edit.status_code == 403


async def test_handover_is_refused_to_a_non_detective_and_to_the_approver(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    pid = persona["id"]
    dual = await world.user("kai", "detective", "supervisor")
    sol = await world.signin(dual)
    await t.dana.post(f"/api/investigations/{t.investigation_id}/members", json={"user_id": str(dual.id)})
    other = await submitted_persona(t, "Robin Ashdown")
    assert (
        await sol.post(f"/api/personas/{other['id']}/approve", json={"totp_code": world.code(dual)})
    ).status_code == 200

    to_official = await t.sam.post(
        f"/api/personas/{pid}/handover", json={"to_user_id": str(t.official.id), "reason": "Because."}
    )
    to_approver = await t.sam.post(
        f"/api/personas/{other['id']}/handover", json={"to_user_id": str(dual.id), "reason": "Because."}
    )
    by_detective = await t.dana.post(
        f"/api/personas/{pid}/handover", json={"to_user_id": str(dual.id), "reason": "Because."}
    )

    assert to_official.status_code == 422
    assert to_approver.status_code == 409
    assert "approved" in to_approver.json()["detail"]
    assert by_detective.status_code == 403
    assert (await persona_row(world, pid))["handler_id"] == t.detective.id
    assert (await persona_row(world, other["id"]))["handler_id"] == t.detective.id


async def test_an_approval_lapses_and_renewal_needs_a_fresh_code(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    pid = persona["id"]

    world.clock.advance(timedelta(days=181))
    dana = await world.signin(t.detective)
    sam = await world.signin(t.supervisor)

    lapsed = await _get(dana, pid)
    assert lapsed["status"] == "approved"
    assert lapsed["approval_current"] is False
    listed = (await dana.get("/api/personas")).json()["items"]
    assert [(p["id"], p["approval_current"]) for p in listed] == [(pid, False)]

    no_code = await sam.post(f"/api/personas/{pid}/renew", json={})
    assert no_code.status_code == 400
    wrong = await sam.post(f"/api/personas/{pid}/renew", json={"totp_code": wrong_code(world, t.supervisor)})
    assert wrong.status_code == 403  # code not accepted; the session stands
    assert (await persona_row(world, pid))["approval_expires_at"] < world.clock.now()

    code = world.code(t.supervisor)
    renewed_at = world.clock.now()
    renewed = await sam.post(f"/api/personas/{pid}/renew", json={"totp_code": code})

    assert renewed.status_code == 200, renewed.text
    assert datetime.fromisoformat(renewed.json()["approval_expires_at"]) == renewed_at + timedelta(days=180)
    assert (await _get(dana, pid))["approval_current"] is True
    replay = await sam.post(f"/api/personas/{pid}/renew", json={"totp_code": code})
    assert replay.status_code == 403  # code not accepted; the session stands
    outcomes = [e["outcome"] for e in await world.events("persona.renew")]
    assert outcomes == ["failure", "success", "failure"]  # wrong code, renewal, replay


async def test_wrong_state_steps_by_a_supervisor_answer_409_and_change_nothing(world: World) -> None:
    t = await team(world)
    draft = await request_persona(t.dana, t.investigation_id, "Jamie Calloway")
    approved = await approved_persona(t, "Robin Ashdown")
    before = {pid: await persona_row(world, pid) for pid in (draft["id"], approved["id"])}

    attempts = {
        "approve a draft": await t.sam.post(
            f"/api/personas/{draft['id']}/approve", json={"totp_code": world.code(t.supervisor)}
        ),
        "reject a draft": await t.sam.post(
            f"/api/personas/{draft['id']}/reject", json={"reason": "Not ready.", "totp_code": world.code(t.supervisor)}
        ),
        "renew a draft": await t.sam.post(
            f"/api/personas/{draft['id']}/renew", json={"totp_code": world.code(t.supervisor)}
        ),
        "suspend a draft": await t.sam.post(f"/api/personas/{draft['id']}/suspend", json={"reason": "Hold."}),
        "resume an approved": await t.sam.post(f"/api/personas/{approved['id']}/resume", json={"reason": "Go."}),
        "approve an approved": await t.sam.post(
            f"/api/personas/{approved['id']}/approve", json={"totp_code": world.code(t.supervisor)}
        ),
    }

    for what, response in attempts.items():
        assert response.status_code == 409, what
        body = response.json()
        assert "The persona is" in body["detail"], what
    assert "draft" in attempts["approve a draft"].json()["detail"]
    assert "submitted" in attempts["approve a draft"].json()["detail"]
    for pid, row in before.items():
        assert await persona_row(world, pid) == row
    assert [e["outcome"] for e in await world.events("persona.approve")] == ["success"]
    assert await world.events("persona.suspend") == []


async def test_a_persona_of_an_unknown_investigation_is_refused(world: World) -> None:
    t = await team(world)

    refused = await t.dana.post("/api/personas", json={"investigation_id": str(uuid.uuid4()), "identity": identity()})

    assert refused.status_code == 404
    assert await world.db.fetchval("SELECT count(*) FROM personas") == 0


async def test_an_identity_with_a_future_birth_date_is_refused(world: World) -> None:
    t: Team = await team(world)

    refused = await t.dana.post(
        "/api/personas", json={"investigation_id": t.investigation_id, "identity": identity(date_of_birth="2030-01-01")}
    )

    assert refused.status_code == 422
    assert "date_of_birth" in refused.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM personas") == 0


async def test_the_steps_answer_for_the_preparations_as_their_own_services_do(world: World) -> None:
    """The persona page offers an account, terms or device form only where
    the gate's step allows it: the gate and each domain's service give the same answer."""
    t = await team(world)
    created = await approved_persona(t)
    pid = created["id"]
    erin = await world.user("erin", "detective")
    erin_client = await world.signin(erin)
    response = await t.dana.post(f"/api/investigations/{t.investigation_id}/members", json={"user_id": str(erin.id)})
    assert response.status_code == 200, response.text
    platform = await world.signin(await world.user("lee", "legal"))
    body = {"name": "Forum", "url": "https://forum.example", "tos_url": "https://forum.example/tos"}
    platform_id = (await platform.post("/api/platforms", json=body)).json()["id"]
    preparations = ("request_account", "acknowledge_terms", "assign_equipment", "release_equipment")

    async def verdicts(client: httpx.AsyncClient) -> dict[str, str | None]:
        answer = (await client.get(f"/api/personas/{pid}/steps")).json()["steps"]
        return {s["step"]: None if s["allowed"] else s["refused_by"] for s in answer if s["step"] in preparations}

    assert await verdicts(t.dana) == dict.fromkeys(preparations)
    # On the team but not the handler: the gate says so, and the service refuses alike.
    assert await verdicts(erin_client) == {
        "request_account": "person",
        "acknowledge_terms": "person",
        "assign_equipment": "person",
        "release_equipment": "person",
    }
    account = {"platform_id": platform_id, "handle": "erin.tries"}
    assert (await erin_client.post(f"/api/personas/{pid}/accounts", json=account)).status_code == 403
    # The supervisor equips, but does not request accounts (not their role).
    assert (await verdicts(t.sam))["assign_equipment"] is None
    assert (await verdicts(t.sam))["request_account"] == "role"
    # Closed: nothing more is prepared, and the service says the same.
    assert (await t.dana.post(f"/api/personas/{pid}/retire", json={"reason": "Case closed."})).status_code == 200
    assert set((await verdicts(t.dana)).values()) == {"state"}
    account = {"platform_id": platform_id, "handle": "jamie.late"}
    assert (await t.dana.post(f"/api/personas/{pid}/accounts", json=account)).status_code == 409

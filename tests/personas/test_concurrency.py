"""Races are settled by the database: many supervisors approving one persona at once leave
exactly one approval; two detectives requesting the same alias at once leave one persona."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from tests.harness import World
from tests.personas.helpers import identity, request_persona, signin_together, submitted_persona, team


async def test_fifty_concurrent_approvals_leave_exactly_one(world: World) -> None:
    t = await team(world)
    persona = await submitted_persona(t)
    pid = persona["id"]
    supervisors = [await world.user(f"sup{n:02d}", "supervisor") for n in range(50)]
    clients = await signin_together(world, supervisors)
    world.clock.advance(timedelta(seconds=30))  # the next code on every authenticator
    now = world.clock.now()

    responses = await asyncio.gather(
        *(
            client.post(f"/api/personas/{pid}/approve", json={"totp_code": person.totp.at(now)})
            for person, client in zip(supervisors, clients, strict=True)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 49, statuses
    winner = next(supervisors[i] for i, r in enumerate(responses) if r.status_code == 200)
    assert all("The persona is approved" in r.json()["detail"] for r in responses if r.status_code == 409)
    row = await world.db.fetchrow("SELECT status, approved_by FROM personas WHERE id = $1", uuid.UUID(pid))
    assert (row["status"], row["approved_by"]) == ("approved", winner.id)
    events = await world.events("persona.approve")
    assert [(e["actor"], e["outcome"]) for e in events] == [(winner.username, "success")]
    approvals = await world.db.fetchval(
        "SELECT count(*) FROM persona_history WHERE persona_id = $1 AND action = 'approve'", uuid.UUID(pid)
    )
    assert approvals == 1


async def test_concurrent_requests_for_the_same_alias_leave_one_persona(world: World) -> None:
    t = await team(world)
    detectives = [await world.user(f"det{n}", "detective") for n in range(8)]
    clients = await signin_together(world, detectives)
    for person in detectives:
        await t.dana.post(f"/api/investigations/{t.investigation_id}/members", json={"user_id": str(person.id)})
    spellings = ["Jamie Calloway", "  jamie   CALLOWAY ", "JAMIE CALLOWAY", "jamie calloway"] * 2

    responses = await asyncio.gather(
        *(
            client.post("/api/personas", json={"investigation_id": t.investigation_id, "identity": identity(alias)})
            for client, alias in zip(clients, spellings, strict=True)
        )
    )

    assert sorted(r.status_code for r in responses) == [201] + [409] * 7, [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 201)
    for refused in (r for r in responses if r.status_code == 409):
        assert winner["codename"] in refused.json()["detail"]
        assert refused.json()["conflicts"][0]["codename"] == winner["codename"]
        assert "calloway" not in refused.text.casefold()
    assert await world.db.fetchval("SELECT count(*) FROM personas") == 1


async def test_concurrent_edits_to_the_same_alias_leave_it_on_one_persona(world: World) -> None:
    t = await team(world)
    detectives = [await world.user(f"det{n}", "detective") for n in range(6)]
    clients = await signin_together(world, detectives)
    for person in detectives:
        await t.dana.post(f"/api/investigations/{t.investigation_id}/members", json={"user_id": str(person.id)})
    personas = [await request_persona(c, t.investigation_id, f"Person Number{n}") for n, c in enumerate(clients)]

    responses = await asyncio.gather(
        *(
            client.patch(f"/api/personas/{p['id']}", json={"identity": identity("Jamie Calloway")})
            for client, p in zip(clients, personas, strict=True)
        )
    )

    assert sorted(r.status_code for r in responses) == [200] + [409] * 5, [r.text for r in responses]
    winner = next(p for p, r in zip(personas, responses, strict=True) if r.status_code == 200)
    assert all(winner["codename"] in r.json()["detail"] for r in responses if r.status_code == 409)
    answer = await t.dana.post("/api/deconfliction", json={"alias_name": "jamie calloway"})
    assert [c["codename"] for c in answer.json()["conflicts"]] == [winner["codename"]]

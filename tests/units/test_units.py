"""Units (issue 12.1) through the HTTP API: the department as a tree of units, memberships,
and need-to-know that follows the tree for the supervisor and commander chain."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.harness import Person, World
from tests.personas.helpers import authorize_investigation, justification, request_persona


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _unit(admin: httpx.AsyncClient, name: str, parent_id: str | None = None) -> str:
    body = {"name": name} | ({"parent_id": parent_id} if parent_id else {})
    created = await _ok(await admin.post("/api/units", json=body), 201)
    unit_id: str = created["id"]
    return unit_id


async def _place(admin: httpx.AsyncClient, person: Person, *unit_ids: str) -> None:
    user = await _ok(await admin.put(f"/api/users/{person.id}/units", json={"unit_ids": list(unit_ids)}))
    assert sorted(user["unit_ids"]) == sorted(unit_ids)


@dataclass
class Tree:
    admin: httpx.AsyncClient
    bureau: str
    narcotics: str  # unit A
    fraud: str  # unit B


async def _tree(world: World) -> Tree:
    admin = await world.signin(await world.user("ada", "administrator"))
    bureau = await _unit(admin, "Investigations Bureau")
    return Tree(admin, bureau, await _unit(admin, "Narcotics", bureau), await _unit(admin, "Fraud", bureau))


async def _approve(world: World, approver: Person, client: httpx.AsyncClient, persona_id: str) -> None:
    await _ok(await client.post(f"/api/personas/{persona_id}/approve", json={"totp_code": world.code(approver)}))


async def test_the_chain_of_one_unit_sees_nothing_of_a_sibling_unit_and_the_parent_sees_both(world: World) -> None:
    t = await _tree(world)
    people = {
        name: await world.user(name, role)
        for name, role in [
            ("sam", "supervisor"),  # Narcotics
            ("cole", "commander"),  # Narcotics
            ("dana", "detective"),  # Narcotics
            ("erin", "detective"),  # Fraud
            ("fay", "supervisor"),  # Fraud
            ("chief", "commander"),  # the Bureau, above both
            ("olga", "supervisor"),  # no membership: the whole department, as before units
            ("alex", "authorizing_official"),
            ("aud", "auditor"),
        ]
    }
    for name in ("sam", "cole", "dana"):
        await _place(t.admin, people[name], t.narcotics)
    await _place(t.admin, people["erin"], t.fraud)
    await _place(t.admin, people["fay"], t.fraud)
    await _place(t.admin, people["chief"], t.bureau)
    c = {name: await world.signin(p) for name, p in people.items()}

    # Each detective opens in their one unit without naming it; the reads say which unit.
    narcotics_case = (await _ok(await c["dana"].post("/api/investigations", json=justification()), 201))["id"]
    fraud_case = await _ok(await c["erin"].post("/api/investigations", json=justification()), 201)
    assert (fraud_case["unit_id"], fraud_case["unit_name"]) == (t.fraud, "Fraud")
    fraud_case = fraud_case["id"]
    for case in (narcotics_case, fraud_case):
        await authorize_investigation(world, people["alex"], c["alex"], case)
    ours = await request_persona(c["dana"], narcotics_case, "Jamie Calloway")
    theirs = await request_persona(c["erin"], fraud_case, "Robin Ashby")
    for client, persona in ((c["dana"], ours), (c["erin"], theirs)):
        await _ok(await client.post(f"/api/personas/{persona['id']}/submit"))

    # Only the chain of the persona's unit (and above it) is told it waits for approval.
    told = {
        r["username"]
        for r in await world.db.fetch(
            "SELECT u.username FROM outbox o JOIN users u ON u.id = o.recipient_id WHERE o.dedupe_key LIKE $1",
            f"submitted:{theirs['id']}:%",
        )
    }
    assert "fay" in told and "olga" in told and "sam" not in told

    # Narcotics' supervisor cannot approve Fraud's persona: it is not there for them.
    response = await c["sam"].post(
        f"/api/personas/{theirs['id']}/approve", json={"totp_code": world.code(people["sam"])}
    )
    assert response.status_code == 404, response.text
    await _approve(world, people["fay"], c["fay"], theirs["id"])
    await _approve(world, people["sam"], c["sam"], ours["id"])
    reviews = await _ok(await c["chief"].get("/api/reviews"))
    assert len(reviews) == 2, reviews
    fraud_review = next(r["id"] for r in reviews if r["investigation_id"] == fraud_case)

    feeds = {}
    for name in ("sam", "cole", "chief", "olga"):
        feeds[name] = (await _ok(await c[name].post("/api/me/calendar-token"), 201))["url"]

    for name in ("sam", "cole"):
        client = c[name]
        assert (await client.get(f"/api/personas/{theirs['id']}")).status_code == 404
        assert (await client.get(f"/api/investigations/{fraud_case}")).status_code == 404
        assert (await client.get(f"/api/reviews/{fraud_review}")).status_code == 404
        listed = [p["codename"] for p in (await _ok(await client.get("/api/personas")))["items"]]
        assert listed == [ours["codename"]], (name, listed)
        cases = [i["id"] for i in (await _ok(await client.get("/api/investigations")))["items"]]
        assert cases == [narcotics_case], name
        calendar = [r["id"] for r in await _ok(await client.get("/api/reviews"))]
        assert fraud_review not in calendar and len(calendar) == 1, name
        feed = await world.client().get(feeds[name].removeprefix("https://registry.test"))
        assert ours["codename"] in feed.text and theirs["codename"] not in feed.text, name
        # The pages: the overview's counts and lists, and the approval queue.
        for page in ("/", "/queue", "/personas"):
            html = (await client.get(page)).text
            assert theirs["codename"] not in html and "Robin" not in html, (name, page)
        assert (await client.get("/api/central-record")).status_code == 403

    # The parent unit's commander, and a supervisor who was never given a unit, see both.
    for name in ("chief", "olga"):
        listed = {p["codename"] for p in (await _ok(await c[name].get("/api/personas")))["items"]}
        assert listed == {ours["codename"], theirs["codename"]}, name
        assert (await c[name].get(f"/api/reviews/{fraud_review}")).status_code == 200
        assert (await c[name].get(f"/api/investigations/{fraud_case}")).status_code == 200
        feed = await world.client().get(feeds[name].removeprefix("https://registry.test"))
        assert theirs["codename"] in feed.text, name

    # A detective of Narcotics on Fraud's investigation team sees that persona, as any member.
    await _ok(
        await c["erin"].post(f"/api/investigations/{fraud_case}/members", json={"user_id": str(people["dana"].id)})
    )
    assert (await c["dana"].get(f"/api/personas/{theirs['id']}")).status_code == 200
    listed = {p["codename"] for p in (await _ok(await c["dana"].get("/api/personas")))["items"]}
    assert listed == {ours["codename"], theirs["codename"]}
    # A supervisor of Narcotics on that team sees it too, but decides nothing for Fraud.
    await _ok(
        await c["erin"].post(f"/api/investigations/{fraud_case}/members", json={"user_id": str(people["sam"].id)})
    )
    assert (await c["sam"].get(f"/api/personas/{theirs['id']}")).status_code == 200
    response = await c["sam"].post(f"/api/personas/{theirs['id']}/renew", json={"totp_code": world.code(people["sam"])})
    assert response.status_code == 403 and "unit" in response.text, response.text
    response = await c["sam"].post(
        f"/api/investigations/{fraud_case}/members", json={"user_id": str(people["cole"].id)}
    )
    assert response.status_code == 403, response.text
    # Nor hands it over, equips it, or records its account disabled: the chain's steps are the
    # persona's own unit's, by the API as on the page.
    legal = await world.signin(await world.user("lee", "legal"))
    site = {"name": "Facebook", "url": "https://facebook.com", "tos_url": "https://fb.com/terms"}
    platform_id = (await _ok(await legal.post("/api/platforms", json=site), 201))["id"]
    account = {"platform_id": platform_id, "handle": "robin.ashby", "credential_ref": "vault:secret/robin"}
    account_id = (await _ok(await c["erin"].post(f"/api/personas/{theirs['id']}/accounts", json=account), 201))["id"]
    refused = [
        await c["sam"].post(
            f"/api/personas/{theirs['id']}/handover", json={"to_user_id": str(people["dana"].id), "reason": "Leave."}
        ),
        await c["sam"].post(f"/api/personas/{theirs['id']}/equipment", json={"equipment_id": str(uuid.uuid4())}),
        await c["sam"].post(f"/api/accounts/{account_id}/disabled", json={"note": "Gone from the site."}),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403], [r.text for r in refused]
    assert await world.db.fetchval("SELECT handler_id FROM personas WHERE id = $1", uuid.UUID(theirs["id"])) == (
        people["erin"].id
    )
    # A new Fraud request waits for Fraud's chain, not in the queue of a Narcotics supervisor on the team.
    waiting = await request_persona(c["erin"], fraud_case, "Lee Marsh")
    await _ok(await c["erin"].post(f"/api/personas/{waiting['id']}/submit"))
    assert waiting["codename"] not in (await c["sam"].get("/queue")).text
    assert waiting["codename"] in (await c["fay"].get("/queue")).text

    # The authorizing official weighs every investigation, whatever its unit.
    cases = {i["id"] for i in (await _ok(await c["alex"].get("/api/investigations")))["items"]}
    assert cases == {narcotics_case, fraud_case}

    # The central record tells each unit's records apart, and filters by a branch of the tree.
    record = await _ok(await c["aud"].get("/api/central-record", params={"unit_id": t.fraud}))
    assert {r["codename"] for r in record["items"]} == {theirs["codename"], waiting["codename"]}
    assert {r["unit"] for r in record["items"]} == {"Fraud"}
    record = await _ok(await c["aud"].get("/api/central-record", params={"unit_id": t.bureau}))
    assert {r["codename"] for r in record["items"]} == {ours["codename"], theirs["codename"], waiting["codename"]}


async def test_administrators_manage_the_tree_and_memberships_and_nobody_else_does(world: World) -> None:
    t = await _tree(world)
    dana = await world.user("dana", "detective")
    dana_client = await world.signin(dana)

    # Anyone signed in reads the tree (a form offers its units); only an administrator changes it.
    units = (await _ok(await dana_client.get("/api/units")))["items"]
    assert [u["name"] for u in units] == ["Department", "Investigations Bureau", "Fraud", "Narcotics"]
    root = units[0]
    assert root["parent_id"] is None and root["member_count"] == 2  # ada and dana: no membership yet
    for method, path, body in [
        ("POST", "/api/units", {"name": "Vice"}),
        ("PATCH", f"/api/units/{t.fraud}", {"name": "Frauds"}),
        ("GET", f"/api/units/{t.fraud}/members", None),
        ("PUT", f"/api/units/{t.fraud}/members/{dana.id}", None),
        ("DELETE", f"/api/units/{t.fraud}/members/{dana.id}", None),
        ("PUT", f"/api/users/{dana.id}/units", {"unit_ids": [t.fraud]}),
    ]:
        response = await dana_client.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)

    admin = t.admin
    # Names are unique; a parent that does not exist is a 404; a bad body a 422 naming the field.
    assert (await admin.post("/api/units", json={"name": "fraud"})).status_code == 409
    assert (await admin.post("/api/units", json={"name": "Vice", "parent_id": str(uuid.uuid4())})).status_code == 404
    response = await admin.post("/api/units", json={"name": ""})
    assert response.status_code in (400, 422) and "name" in response.text
    assert (await admin.patch(f"/api/units/{uuid.uuid4()}", json={"name": "X"})).status_code == 404
    assert (await admin.patch(f"/api/units/{t.fraud}", json={})).status_code in (400, 422)

    # No cycle, no second root.
    response = await admin.patch(f"/api/units/{t.bureau}", json={"parent_id": t.fraud})
    assert response.status_code == 409 and "below" in response.text
    response = await admin.patch(f"/api/units/{t.fraud}", json={"parent_id": None})
    assert response.status_code == 409 and "root" in response.text
    response = await admin.patch(f"/api/units/{root['id']}", json={"parent_id": t.fraud})
    assert response.status_code == 409
    # Rename and move: Fraud goes under Narcotics.
    moved = await _ok(
        await admin.patch(f"/api/units/{t.fraud}", json={"name": "Fraud Squad", "parent_id": t.narcotics})
    )
    assert (moved["name"], moved["parent_id"]) == ("Fraud Squad", t.narcotics)

    # Memberships: a new account can be given units at once; a user keeps at least one.
    created = await admin.post(
        "/api/users",
        json={
            "username": "erin",
            "display_name": "Erin",
            "roles": ["equipment_officer"],
            "password": "a long temporary passphrase",
            "unit_ids": [t.fraud],
        },
    )
    erin = await _ok(created, 201)
    assert erin["unit_ids"] == [t.fraud]
    await _ok(await admin.put(f"/api/units/{t.narcotics}/members/{erin['id']}"), 204)
    await _ok(await admin.post(f"/api/units/{t.narcotics}/members", json={"user_id": str(dana.id)}), 204)
    members = await _ok(await admin.get(f"/api/units/{t.narcotics}/members"))
    assert {m["username"] for m in members["items"]} == {"erin", "dana"}
    await _ok(await admin.delete(f"/api/units/{t.fraud}/members/{erin['id']}"), 204)
    response = await admin.delete(f"/api/units/{t.narcotics}/members/{erin['id']}")
    assert response.status_code == 409 and f"/api/users/{erin['id']}/units" in response.text
    assert (await admin.delete(f"/api/units/{t.fraud}/members/{erin['id']}")).status_code == 404
    assert (await admin.put(f"/api/units/{t.fraud}/members/{uuid.uuid4()}")).status_code == 404
    response = await admin.put(f"/api/users/{erin['id']}/units", json={"unit_ids": []})
    assert response.status_code in (400, 422) and "unit_ids" in response.text
    response = await admin.put(f"/api/users/{erin['id']}/units", json={"unit_ids": [str(uuid.uuid4())]})
    assert response.status_code == 404 and "unit_ids" in response.text
    users = (await _ok(await admin.get("/api/users")))["items"]
    assert next(u for u in users if u["username"] == "erin")["unit_ids"] == [t.narcotics]
    assert next(u for u in users if u["username"] == "ada")["unit_ids"] == [root["id"]]

    actions = {
        r["action"]
        for r in await world.db.fetch(
            "SELECT action FROM audit_event WHERE action LIKE 'unit.%' OR action = 'user.units.set'"
        )
    }
    assert actions == {"unit.create", "unit.update", "unit.member.add", "unit.member.remove", "user.units.set"}


async def test_an_investigation_opens_in_a_unit_of_the_opener_or_below_one(world: World) -> None:
    t = await _tree(world)
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)
    await _place(t.admin, dana, t.bureau, t.fraud)

    response = await client.post("/api/investigations", json=justification())
    assert response.status_code == 422 and "unit_id" in response.text
    # Below one of hers (Narcotics is under the Bureau): allowed; outside her branch: refused.
    opened = await _ok(await client.post("/api/investigations", json=justification() | {"unit_id": t.narcotics}), 201)
    assert opened["unit_name"] == "Narcotics"
    choices = [u["name"] for u in (await _ok(await client.get("/api/units/mine")))["items"]]
    assert choices == ["Fraud", "Investigations Bureau", "Narcotics"]
    await _place(t.admin, dana, t.fraud)
    response = await client.post("/api/investigations", json=justification() | {"unit_id": t.narcotics})
    assert response.status_code == 422 and "belong to" in response.text
    response = await client.post("/api/investigations", json=justification() | {"unit_id": str(uuid.uuid4())})
    assert response.status_code == 404
    detail = await _ok(await client.get(f"/api/investigations/{opened['id']}"))
    assert (detail["unit_id"], detail["unit_name"]) == (t.narcotics, "Narcotics")

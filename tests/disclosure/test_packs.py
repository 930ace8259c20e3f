"""Disclosure packs (issue 16.2): what was authorized, by whom and when, and that the rules held
on each day the persona was used, proved against the audit chain."""

from __future__ import annotations

import asyncio
import json

import asyncpg

from registry.disclosure import pack
from registry.disclosure.service import verify, verify_file
from tests.disclosure.helpers import IDENTITY_VALUES, export, files, rezip, worked_case
from tests.harness import World, details, eventually
from tests.web.pages import PAGE, post_form


async def prove(world: World, content: bytes):
    """The pack checked against the registry, on a connection of the test's own."""
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        return await verify(conn, content)
    finally:
        await conn.close()


async def test_a_pack_of_a_worked_case_verifies_against_the_registry(world):
    case = await worked_case(world)
    response = await export(case.auditor, investigation_id=case.r.t.investigation_id)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    assert "attachment" in response.headers["content-disposition"]
    result = await prove(world, response.content)
    assert result.ok, result.problems
    assert result.checked == ["files", "registry"]
    assert result.events_checked > 10

    members = files(response.content)
    assert set(members) == {"manifest.json", "report.json", "report.html"}
    report = json.loads(members["report.json"])
    inv = report["investigation"]
    [authorization] = inv["authorizations"]
    assert authorization["by"] == "alex"
    [persona] = report["personas"]
    steps = [h["action"] for h in persona["history"]]
    assert steps[:3] == ["requested", "submit", "approve"] and "activate" in steps
    # Each step cites the event that recorded it, not another of the same moment.
    assert {h["action"]: h["audit"]["action"] for h in persona["history"]} == {
        "requested": "persona.create",
        "submit": "persona.submit",
        "approve": "persona.approve",
        "account_requested": "account.request",
        "account_authorized": "account.authorize",
        "equipment_assigned": "equipment.assign",
        "activate": "persona.activate",
        "review": "review.hold",
    }
    approve = next(h for h in persona["history"] if h["action"] == "approve")
    assert approve["actor"] == "sam"
    [account] = persona["accounts"]
    assert account["authorized_by"] == "alex" and account["authorization_audit"]["action"] == "account.authorize"
    assert persona["tos_reviews"][0]["reviewed_by"] == "lee"
    assert persona["tos_acknowledgements"][0]["handler"] == "dana"
    [device] = persona["equipment"]
    assert device["asset_tag"] == "LT-0001" and device["inspections"][0]["passed"] is True
    [held] = [v for v in report["conduct_reviews"] if v["status"] == "held"]
    assert held["outcome"] == "continue" and held["audit"]["action"] == "review.hold"
    assert len(persona["activity"]) == 2
    for a in persona["activity"]:
        assert a["gate"]["ready"] is True, a["gate"]
        assert a["audit"]["action"] == "activity.record"

    # Each item's citation is the event's place and hash in the chain as the registry holds it.
    cited = [
        authorization["audit"],
        approve["audit"],
        account["authorization_audit"],
        device["inspections"][0]["audit"],
        persona["tos_acknowledgements"][0]["audit"],
        held["audit"],
        *(a["audit"] for a in persona["activity"]),
    ]
    for ref in cited:
        row = await world.db.fetchrow(
            "SELECT seq, encode(hash, 'hex') AS hash FROM audit_event WHERE id = $1", ref["event_id"]
        )
        assert (row["seq"], row["hash"]) == (ref["seq"], ref["hash"])
        assert ref["seq"] <= report["chain_head"]["seq"]
    head = await world.db.fetchrow(
        "SELECT encode(hash, 'hex') AS hash FROM audit_event WHERE seq = $1", report["chain_head"]["seq"]
    )
    assert head["hash"] == report["chain_head"]["hash"]
    html = members["report.html"].decode()
    assert persona["codename"] in html and inv["case_number"] in html and approve["audit"]["hash"] in html


async def test_export_is_audited_with_the_files_digest(world):
    case = await worked_case(world)
    response = await export(case.auditor, investigation_id=case.r.t.investigation_id)
    assert response.status_code == 200

    [event] = await world.events("disclosure.create")
    assert (event["actor"], event["outcome"], event["target_type"]) == ("audrey", "success", "investigation")
    recorded = details(event)
    assert recorded["sha256"] == pack.sha256(response.content)
    assert recorded["identity_part"] is False
    assert recorded["pack_id"] == json.loads(files(response.content)["manifest.json"])["pack_id"]


async def test_a_changed_byte_fails_verification_naming_the_file(world):
    case = await worked_case(world)
    content = (await export(case.auditor, investigation_id=case.r.t.investigation_id)).content
    members = files(content)
    report = members["report.json"]
    # One byte of the report: the approver's name becomes another user's.
    at = report.index(b'"approved_by": "sam"') + len(b'"approved_by": "s')
    changed = report[:at] + b"x" + report[at + 1 :]
    # The same manifest, the same other files: only that byte differs.
    forged = rezip(members | {"report.json": changed})

    offline = verify_file(forged)
    assert not offline.ok
    assert [(p.where, "SHA-256" in p.reason) for p in offline.problems] == [("report.json", True)]
    online = await prove(world, forged)
    assert not online.ok
    assert {p.where for p in online.problems} >= {"report.json", "pack"}


async def test_a_flipped_byte_anywhere_in_the_file_fails_verification(world):
    case = await worked_case(world)
    content = (await export(case.auditor, investigation_id=case.r.t.investigation_id)).content
    for offset in (40, len(content) // 2, len(content) - 30):
        flipped = content[:offset] + bytes([content[offset] ^ 0x01]) + content[offset + 1 :]
        result = await prove(world, flipped)
        assert not result.ok, offset
        assert result.problems and all(p.where and p.reason for p in result.problems)


async def test_a_pack_whose_chain_head_was_rewritten_consistently_is_refused_by_the_registry(world):
    """Someone recomputes every digest after changing the head: the bytes agree with themselves,
    the registry does not."""
    case = await worked_case(world)
    content = (await export(case.auditor, investigation_id=case.r.t.investigation_id)).content
    members = files(content)
    manifest = json.loads(members["manifest.json"])
    report = json.loads(members["report.json"])
    fake = {"seq": manifest["chain_head"]["seq"], "hash": "0" * 64}
    report["chain_head"] = fake
    rebuilt = pack.build(
        {"report.json": json.dumps(report).encode(), "report.html": members["report.html"]},
        {**{k: v for k, v in manifest.items() if k != "files"}, "chain_head": fake},
    )

    assert verify_file(rebuilt).ok
    result = await prove(world, rebuilt)
    assert not result.ok
    assert {p.where for p in result.problems} == {"chain_head", "pack"}


async def test_without_a_passphrase_no_identity_field_appears_anywhere(world):
    case = await worked_case(world)
    for client in (case.auditor, case.lawyer):
        content = (await export(client, investigation_id=case.r.t.investigation_id)).content
        members = files(content)
        assert pack.IDENTITY not in members
        for value in IDENTITY_VALUES:
            needle = value.encode()
            assert needle not in content
            assert all(needle not in data for data in members.values()), value
        # Nor what the registry encrypts at rest beside the identity: activity summaries.
        assert all(b"Browsed the resale group" not in data for data in members.values())


async def test_no_pack_is_made_while_the_chain_head_is_gone(world):
    case = await worked_case(world)
    case_number = await world.db.fetchval("SELECT case_number FROM investigations")
    await world.remove_chain_head()

    response = await export(case.auditor, investigation_id=case.r.t.investigation_id)
    page = await post_form(
        case.auditor, "/disclosures", {"case_number": case_number}, form_on="/disclosures", headers=PAGE
    )

    assert response.status_code == 409, response.text
    assert response.json()["title"] == "Audit chain broken"
    assert "head record is missing" in response.json()["detail"]
    assert page.status_code == 409 and page.headers["content-type"].startswith("text/html")
    assert "Audit chain broken" in page.text and "head record is missing" in page.text
    assert not [e for e in await world.events("disclosure.create") if e["outcome"] == "success"]


async def test_a_pack_is_one_moment_of_the_record(world):
    case = await worked_case(world)
    pid = case.r.pid
    # Another transaction suspends the persona while the pack is being made, holding the history
    # table until the pack has read the persona and waits for it.
    other = await asyncpg.connect(world.settings.database_url)
    try:
        await other.execute("BEGIN; LOCK TABLE persona_history IN ACCESS EXCLUSIVE MODE")
        making = asyncio.create_task(export(case.auditor, investigation_id=case.r.t.investigation_id))

        async def stopped() -> bool:
            waiting = await world.db.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query LIKE '%persona_history%'"
            )
            return making.done() or waiting == 1

        try:
            await eventually(stopped, "the pack waits for the history")
            assert not making.done(), "the pack never reached the history"
            await other.execute("UPDATE personas SET status = 'suspended' WHERE id = $1", pid)
            await other.execute(
                "INSERT INTO persona_history (persona_id, at, action, details) VALUES ($1, now(), 'suspend', '{}')",
                pid,
            )
            await other.execute("COMMIT")
            response = await making
        finally:
            making.cancel()
    finally:
        await other.close()

    assert response.status_code == 200, response.text
    [persona] = json.loads(files(response.content)["report.json"])["personas"]
    # The pack shows the persona as it stood when the pack began: still active, no suspension.
    assert persona["status"] == "active"
    assert "suspend" not in [h["action"] for h in persona["history"]]

"""The auditor's log reads one vocabulary: filtered by action (a member of the enum), actor,
codename and time, paged by keyset; every action the registry writes is a member."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from registry.audit.actions import Action
from tests.harness import POLICY, World, details
from tests.personas.helpers import approved_persona, request_persona, second_team, team

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


async def test_the_log_filters_by_action_actor_codename_and_time(world: World) -> None:
    t = await team(world)
    first = await approved_persona(t, "Jamie Calloway")
    second = await request_persona(t.dana, t.investigation_id, "Robin Ashdown")
    auditor = await world.signin(await world.user("aud", "auditor"))

    approvals = (await auditor.get("/api/audit", params={"action": "persona.approve"})).json()["items"]
    by_dana = (await auditor.get("/api/audit", params={"actor": "dana"})).json()["items"]
    about_second = (await auditor.get("/api/audit", params={"codename": second["codename"]})).json()["items"]
    none_yet = (await auditor.get("/api/audit", params={"to": "2020-01-01T00:00:00Z"})).json()["items"]
    unknown = await auditor.get("/api/audit", params={"action": "persona.delete_everything"})

    assert [(e["action"], e["actor"]) for e in approvals] == [("persona.approve", "sam")]
    assert by_dana and all(e["actor"] == "dana" for e in by_dana)
    assert {e["action"] for e in about_second} == {"persona.create"}
    assert first["codename"] not in str(about_second)
    assert none_yet == []
    assert unknown.status_code == 400


async def test_every_action_the_registry_wrote_is_in_the_vocabulary(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    await t.sam.post(f"/api/personas/{persona['id']}/suspend", json={"reason": "Pause."})
    await t.dana.get(f"/api/personas/{persona['id']}")

    written = {r["action"] for r in await world.db.fetch("SELECT DISTINCT action FROM audit_event")}

    assert written and written <= {a.value for a in Action}


async def test_a_case_number_finds_the_case_and_its_personas_and_a_password_sign_in_names_its_user(
    world: World,
) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    case = (await t.dana.get(f"/api/investigations/{t.investigation_id}")).json()["case_number"]
    _, erin, other_case = await second_team(world, t)
    other = await request_persona(erin, other_case, "Robin Ashdown")
    auditor = await world.signin(await world.user("aud", "auditor"))

    items = (await auditor.get("/api/audit", params={"case_number": case, "limit": "500"})).json()["items"]
    about = {(e["action"], e["details"].get("codename")) for e in items}

    assert {("investigation.create", None), ("investigation.authorize", None)} <= about
    assert {("persona.create", persona["codename"]), ("persona.approve", persona["codename"])} <= about
    assert other["codename"] not in str(items)
    assert all(e["target_id"] != other_case for e in items)
    signed_in = (await auditor.get("/api/audit", params={"action": "auth.login.password", "actor": "aud"})).json()
    assert [(e["actor"], e["actor_name"]) for e in signed_in["items"]] == [("aud", "Aud")]


async def test_keyset_pages_go_both_ways_without_overlap_or_gap(world: World) -> None:
    auditor = await world.signin(await world.user("aud", "auditor"))
    for _ in range(7):
        await world.client().post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
    params = {"action": "auth.login", "limit": "3"}
    expected = [
        r["id"] for r in await world.db.fetch("SELECT id FROM audit_event WHERE action = 'auth.login' ORDER BY id DESC")
    ]

    pages, cursor = [], None
    while True:
        page = (await auditor.get("/api/audit", params=params | ({"cursor": cursor} if cursor else {}))).json()
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["id"] for p in pages for e in p["items"]] == expected
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert pages[0]["prev_cursor"] is None

    back = []
    cursor = pages[-1]["prev_cursor"]
    while cursor is not None:
        page = (await auditor.get("/api/audit", params=params | {"cursor": cursor})).json()
        back.insert(0, [e["id"] for e in page["items"]])
        cursor = page["prev_cursor"]
    assert back == [[e["id"] for e in p["items"]] for p in pages[:-1]]
    assert (await auditor.get("/api/audit", params={"cursor": "a1x"})).status_code == 400


async def test_the_csv_export_keeps_the_filters_carries_no_identity_and_is_audited(
    database_url: str, tmp_path: Path
) -> None:
    # Times in the department's zone (the policy's `time_zone`), not the server's.
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.read_text().replace('time_zone = "UTC"', 'time_zone = "America/New_York"'))
    async with World.open(database_url, tmp_path / "w", START, policy_path=policy) as world:
        t = await team(world)
        persona = await approved_persona(t, "Jamie Calloway")
        await request_persona(t.dana, t.investigation_id, "Robin Ashdown")
        auditor = await world.signin(await world.user("aud", "auditor"))

        # A name typed as a spreadsheet formula is exported as text, never run.
        await world.db.execute(
            "UPDATE users SET display_name = '=HYPERLINK(\"https://x.example\")' WHERE username = 'dana'"
        )

        export = await auditor.get("/api/audit/export", params={"codename": persona["codename"]})

        assert export.status_code == 200
        assert export.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(export.text)))
        listed = (await auditor.get("/api/audit", params={"codename": persona["codename"], "limit": "500"})).json()
        assert [int(r["id"]) for r in rows] == [e["id"] for e in listed["items"]]
        assert {r["action"] for r in rows} >= {"persona.create", "persona.submit", "persona.approve"}
        assert all(persona["codename"] in r["details"] for r in rows)
        assert {r["actor_name"] for r in rows if r["actor"] == "dana"} == {'\'=HYPERLINK("https://x.example")'}
        assert "[" not in export.text and "{" not in export.text  # details read as "key: value", not Python
        for secret in ("Jamie Calloway", "Robin Ashdown", "1994-05-17", "Springfield", "forklift"):
            assert secret not in export.text
        assert rows[0]["occurred_at"].endswith(("-05:00", "-04:00"))
        [exported] = await world.events("audit.export")
        assert details(exported) == {"filters": {"codename": persona["codename"]}, "events": len(rows)}
        assert (
            await auditor.get(
                "/api/audit/export", params={"from": "2026-03-05T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
            )
        ).status_code == 400
        assert (await t.dana.get("/api/audit/export")).status_code == 403

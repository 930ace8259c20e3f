"""Confidentiality (003 IV.B.3): need-to-know in every query (anyone else gets 404 and an
absent list entry), identity fields only in the audited detail read, encrypted at rest, and
never shown to administrators or equipment officers."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest

from registry.observability import JsonFormatter
from tests.harness import World
from tests.personas.helpers import (
    approved_persona,
    database_text,
    hex_of,
    identity,
    open_investigation,
    request_persona,
    second_team,
    submitted_persona,
    team,
)

LEGEND_WORDS = "restores old motorbikes"
IDENTITY_FIELDS = {"identity", "alias_name", "date_of_birth", "location", "legend", "photo_provenance"}


def _keys(value: Any) -> set[str]:
    """Every key of every object in a JSON document."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


async def test_a_detective_outside_the_investigation_gets_404_and_an_empty_list(world: World) -> None:
    t = await team(world)
    persona = await submitted_persona(t)
    pid = persona["id"]
    _, erin, erin_inv = await second_team(world, t)
    own = await request_persona(erin, erin_inv, "Robin Ashdown")

    answers = [
        await erin.get(f"/api/personas/{pid}"),
        await erin.patch(f"/api/personas/{pid}", json={"identity": identity(location="Akron")}),
        await erin.post(f"/api/personas/{pid}/submit"),
        await erin.post(f"/api/personas/{pid}/suspend", json={"reason": "Looks odd."}),
        await erin.post(f"/api/personas/{pid}/retire", json={"reason": "Looks odd."}),
        await erin.post(f"/api/personas/{pid}/compromise", json={"report": "I think this one is burned."}),
    ]
    unknown = await erin.get(f"/api/personas/{uuid.uuid4()}")

    assert [a.status_code for a in answers] == [404] * len(answers)
    # Indistinguishable from a persona that does not exist.
    assert {a.json()["detail"] for a in answers} == {unknown.json()["detail"]}
    assert all(persona["codename"] not in a.text for a in answers)
    listed = await erin.get("/api/personas")
    assert [p["id"] for p in listed.json()["items"]] == [own["id"]]
    filtered = await erin.get("/api/personas", params={"investigation_id": t.investigation_id})
    assert filtered.json()["items"] == []
    assert (await world.db.fetchval("SELECT status FROM personas WHERE id = $1", uuid.UUID(pid))) == "submitted"
    assert [e["actor"] for e in await world.events("persona.read_identity")] == []


async def test_a_team_member_and_the_supervisor_see_it(world: World) -> None:
    t = await team(world)
    persona = await request_persona(t.dana, t.investigation_id)
    mo_person = await world.user("mo", "detective")
    mo = await world.signin(mo_person)
    assert (await mo.get(f"/api/personas/{persona['id']}")).status_code == 404

    await t.dana.post(f"/api/investigations/{t.investigation_id}/members", json={"user_id": str(mo_person.id)})

    assert (await mo.get(f"/api/personas/{persona['id']}")).json()["identity"]["alias_name"] == "Jamie Calloway"
    assert [p["id"] for p in (await mo.get("/api/personas")).json()["items"]] == [persona["id"]]
    assert [p["id"] for p in (await t.sam.get("/api/personas")).json()["items"]] == [persona["id"]]


async def _everything_an_outsider_can_ask(client: httpx.AsyncClient, pid: str, inv: str) -> list[httpx.Response]:
    return [
        await client.get("/api/personas"),
        await client.get(f"/api/personas/{pid}"),
        await client.get(f"/api/personas?investigation_id={inv}"),
        await client.patch(f"/api/personas/{pid}", json={"identity": identity(location="Akron")}),
        await client.post("/api/deconfliction", json={"alias_name": "Jamie Calloway"}),
        await client.get("/api/investigations"),
        await client.get(f"/api/investigations/{inv}"),
        await client.get("/api/central-record"),
        await client.get("/api/audit"),
    ]


async def test_administrators_and_equipment_officers_never_see_the_alias(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    admin = await world.signin(await world.user("ada", "administrator"))
    equipment = await world.signin(await world.user("eli", "equipment_officer"))

    for client in (admin, equipment):
        answers = await _everything_an_outsider_can_ask(client, persona["id"], t.investigation_id)

        assert {a.status_code for a in answers} <= {403, 404}, [(a.request.url, a.status_code) for a in answers]
        assert answers[1].status_code in (403, 404)
        for answer in answers:
            assert "calloway" not in answer.text.casefold()
            assert LEGEND_WORDS not in answer.text
    # What an administrator may see (users) carries no identity either.
    users = await admin.get("/api/users")
    assert users.status_code == 200
    assert "calloway" not in users.text.casefold()
    assert [e["actor"] for e in await world.events("persona.read_identity")] == []


async def test_lists_never_carry_identity_fields(world: World) -> None:
    t = await team(world)
    await approved_persona(t, "Jamie Calloway")
    await request_persona(t.dana, t.investigation_id, "Robin Ashdown")

    for client in (t.dana, t.sam):
        listed = await client.get("/api/personas")

        assert listed.status_code == 200
        items = listed.json()["items"]
        assert len(items) == 2
        assert not _keys(listed.json()) & IDENTITY_FIELDS
        assert {"id", "codename", "status", "handler", "investigation_id", "approval_expires_at"} <= set(items[0])
        assert "calloway" not in listed.text.casefold()
        assert "ashdown" not in listed.text.casefold()
        assert LEGEND_WORDS not in listed.text
    assert await world.events("persona.read_identity") == []


async def test_the_database_holds_no_alias_legend_or_handle_in_clear(world: World) -> None:
    t = await team(world)
    platform = await t.world.signin(await world.user("lee", "legal"))
    created = await platform.post(
        "/api/platforms",
        json={"name": "Marketbook", "url": "https://marketbook.example", "tos_url": "https://marketbook.example/tos"},
    )
    persona = await approved_persona(t, "Jamie Calloway")
    account = await t.dana.post(
        f"/api/personas/{persona['id']}/accounts",
        json={
            "platform_id": created.json()["id"],
            "handle": "wrenchmonkey_jc",
            "profile_url": "https://marketbook.example/wrenchmonkey_jc",
            "email": "jc.wrenches@mail.example",
            "credential_ref": "vault:secret/personas/wrench",
        },
    )
    assert account.status_code == 201, account.text
    # Reads, edits, refusals and deconfliction all leave traces behind: none may be in clear.
    await t.dana.get(f"/api/personas/{persona['id']}")
    await t.dana.post("/api/deconfliction", json={"alias_name": "Jamie Calloway"})
    await t.dana.post("/api/personas", json={"investigation_id": t.investigation_id, "identity": identity()})

    dump = await database_text(world)

    assert persona["codename"] in dump  # the dump is real
    for secret in ("Jamie Calloway", "Calloway", LEGEND_WORDS, "Springfield", "wrenchmonkey", "jc.wrenches"):
        assert secret.casefold() not in dump.casefold(), secret
        assert hex_of(secret) not in dump, secret
    for table in ("personas", "platform_accounts", "audit_event", "persona_history"):
        rows = await world.db.fetch(f"SELECT t::text AS row FROM {table} t")
        assert rows, table
        assert not any("calloway" in r["row"].casefold() for r in rows), table


async def test_every_identity_read_is_audited(world: World) -> None:
    t = await team(world)
    persona = await request_persona(t.dana, t.investigation_id)
    pid = persona["id"]

    for client in (t.dana, t.sam, t.dana):
        assert (await client.get(f"/api/personas/{pid}")).status_code == 200

    reads = await world.events("persona.read_identity")
    assert [(e["actor"], e["target_id"], e["outcome"]) for e in reads] == [
        ("dana", pid, "success"),
        ("sam", pid, "success"),
        ("dana", pid, "success"),
    ]
    assert all(persona["codename"] in e["details"] for e in reads)
    assert not any("calloway" in e["details"].casefold() for e in reads)

    # The event is written by the read's own statement: a read outside need-to-know finds
    # nothing and records nothing, and a read whose event cannot be written reads nothing.
    _, erin, _ = await second_team(world, t)
    assert (await erin.get(f"/api/personas/{pid}")).status_code == 404
    refuse = "ALTER TABLE audit_event ADD CONSTRAINT test_refuse_reads CHECK (action <> 'persona.read_identity')"
    await world.db.execute(refuse + " NOT VALID")
    try:
        refused = await t.sam.get(f"/api/personas/{pid}")
    finally:
        await world.db.execute("ALTER TABLE audit_event DROP CONSTRAINT test_refuse_reads")
    assert refused.status_code == 500 and "calloway" not in refused.text.casefold()
    assert len(await world.events("persona.read_identity")) == len(reads)


async def test_an_image_of_an_employee_without_consent_is_refused(world: World) -> None:
    t = await team(world)
    photo = {"source": "department photo day", "description": "officer portrait", "depicts_department_employee": True}

    refused = await t.dana.post(
        "/api/personas",
        json={"investigation_id": t.investigation_id, "identity": identity(photo_provenance=[photo])},
    )

    assert refused.status_code in (400, 422)
    assert "consent" in refused.json()["detail"]
    assert await world.db.fetchval("SELECT count(*) FROM personas") == 0
    consent = {"given_by": "Officer R. Diaz", "recorded_on": "2026-02-20", "reference": "HR-2026-118"}
    accepted = await t.dana.post(
        "/api/personas",
        json={
            "investigation_id": t.investigation_id,
            "identity": identity(photo_provenance=[photo | {"consent": consent}]),
        },
    )
    assert accepted.status_code == 201, accepted.text
    shown = (await t.dana.get(f"/api/personas/{accepted.json()['id']}")).json()
    assert shown["identity"]["photo_provenance"][0]["consent"]["given_by"] == "Officer R. Diaz"
    # Nor can the consent be taken away later.
    edited = await t.dana.patch(
        f"/api/personas/{accepted.json()['id']}", json={"identity": identity(photo_provenance=[photo])}
    )
    assert edited.status_code in (400, 422)
    assert "consent" in edited.json()["detail"]


async def test_pages_follow_the_cursor_within_need_to_know(world: World) -> None:
    t = await team(world)
    mine = [(await request_persona(t.dana, t.investigation_id, f"Alias Number{n}"))["id"] for n in range(5)]
    _, erin, erin_inv = await second_team(world, t)
    theirs = [(await request_persona(erin, erin_inv, f"Other Person{n}"))["id"] for n in range(2)]
    second_inv = await open_investigation(t.dana)
    elsewhere = (await request_persona(t.dana, second_inv, "Alias Elsewhere"))["id"]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, "investigation_id": t.investigation_id}
        if cursor:
            params["cursor"] = cursor
        page = await t.dana.get("/api/personas", params=params)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 2
        seen += [p["id"] for p in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        pages += 1
        if cursor is None:
            break

    assert sorted(seen) == sorted(mine)
    assert len(seen) == len(set(seen))
    assert pages == 3
    everything = await t.dana.get("/api/personas", params={"limit": 200})
    assert {p["id"] for p in everything.json()["items"]} == {*mine, elsewhere}
    assert not {p["id"] for p in everything.json()["items"]} & set(theirs)
    unit = await t.sam.get("/api/personas", params={"limit": 200})
    assert {p["id"] for p in unit.json()["items"]} == {*mine, *theirs, elsewhere}
    drafts = await t.sam.get("/api/personas", params={"status": "submitted"})
    assert drafts.json()["items"] == []
    bad = await t.dana.get("/api/personas", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert "cursor" in bad.json()["detail"]


async def test_identity_answers_are_not_cached_and_logs_carry_no_identity(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    t = await team(world)
    caplog.set_level(logging.DEBUG)
    persona = await approved_persona(t)
    shown = await t.dana.get(f"/api/personas/{persona['id']}")
    await t.dana.post("/api/personas", json={"investigation_id": t.investigation_id, "identity": identity()})
    await t.dana.patch(f"/api/personas/{persona['id']}", json={"identity": identity(date_of_birth="2999-01-01")})
    await t.dana.post("/api/deconfliction", json={"alias_name": "Jamie Calloway"})

    assert shown.headers["cache-control"] == "no-store"
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records).casefold()
    assert "/api/personas" in logged  # the requests were logged...
    for secret in ("calloway", "springfield", "motorbikes", "1994-05-17"):
        assert secret not in logged, secret  # ...without what they carried


async def test_the_authorizing_official_weighs_the_case_and_the_account_but_never_reads_the_identity(
    world: World,
) -> None:
    t = await team(world)
    persona = await approved_persona(t, "Jamie Calloway")
    legal = await world.signin(await world.user("lee", "legal"))
    platform = await legal.post(
        "/api/platforms", json={"name": "Marketbook", "url": "https://mb.example", "tos_url": "https://mb.example/t"}
    )
    account = await t.dana.post(
        f"/api/personas/{persona['id']}/accounts",
        json={
            "platform_id": platform.json()["id"],
            "handle": "jamie.calloway94",
            "profile_url": "https://mb.example/j",
        },
    )
    assert account.status_code == 201, account.text

    # The case and its justification, to weigh.
    case = await t.alex.get(f"/api/investigations/{t.investigation_id}")
    assert case.status_code == 200
    assert case.json()["necessity"]
    # The account awaiting a decision: platform, handle, profile.
    [waiting] = (await t.alex.get("/api/accounts")).json()
    assert waiting["account"]["handle"] == "jamie.calloway94"
    assert waiting["account"]["platform"] == "Marketbook"
    # Never the legend, the date of birth or the location: not through the persona, its gate,
    # the list, or the activity log.
    for path in ("", "/gate", "/activity", "/steps"):
        response = await t.alex.get(f"/api/personas/{persona['id']}{path}")
        assert response.status_code in (403, 404), path
        assert LEGEND_WORDS not in response.text and "calloway" not in response.text.casefold()
    assert (await t.alex.get("/api/personas")).json()["items"] == []
    authorized = await t.alex.post(
        f"/api/accounts/{account.json()['id']}/authorize", json={"totp_code": world.code(t.official)}
    )
    assert authorized.status_code == 200, authorized.text
    assert await world.events("persona.read_identity") == []

"""Who may export a pack, and who may put the identities in it."""

from __future__ import annotations

import json

import pytest

from registry.disclosure import pack
from registry.disclosure.pack import PackError
from tests.disclosure.helpers import IDENTITY_VALUES, PASSPHRASE, export, files, worked_case
from tests.harness import details


async def test_legal_adds_the_identity_part_that_opens_with_the_passphrase_only(world):
    case = await worked_case(world)
    response = await export(case.lawyer, persona_id=case.r.pid, passphrase=PASSPHRASE)
    assert response.status_code == 200, response.text
    members = files(response.content)
    assert pack.IDENTITY in members

    [opened] = pack.open_identity(response.content, PASSPHRASE)
    assert opened["codename"] == json.loads(members["report.json"])["personas"][0]["codename"]
    assert opened["identity"]["alias_name"] == "Jamie Calloway"
    assert opened["identity"]["date_of_birth"] == "1994-05-17"
    assert opened["accounts"][0]["handle"] == "jamie.calloway94"
    with pytest.raises(PackError, match="passphrase does not open"):
        pack.open_identity(response.content, "not the passphrase at all")
    # Outside the encrypted part, still nothing of the identity.
    for name, data in members.items():
        if name != pack.IDENTITY:
            assert all(v.encode() not in data for v in IDENTITY_VALUES), name
    assert all(v.encode() not in members[pack.IDENTITY] for v in IDENTITY_VALUES)

    # The export and the identity it disclosed are both in the audit log.
    [event] = await world.events("disclosure.create")
    assert details(event)["identity_part"] is True and event["actor"] == "lee"
    reads = [details(e) for e in await world.events("persona.read_identity")]
    assert {"codename": opened["codename"], "purpose": "disclosure pack", "pack_id": details(event)["pack_id"]} in reads


async def test_an_identity_part_moved_into_another_pack_does_not_open(world):
    case = await worked_case(world)
    one = (await export(case.lawyer, persona_id=case.r.pid, passphrase=PASSPHRASE)).content
    other = (await export(case.lawyer, persona_id=case.r.pid)).content
    members = files(other)
    envelope = json.loads(files(one)[pack.IDENTITY])
    envelope["pack_id"] = json.loads(members["manifest.json"])["pack_id"]
    moved = pack.build(
        {**{k: v for k, v in members.items() if k != "manifest.json"}, pack.IDENTITY: json.dumps(envelope).encode()},
        {k: v for k, v in json.loads(members["manifest.json"]).items() if k != "files"},
    )
    with pytest.raises(PackError):
        pack.open_identity(moved, PASSPHRASE)


async def test_an_auditor_may_not_take_the_identity_and_the_refusal_is_audited(world):
    case = await worked_case(world)
    response = await export(case.auditor, persona_id=case.r.pid, passphrase=PASSPHRASE)

    assert response.status_code == 403
    assert "legends" in response.json()["detail"]
    [denied] = await world.events("disclosure.create")
    assert (denied["outcome"], denied["actor"]) == ("denied", "audrey")
    assert await world.events("persona.read_identity") == []


async def test_detectives_supervisors_and_administrators_get_403(world):
    case = await worked_case(world)
    admin = await world.signin(await world.user("ada", "administrator"))
    officer = case.r.equipment
    for client in (case.r.t.dana, case.r.t.sam, case.r.t.alex, admin, officer, case.cora_client):
        response = await export(client, investigation_id=case.r.t.investigation_id)
        assert response.status_code == 403, response.text
    assert await world.events("disclosure.create") == []
    anonymous = await world.client().post("/api/disclosures", json={"investigation_id": case.r.t.investigation_id})
    assert anonymous.status_code == 401


async def test_bad_requests_say_what_to_fix(world):
    case = await worked_case(world)
    both = await export(case.auditor, investigation_id=case.r.t.investigation_id, persona_id=case.r.pid)
    neither = await export(case.auditor)
    short = await export(case.lawyer, persona_id=case.r.pid, passphrase="short")
    unknown = await export(case.auditor, persona_id="00000000-0000-4000-8000-000000000000")
    unknown_case = await export(case.auditor, investigation_id="00000000-0000-4000-8000-000000000000")

    assert both.status_code == 400 and "not both" in both.json()["detail"]
    assert neither.status_code == 400 and "either investigation_id" in neither.json()["detail"]
    assert short.status_code == 400 and "passphrase" in short.json()["detail"]
    assert (unknown.status_code, unknown_case.status_code) == (404, 404)
    assert await world.events("disclosure.create") == []

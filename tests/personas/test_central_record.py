"""The central record for auditors and inspectors: per persona the dates of request, approval
(by whom), renewals, suspensions, cancellation or compromise; codenames only; JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from tests.harness import World
from tests.personas.helpers import approved_persona, request_persona, team

IDENTITY_WORDS = ("calloway", "ashdown", "springfield", "motorbikes", "1994-05-17")


async def test_the_auditor_reads_dates_and_deciders_by_codename(world: World) -> None:
    t = await team(world)
    requested_at = world.clock.now()
    approved = await approved_persona(t, "Jamie Calloway")
    approved_at = world.clock.now()
    await t.sam.post(f"/api/personas/{approved['id']}/suspend", json={"reason": "Review overdue."})
    burned = await request_persona(t.dana, t.investigation_id, "Robin Ashdown")
    await t.dana.post(
        f"/api/personas/{burned['id']}/compromise", json={"report": "The alias was recognised at a meet-up."}
    )
    auditor = await world.signin(await world.user("aud", "auditor"))

    record = await auditor.get("/api/central-record")

    assert record.status_code == 200, record.text
    items = {item["codename"]: item for item in record.json()["items"]}
    assert set(items) == {approved["codename"], burned["codename"]}
    first = items[approved["codename"]]
    assert first["status"] == "suspended"
    assert first["requested_by"] == "dana"
    assert requested_at <= datetime.fromisoformat(first["requested_at"]) <= approved_at
    assert [(datetime.fromisoformat(a["at"]), a["by"]) for a in first["approvals"]] == [(approved_at, "sam")]
    assert len(first["suspensions"]) == 1
    assert first["compromised_at"] is None
    assert items[burned["codename"]]["status"] == "compromised"
    assert items[burned["codename"]]["compromised_at"] is not None
    assert items[burned["codename"]]["approvals"] == []
    text = record.text.casefold()
    for word in IDENTITY_WORDS:
        assert word not in text, word
    # No free text either: reasons and reports stay in the persona's own history.
    assert "recognised" not in text
    assert "overdue" not in text
    assert len(await world.events("central_record.read")) == 1


async def test_renewals_are_listed_with_who_renewed(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    world.clock.advance(timedelta(days=170))
    sam = await world.signin(t.supervisor)
    renewed = await sam.post(f"/api/personas/{persona['id']}/renew", json={"totp_code": world.code(t.supervisor)})
    assert renewed.status_code == 200
    auditor = await world.signin(await world.user("aud", "auditor"))

    [item] = (await auditor.get("/api/central-record")).json()["items"]

    assert [r["by"] for r in item["renewals"]] == ["sam"]
    assert len(item["approvals"]) == 1


async def test_the_central_record_as_csv(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    auditor = await world.signin(await world.user("aud", "auditor"))

    exported = await auditor.get("/api/central-record", headers={"Accept": "text/csv"})

    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:5] == ["codename", "case_number", "status", "requested_at", "requested_by"]
    assert "approvals" in rows[0]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["codename"], row["status"], row["requested_by"]) == (persona["codename"], "approved", "dana")
    assert "by sam" in row["approvals"]
    for word in IDENTITY_WORDS:
        assert word not in exported.text.casefold()


async def test_only_auditors_read_the_central_record(world: World) -> None:
    t = await team(world)
    await approved_persona(t)

    for client in (t.dana, t.sam, t.alex):
        refused = await client.get("/api/central-record")
        assert refused.status_code == 403
        assert refused.json()["detail"]
    assert await world.events("central_record.read") == []


async def test_the_central_record_of_a_worked_case_lists_every_dated_decision_and_no_identity(world: World) -> None:
    from tests.lifecycle.setup import prepare
    from tests.personas.helpers import open_investigation
    from tests.reviews.helpers import commander

    r = await prepare(world)
    t = r.t
    assert (await t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    second = await t.dana.post(
        f"/api/personas/{r.pid}/accounts", json={"platform_id": r.platform_id, "handle": "jamie.second"}
    )
    declined = await t.alex.post(
        f"/api/accounts/{second.json()['id']}/decline",
        json={"reason": "One account is enough.", "totp_code": world.code(t.official)},
    )
    assert declined.status_code == 200, declined.text
    _, cora = await commander(world)
    review = (await cora.get("/api/reviews")).json()[0]
    held = await cora.post(
        f"/api/reviews/{review['id']}/complete",
        json={
            "held_on": world.clock.now().date().isoformat(),
            "attendees": [review["handler"]["id"]],
            "notes": "In line with 003.",
            "outcome": "continue",
        },
    )
    assert held.status_code == 200, held.text
    erin = await world.user("erin", "detective")
    handed = await t.sam.post(f"/api/personas/{r.pid}/handover", json={"to_user_id": str(erin.id), "reason": "Leave."})
    assert handed.status_code == 200, handed.text
    assert (await t.sam.post(f"/api/personas/{r.pid}/suspend", json={"reason": "Pause."})).status_code == 200
    refused_case = await open_investigation(t.dana, "2026-REF")
    refused = await t.alex.post(
        f"/api/investigations/{refused_case}/refuse", json={"reason": "Not shown.", "totp_code": world.code(t.official)}
    )
    assert refused.status_code == 200
    auditor = await world.signin(await world.user("aud", "auditor"))

    body = (await auditor.get("/api/central-record")).json()

    [row] = [i for i in body["items"] if i["codename"] == r.persona["codename"]]
    assert [a["by"] for a in row["approvals"]] == ["sam"]
    assert row["approvals"][0]["policy_version"] == "2026.1"
    assert [(a["status"], a["authorized_by"], a["declined_by"]) for a in row["accounts"]] == [
        ("authorized", "alex", None),
        ("declined", None, "alex"),
    ]
    assert [(x["by"], x["outcome"]) for x in row["reviews"]] == [("cora", "continue")]
    assert [(h["from"], h["to"], h["by"]) for h in row["handovers"]] == [("dana", "erin", "sam")]
    assert [(s["by"], s["cause"]) for s in row["suspended"]] == [("sam", "by_hand")]
    cases = {c["case_number"]: c for c in body["investigations"]}
    assert cases["2026-REF"]["status"] == "refused" and cases["2026-REF"]["refused_by"] == "alex"
    authorized = next(c for c in body["investigations"] if c["case_number"] != "2026-REF")
    assert authorized["authorized_by"] == "alex" and authorized["lapsed"] is False
    text = str(body).casefold()
    for word in (*IDENTITY_WORDS, "jamie.second", "one account is enough", "leave.", "pause."):
        assert word not in text, word

    # Filters: a status, and a date range that ends before anything happened.
    suspended = (await auditor.get("/api/central-record", params={"status": "suspended"})).json()["items"]
    assert [i["codename"] for i in suspended] == [r.persona["codename"]]
    early = (await auditor.get("/api/central-record", params={"to": "2020-01-01"})).json()
    assert early["items"] == [] and early["investigations"] == []
    bad = await auditor.get("/api/central-record", params={"from": "2026-03-10", "to": "2026-03-01"})
    assert bad.status_code == 400

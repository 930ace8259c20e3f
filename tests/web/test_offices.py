"""Smoke tests of the offices' pages: each renders for its role and each form works once."""

from __future__ import annotations

import re

from tests.harness import World, details
from tests.personas.helpers import approved_persona, team
from tests.web.pages import post_form, sign_in_with_forms


async def test_the_equipment_officer_registers_and_inspects_a_device(world: World) -> None:
    officer = await world.user("eve", "equipment_officer")
    client = await sign_in_with_forms(world, officer)
    assert (await client.get("/equipment")).status_code == 200

    form = {"asset_tag": "LT-0042", "kind": "laptop", "serial": "SN-42", "ownership": "department"}
    response = await post_form(client, "/equipment", form, form_on="/equipment")
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert "Device registered." in page.text and "LT-0042" in page.text and "Never inspected" in page.text

    device = re.search(r'action="/equipment/([0-9a-f-]{36})/inspections"', page.text)
    assert device
    inspect = f"/equipment/{device.group(1)}/inspections"
    untouched = await post_form(client, inspect, {"notes": "Clean build."}, form_on="/equipment")
    assert untouched.status_code == 400
    assert untouched.text.count("Answer yes or no:") == 3  # each of the three checks, named in the summary
    assert untouched.text.count("Choose Yes or No.") == 3  # and beside each
    assert "Inspection" not in untouched.text.split("<h1>")[1].split("</h1>")[0]

    answers = {"on_department_network": "no", "department_identifiers_present": "no", "attributable_connection": "no"}
    response = await post_form(client, inspect, answers | {"notes": "Clean build."}, form_on="/equipment")
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert "LT-0042 passed</strong> its isolation inspection" in page.text

    response = await post_form(client, inspect, answers | {"attributable_connection": "yes"}, form_on="/equipment")
    page = await client.get(response.headers["location"])
    assert "LT-0042 failed</strong>" in page.text
    assert "its internet connection is attributable to the department" in page.text

    refused = await post_form(
        client, "/equipment", form | {"asset_tag": "LT-0043", "ownership": "personal"}, form_on="/equipment"
    )
    assert refused.status_code in (400, 403, 409, 422)
    assert 'class="error"' in refused.text


async def test_legal_adds_a_platform_and_reviews_its_terms(world: World) -> None:
    legal = await world.user("lee", "legal")
    client = await sign_in_with_forms(world, legal)
    assert (await client.get("/platforms")).status_code == 200

    form = {"name": "Marketplace", "url": "https://market.example", "tos_url": "https://market.example/terms"}
    response = await post_form(client, "/platforms", form, form_on="/platforms")
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert "Platform added to the catalog." in page.text and "No terms-of-service review yet" in page.text

    platform = re.search(r'action="/platforms/([0-9a-f-]{36})/tos-reviews"', page.text)
    assert platform
    k = platform.group(1) + "."
    review = {
        k + "reviewed_on": "2026-03-01",
        k + "tos_version": "2026-01",
        k + "prohibits_false_identity": "yes",
        k + "prohibits_automation": "no",
        k + "risk": "medium",
        k + "notes": "Use sparingly.",
    }
    response = await post_form(client, f"/platforms/{platform.group(1)}/tos-reviews", review, form_on="/platforms")
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert "review of Marketplace recorded" in page.text and "No active persona is blocked by it." in page.text
    assert "version 2026-01" in page.text

    newer = review | {k + "reviewed_on": "2026-03-02", k + "tos_version": "2026-03", k + "prohibits_automation": "yes"}
    response = await post_form(client, f"/platforms/{platform.group(1)}/tos-reviews", newer, form_on="/platforms")
    page = await client.get(response.headers["location"])
    current, earlier = page.text.split("Earlier reviews (1)")
    assert "version 2026-03" in current and "version 2026-01" in earlier  # the superseded review stays on the record


async def test_the_auditor_reads_and_verifies_the_log_and_exports_the_central_record(world: World) -> None:
    persona = await approved_persona(await team(world))
    auditor = await world.user("aud", "auditor")
    client = await sign_in_with_forms(world, auditor)
    page = await client.get("/audit")
    assert page.status_code == 200 and "auth.login" in page.text

    response = await post_form(client, "/audit/verify", {}, form_on="/audit")
    assert response.status_code == 200, response.text
    assert "The chain holds" in response.text

    record = await client.get("/central-record")
    assert record.status_code == 200
    assert persona["codename"] in record.text and "2026-03-02 by sam" in record.text
    export = await client.get("/central-record.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert export.text.splitlines()[0].startswith("codename")
    assert persona["codename"] in export.text


async def test_the_administrator_adds_a_user_and_unlocks_one(world: World) -> None:
    admin = await world.user("root", "administrator")
    locked = await world.user("lou", "detective")
    client = await sign_in_with_forms(world, admin)
    assert (await client.get("/users")).status_code == 200

    form = {
        "username": "newbie",
        "display_name": "New Bie",
        "roles": ["detective"],
        "password": "correct horse battery staple",
    }
    response = await post_form(client, "/users", form, form_on="/users")
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert "Account created." in page.text and "New Bie" in page.text

    for _ in range(10):
        await world.client().post("/api/auth/login", json={"username": "lou", "password": "wrong password!"})
    page = await client.get("/users")
    assert f'href="/users/{locked.id}/unlock"' in page.text
    assert f'href="/users/{admin.id}/' not in page.text  # nothing risky offered on one's own account
    confirm = await client.get(f"/users/{locked.id}/unlock")
    assert confirm.status_code == 200 and "<h1>Unlock Lou" in confirm.text

    unlock = f"/users/{locked.id}/unlock"
    no_reason = await post_form(client, unlock, {"reason": " "}, form_on=unlock)
    assert no_reason.status_code == 400 and "Give the reason" in no_reason.text
    response = await post_form(client, unlock, {"reason": "Called the desk; typo in caps lock."}, form_on=unlock)
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert "Account unlocked." in page.text
    assert f'href="/users/{locked.id}/unlock"' not in page.text
    [event] = await world.events("user.unlock")
    assert details(event) == {"reason": "Called the desk; typo in caps lock."}

    reset = f"/users/{locked.id}/reset-password"
    weak = await post_form(client, reset, {"password": "password", "reason": "Forgot it"}, form_on=reset)
    assert weak.status_code in (400, 422) and 'id="e-password"' in weak.text
    response = await post_form(
        client, reset, {"password": "amber kettle orbit seventy", "reason": "Forgot it, ticket 12"}, form_on=reset
    )
    assert response.status_code == 303, response.text
    assert "Temporary password set" in (await client.get(response.headers["location"])).text
    [event] = await world.events("user.reset_password")
    assert details(event) == {"reason": "Forgot it, ticket 12"}

    assert (await client.get(f"/users/{admin.id}/reset-mfa")).status_code == 403
    own = await post_form(client, f"/users/{admin.id}/reset-mfa", {"reason": "just because"}, form_on="/users")
    assert own.status_code == 403
    assert await world.events("user.reset_mfa") == []

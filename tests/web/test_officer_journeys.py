"""The journeys that used to end in curl, in headless Chromium with JavaScript off (issue 13.1,
13.2, 16.1): a detective changes a rejected persona and submits it again; the supervisor works
the approval queue from the longest waiting to the next; a team member and a new handler are
picked by name; a site's disabling of an account, a declined account and a released device are
recorded from the persona's page; a burned persona's linkage report is assessed. Forms sent
about a persona outside the sender's need-to-know answer 404. Screenshots land in
artifacts/screenshots/."""

from __future__ import annotations

import base64
import contextlib
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page, expect

from tests.harness import Person, World
from tests.lifecycle.setup import inspect, register_device
from tests.personas.helpers import identity
from tests.web.conftest import LiveServer, shoot
from tests.web.pages import api_as, justification, post_form, sign_in_browser, sign_in_with_forms


@contextlib.asynccontextmanager
async def signed_in(browser: Browser, live: LiveServer, world: World, person: Person) -> AsyncIterator[Page]:
    """A browser of the person's own (cookies apart from anyone else's), JavaScript off."""
    context = await browser.new_context(
        base_url=live.url, viewport={"width": 1280, "height": 860}, java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        await sign_in_browser(page, world, person)
        yield page
    finally:
        await context.close()


def _photo() -> bytes:
    """A photo-like PNG: broad shapes on a gradient."""
    image = Image.new("RGB", (256, 256))
    draw = ImageDraw.Draw(image)
    for y in range(256):
        draw.line([(0, y), (256, y)], fill=(y, (y * 3) % 256, 255 - y))
    draw.ellipse([40, 60, 150, 170], fill=(200, 40, 90))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def _case(client: httpx.AsyncClient, case_number: str) -> str:
    response = await client.post("/api/investigations", json=justification(case_number))
    assert response.status_code == 201, response.text
    investigation_id: str = response.json()["id"]
    return investigation_id


async def _persona(client: httpx.AsyncClient, investigation_id: str, codename: str, alias: str) -> str:
    response = await client.post(
        "/api/personas", json={"investigation_id": investigation_id, "codename": codename, "identity": identity(alias)}
    )
    assert response.status_code == 201, response.text
    persona_id: str = response.json()["id"]
    return persona_id


async def _platform(client: httpx.AsyncClient, name: str) -> str:
    body = {"name": name, "url": f"https://{name.lower()}.example", "tos_url": f"https://{name.lower()}.example/tos"}
    response = await client.post("/api/platforms", json=body)
    assert response.status_code == 201, response.text
    platform_id: str = response.json()["id"]
    return platform_id


async def _account(client: httpx.AsyncClient, persona_id: str, platform_id: str, handle: str) -> str:
    response = await client.post(
        f"/api/personas/{persona_id}/accounts", json={"platform_id": platform_id, "handle": handle}
    )
    assert response.status_code == 201, response.text
    account_id: str = response.json()["id"]
    return account_id


async def _approve(world: World, client: httpx.AsyncClient, supervisor: Person, persona_id: str, **more: Any) -> None:
    response = await client.post(
        f"/api/personas/{persona_id}/approve", json={"totp_code": world.code(supervisor)} | more
    )
    assert response.status_code == 200, response.text


async def test_a_rejected_persona_is_changed_and_submitted_again_while_the_supervisor_works_the_queue(
    browser: Browser, live_world: World, live: LiveServer
) -> None:
    world = live_world
    dana = await world.user("dana", "detective")
    sam = await world.user("sam", "supervisor")
    async with api_as(world, live, dana) as api:
        case = await _case(api, "2026-0500")
        older = await _persona(api, case, "BIRCH-OWL", "Kit Lorne")
        assert (await api.post(f"/api/personas/{older}/submit")).status_code == 200
        world.clock.advance(timedelta(minutes=20))
        newer = await _persona(api, case, "CEDAR-FOX", "Robin Vance")
        assert (await api.post(f"/api/personas/{newer}/submit")).status_code == 200

    async with signed_in(browser, live, world, sam) as page:
        await page.goto("/queue")
        rows = page.locator("#approvals tbody tr")
        await expect(rows).to_have_count(2)
        # The longest waiting first, with who asked and since when.
        await expect(rows.nth(0)).to_contain_text("BIRCH-OWL")
        await expect(rows.nth(1)).to_contain_text("CEDAR-FOX")
        await expect(rows.nth(0)).to_contain_text("Dana")
        await expect(rows.nth(0).locator("td").first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))
        await shoot(page, "30-queue-oldest-first")
        await rows.nth(0).get_by_role("link", name="BIRCH-OWL", exact=True).click()
        await expect(page).to_have_url(re.compile(f"/personas/{older}$"))
        await expect(page.locator("#story")).to_contain_text("No earlier decision.")

        decide = page.locator("#decide")
        await decide.get_by_text("Reject with a reason").click()
        reject = decide.locator('form[action$="/reject"]')
        await reject.get_by_label("What the detective must change").fill("The legend does not say why he moved.")
        await reject.get_by_label("Code from your authenticator").fill(world.code(sam))
        await reject.get_by_role("button", name="Reject").click()

        # Straight on to the next request, not a renewal form.
        await expect(page).to_have_url(re.compile(f"/personas/{newer}\\?done=reject-next"))
        await expect(page.get_by_role("status")).to_contain_text("Here is the next request waiting for you.")
        await expect(page.locator("h1")).to_contain_text("CEDAR-FOX")
        await shoot(page, "31-next-request-after-a-decision")
        approve = page.locator('#decide form[action$="/approve"]')
        await approve.get_by_label("Note").fill("Checked against the case file.")
        await approve.get_by_label("Code from your authenticator").fill(world.code(sam))
        await approve.get_by_role("button", name="Approve version 1").click()
        await expect(page).to_have_url(re.compile(r"/queue\?done=approve-none"))
        await expect(page.get_by_role("status")).to_have_text("Approved. Nothing else waits for your approval.")
        await expect(page.locator("#approvals")).to_contain_text("Nothing waits for approval.")
        await shoot(page, "32-queue-nothing-waits")

    async with signed_in(browser, live, world, dana) as page:
        await page.goto(f"/personas/{older}")
        await expect(page.locator("#rejected-because")).to_have_text("The legend does not say why he moved.")
        await page.get_by_role("link", name="Change it and submit again").click()
        await expect(page).to_have_url(re.compile(f"/personas/{older}/edit$"))
        await expect(page.get_by_label("Alias name")).to_have_value("Kit Lorne")
        await expect(page.get_by_label("Submit for the supervisor's approval when saved")).to_be_checked()
        legend = page.get_by_label("Legend (backstory)")
        await legend.fill("Kit Lorne moved from Akron for a warehouse job and restores old motorbikes.")
        await shoot(page, "33-persona-edit-after-rejection")
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_have_text("Submitted for approval.")
        await expect(page.locator("h1 .status")).to_have_text("submitted")

    async with signed_in(browser, live, world, sam) as page:
        await page.goto("/queue")
        await expect(page.locator("#approvals tbody tr")).to_have_count(1)
        await page.get_by_role("link", name="Review and decide on BIRCH-OWL").click()
        story = page.locator("#story")
        # The earlier decision, by name, with its reason; the history says who did what.
        await expect(story.locator(".decisions li")).to_contain_text("Rejected by Sam")
        await expect(story).to_contain_text("Reason: The legend does not say why he moved.")
        await expect(page.locator(".history")).to_contain_text("identity changed by Dana")
        await expect(page.locator("#changes")).to_contain_text("Never approved before")
        await shoot(page, "34-approve-with-the-full-story")
        # The approval note of the other persona is shown again on its page.
        await page.goto(f"/personas/{newer}")
        await expect(page.locator(".history")).to_contain_text("Note: Checked against the case file.")


async def test_people_are_picked_by_name_and_accounts_and_devices_are_closed_from_the_persona_page(
    browser: Browser, live_world: World, live: LiveServer
) -> None:
    world = live_world
    dana = await world.user("dora", "detective")
    sam = await world.user("saul", "supervisor")
    alex = await world.user("alma", "authorizing_official")
    erin = await world.user("erin", "detective")
    eli = await world.user("elias", "equipment_officer")
    lee = await world.user("leah", "legal")
    async with contextlib.AsyncExitStack() as stack:
        d, s, a, o, legal = [
            await stack.enter_async_context(api_as(world, live, p)) for p in (dana, sam, alex, eli, lee)
        ]
        case = await _case(d, "2026-0510")
        pid = await _persona(d, case, "DUNE-HERON", "Pat Quill")
        assert (await d.post(f"/api/personas/{pid}/submit")).status_code == 200
        await _approve(world, s, sam, pid)
        platform = await _platform(legal, "Bazaar")
        kept = await _account(d, pid, platform, "pat.quill")
        response = await a.post(f"/api/accounts/{kept}/authorize", json={"totp_code": world.code(alex)})
        assert response.status_code == 200, response.text
        await _account(d, pid, platform, "pat.quill.two")
        device = (await register_device(o, "UC-LT-0510")).json()["id"]
        assert (await inspect(o, device)).status_code == 201
        assert (await d.post(f"/api/personas/{pid}/equipment", json={"equipment_id": device})).status_code == 201

    async with signed_in(browser, live, world, dana) as page:
        # The authorizing official joins the team by name: no user id is typed.
        await page.goto(f"/investigations/{case}")
        team = page.locator("#team")
        await team.get_by_label("Person").select_option(label="Alma (alma)")
        await shoot(page, "35-investigation-team-by-name")
        await team.get_by_role("button", name="Add to the team").click()
        await expect(page.get_by_role("status")).to_have_text("Member added.")
        await expect(page.locator(".facts")).to_contain_text("Alma")

        await page.goto(f"/personas/{pid}")
        accounts = page.locator("#accounts")
        created = accounts.locator(f'form[action$="/accounts/{kept}/created-on"]')
        await accounts.get_by_text("Record the day it was created on the site").first.click()
        await created.get_by_label("Created on the site").fill("2025-11-20")
        await created.get_by_role("button", name="Save the date").click()
        await expect(page.get_by_role("status")).to_have_text(
            "Creation date recorded: the account's age counts from then."
        )
        await expect(accounts).to_contain_text("created on the site 2025-11-20")
        await accounts.get_by_text("The site disabled this account").click()
        await accounts.get_by_label("What the site did, and when").fill("Bazaar suspended pat.quill on 2 March.")
        await accounts.get_by_role("button", name="Record it as disabled").click()
        await expect(page.get_by_role("status")).to_contain_text("the site disabled this account")
        await expect(accounts.locator(".status.disabled")).to_have_count(1)
        await expect(accounts).to_contain_text("Bazaar suspended pat.quill on 2 March.")

        await page.locator("#equipment").get_by_role("button", name="Release UC-LT-0510").click()
        await expect(page.get_by_role("status")).to_have_text("Device released; it is back in the equipment pool.")
        await expect(page.locator("#equipment")).to_contain_text("No device assigned.")
        await shoot(page, "36-persona-account-disabled-device-released")

        # Her own address for reminders, on her account page.
        await page.get_by_role("link", name="My account").click()
        await page.get_by_label("E-mail address").fill("dora@pd.example")
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_have_text("Saved: reminders and notices go to this address.")
        await expect(page.get_by_label("E-mail address")).to_have_value("dora@pd.example")
        await shoot(page, "37-my-account-email")
    assert await world.db.fetchval("SELECT email FROM users WHERE id = $1", dana.id) == "dora@pd.example"

    async with signed_in(browser, live, world, alex) as page:
        await page.goto(f"/investigations/{case}")
        authorize = page.locator("#authorize")
        await expect(authorize.get_by_text("Refuse instead")).to_be_visible()
        await authorize.get_by_label("Code from your authenticator").first.fill(world.code(alex))
        await authorize.get_by_role("button", name="Authorize").click()
        await expect(page.get_by_role("status")).to_have_text("Authorized.")
        await page.goto(f"/personas/{pid}")
        accounts = page.locator("#accounts")
        await accounts.get_by_text("Decline this account").click()
        decline = accounts.locator('form[action$="/decline"]')
        await decline.get_by_label("Reason (the requester sees it)").fill("One account on Bazaar is enough.")
        await decline.get_by_label("Code from your authenticator").fill(world.code(alex))
        await shoot(page, "38-persona-decline-account")
        await decline.get_by_role("button", name="Decline").click()
        await expect(page.get_by_role("status")).to_have_text("Declined; the requester sees the reason.")
        await expect(accounts.locator(".status.declined")).to_have_count(1)

    async with signed_in(browser, live, world, sam) as page:
        await page.goto(f"/personas/{pid}")
        handover = page.locator("#handover")
        # Only detectives who may take it over are offered, by name.
        await expect(handover.get_by_label("New handler").locator("option")).to_contain_text(["Erin (erin)"])
        await expect(handover.get_by_label("New handler").locator("option", has_text="Dora")).to_have_count(0)
        await handover.get_by_label("New handler").select_option(label="Erin (erin)")
        await handover.get_by_label("Reason").fill("Dora moves to the fraud unit.")
        await shoot(page, "39-persona-handover-by-name")
        await handover.get_by_role("button", name="Hand over").click()
        await expect(page.get_by_role("status")).to_have_text(
            "Handed over; the new handler is on the investigation's team."
        )
        await expect(page.locator("main > p.muted").first).to_contain_text("handler Erin")
    assert await world.db.fetchval("SELECT handler_id FROM personas WHERE id = $1", pid) == erin.id


async def test_the_supervisor_assesses_a_burned_personas_links(
    browser: Browser, live_world: World, live: LiveServer
) -> None:
    world = live_world
    dana = await world.user("dina", "detective")
    sam = await world.user("sol", "supervisor")
    lee = await world.user("lena", "legal")
    async with api_as(world, live, dana) as d, api_as(world, live, sam) as s, api_as(world, live, lee) as legal:
        case = await _case(d, "2026-0520")
        burned = await _persona(d, case, "EMBER-STOAT", "Lou Marsh")
        sibling = await _persona(d, case, "FLINT-VOLE", "Max Reed")
        for pid in (burned, sibling):
            assert (await d.post(f"/api/personas/{pid}/submit")).status_code == 200
            await _approve(world, s, sam, pid)
        # The same handler on the same platform: a platform looking for siblings finds it.
        platform = await _platform(legal, "Agora")
        await _account(d, burned, platform, "lou.marsh")
        await _account(d, sibling, platform, "max.reed")
        content_base64 = base64.b64encode(_photo()).decode()
        # Fingerprinting takes a moment on a busy machine.
        response = await d.post(f"/api/personas/{burned}/photos", json={"content_base64": content_base64}, timeout=60)
        assert response.status_code == 201, response.text
        response = await d.post(f"/api/personas/{burned}/compromise", json={"report": "Agora flagged lou.marsh."})
        assert response.status_code == 200, response.text

    async with signed_in(browser, live, world, dana) as page:
        # The sibling's photo is the burned persona's: the handler is told at once.
        await page.goto(f"/personas/{sibling}")
        await page.get_by_text("Record a photo it uses").click()
        await page.get_by_label("Image file").set_input_files(
            files=[{"name": "profile.png", "mimeType": "image/png", "buffer": _photo()}]
        )
        await page.get_by_role("button", name="Record photo").click()
        await expect(page.locator("#photo-warnings")).to_contain_text("EMBER-STOAT")
        await shoot(page, "42-persona-photo-warning")

    async with signed_in(browser, live, world, sam) as page:
        await page.goto(f"/personas/{burned}")
        await page.get_by_role("link", name="Assess the blast radius").click()
        await expect(page).to_have_url(re.compile(f"/personas/{burned}/linkage$"))
        linked = page.locator(f"#linked-{sibling}")
        await expect(page.locator("section[id^=linked-]")).to_have_count(1)
        await expect(linked).to_contain_text("FLINT-VOLE")
        await expect(linked.locator(".links li")).to_have_text(
            ["Same handler on the same platform: Agora", "Same or look-alike photo: the same photo file"]
        )
        await linked.get_by_label("Suspend it until the risk is understood").check()
        await linked.get_by_label("Reason").fill("Same handler on Agora: stand it down until Agora's sweep is over.")
        await shoot(page, "40-linkage-report")
        await linked.get_by_role("button", name="Record the assessment").click()
        await expect(page.get_by_role("status")).to_have_text("Assessment recorded.")
        await expect(linked).to_contain_text("Assessed: suspend by sol")
        await expect(linked.locator("h2 .status")).to_have_text("suspended")
        await shoot(page, "41-linkage-assessed")
    assert await world.db.fetchval("SELECT status FROM personas WHERE id = $1", sibling) == "suspended"


async def test_forms_about_a_persona_outside_need_to_know_answer_404(live_world: World, live: LiveServer) -> None:
    world = live_world
    owner = await world.user("olive", "detective")
    other = await world.user("otto", "detective")
    eli = await world.user("emil", "equipment_officer")
    lia = await world.user("lia", "legal")
    async with api_as(world, live, owner) as d, api_as(world, live, eli) as o, api_as(world, live, lia) as legal:
        case = await _case(d, "2026-0530")
        pid = await _persona(d, case, "GALE-FINCH", "Ada Stone")
        device = (await register_device(o, "UC-LT-0530")).json()["id"]
        assert (await inspect(o, device)).status_code == 201
        assert (await d.post(f"/api/personas/{pid}/equipment", json={"equipment_id": device})).status_code == 201
        account = await _account(d, pid, await _platform(legal, "Souk"), "ada")

    async with httpx.AsyncClient(base_url=live.url) as client:
        await sign_in_with_forms(world, other, client)
        assert (await client.get(f"/personas/{pid}/edit")).status_code == 404
        forged = {
            f"/personas/{pid}/edit": {"identity.alias_name": "Ada Stone", "version": "1"},
            f"/personas/{pid}/equipment/{device}/release": {},
            f"/personas/{pid}/accounts/{account}/disabled": {"note": "Souk disabled it."},
            f"/personas/{pid}/submit": {},
            f"/investigations/{case}/members": {"user_id": str(other.id)},
        }
        for path, data in forged.items():
            response = await post_form(client, path, data, form_on="/")
            assert response.status_code == 404, (path, response.status_code)
    # Nothing changed.
    assert await world.db.fetchval("SELECT status FROM equipment WHERE id = $1", device) == "assigned"
    assert await world.db.fetchval("SELECT status FROM platform_accounts WHERE id = $1", account) == "requested"

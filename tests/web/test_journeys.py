"""End-to-end journeys in headless Chromium, against the app served over HTTP, JavaScript
off: a detective requests a persona; a supervisor approves one with a code and finds their
own request marked as not theirs to approve; the commander records a conduct review from the
calendar. Screenshots of the main pages land in
artifacts/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import Page, expect

from tests.harness import Person, World
from tests.web.conftest import LiveServer, shoot
from tests.web.pages import api_as, justification, sign_in_browser


async def test_a_detective_signs_in_with_a_code_and_requests_a_persona(
    page: Page, live_world: World, live: LiveServer
) -> None:
    world = live_world
    dana = await world.user("dana", "detective")
    legal = await world.user("lee", "legal")
    async with api_as(world, live, legal) as api:
        response = await api.post(
            "/api/platforms",
            json={"name": "Marketplace", "url": "https://market.example", "tos_url": "https://market.example/terms"},
        )
        assert response.status_code == 201, response.text

    await page.goto("/sign-in")
    await shoot(page, "01-sign-in")
    await sign_in_browser(page, world, dana)

    await page.get_by_role("link", name="Open an investigation").click()
    for label, value in (
        ("Case number", "2026-0100"),
        ("Title", "Stolen catalytic converters resold online"),
        ("Purpose", "Identify the sellers."),
        ("Why false identities are necessary", "The sellers deal only with known buyers."),
        ("Why it is proportionate", "One persona, one marketplace, ninety days."),
        ("Risk of collateral intrusion and how it is limited", "Other buyers' messages are not recorded."),
    ):
        await page.get_by_label(label).fill(value)
    await page.get_by_role("button", name="Open investigation").click()
    await expect(page.get_by_text("Investigation opened")).to_be_visible()

    await page.get_by_role("link", name="Request a persona for this case").click()
    await expect(page.get_by_label("Investigation")).to_have_value(re.compile(".+"))
    await page.get_by_label("Codename").fill("Amber Heron")
    await page.get_by_label("Alias name").fill("Jamie Calloway")
    await page.get_by_label("Date of birth").fill("1994-05-17")
    await page.get_by_label("Claimed location").fill("Springfield, Ohio")
    await page.get_by_label("Legend (backstory)").fill("Drives a forklift nights; restores old motorbikes.")
    await page.get_by_label("Source of the image").fill("Generated in-house")
    await page.get_by_label("What it shows").fill("Synthetic portrait of a man in his thirties")
    await page.get_by_label("Platform").select_option(label="Marketplace")
    await page.get_by_label("Handle").fill("jamie_rides")
    await page.get_by_label("Where the credentials are kept").fill("vault:secret/personas/amber-heron")
    await shoot(page, "03-request-persona")
    await page.get_by_role("button", name="Request persona").click()

    await expect(page.get_by_text("Persona requested.")).to_be_visible()
    await expect(page.get_by_role("heading", name=re.compile("^AMBER.HERON", re.I))).to_be_visible()
    await expect(page.locator(".status").first).to_have_text("submitted")
    checklist = page.locator(".checklist")
    await expect(checklist).to_contain_text("Waiting for the investigations supervisor")
    await expect(checklist.get_by_role("link", name="Go to the investigation")).to_be_visible()
    await shoot(page, "04-persona-gate")

    await page.get_by_role("link", name="Overview").click()
    await expect(page.get_by_role("link", name=re.compile("AMBER.HERON", re.I))).to_be_visible()
    await shoot(page, "02-detective-overview")


async def test_a_supervisor_approves_with_a_code_and_cannot_approve_their_own(
    page: Page, live_world: World, live: LiveServer
) -> None:
    world = live_world
    omar = await world.user("omar", "detective")
    # Holds both roles: requests personas of his own and approves others'.
    sam = await world.user("sam", "detective", "supervisor")
    identity = {"date_of_birth": "1990-01-02", "location": "Dayton, Ohio", "legend": "Sells used car parts."}
    for person, case, alias, codename in (
        (omar, "2026-0200", "Robin Vance", "Quiet Falcon"),
        (sam, "2026-0201", "Ash Mercer", "Grey Otter"),
    ):
        async with api_as(world, live, person) as api:
            investigation = (await api.post("/api/investigations", json=justification(case))).json()
            response = await api.post(
                "/api/personas",
                json={
                    "investigation_id": investigation["id"],
                    "codename": codename,
                    "identity": identity | {"alias_name": alias},
                },
            )
            assert response.status_code == 201, response.text
            assert (await api.post(f"/api/personas/{response.json()['id']}/submit")).status_code == 200

    await sign_in_browser(page, world, sam)
    await page.get_by_role("link", name="Waiting for me").first.click()
    falcon = page.get_by_role("row").filter(has_text=re.compile("QUIET.FALCON", re.I))
    otter = page.get_by_role("row").filter(has_text=re.compile("GREY.OTTER", re.I))
    await expect(otter).to_contain_text("Yours: another supervisor must decide")
    await expect(otter.get_by_role("link", name="Review and decide")).to_have_count(0)
    await shoot(page, "05-approval-queue")

    await falcon.get_by_role("link", name="Review and decide").click()
    await expect(page.get_by_text("Robin Vance")).to_be_visible()
    approve = page.locator('#decide form[action$="/approve"]')
    await approve.get_by_label("Code from your authenticator").fill(world.wrong_code(sam))
    await approve.get_by_role("button", name="Approve").click()
    await expect(page.locator("#e-approve\\.totp_code")).to_contain_text("That code was not accepted")
    await shoot(page, "06-approve-wrong-code")

    approve = page.locator('#decide form[action$="/approve"]')
    await approve.get_by_label("Code from your authenticator").fill(world.code(sam))
    await approve.get_by_role("button", name="Approve").click()
    # On to the next request waiting for him (never his own), or the queue saying nothing waits.
    await expect(page.get_by_role("status")).to_have_text(re.compile(r"^Approved\. (Here is the next|Nothing else)"))
    await expect(page.locator("h1")).not_to_contain_text(re.compile("QUIET.FALCON|GREY.OTTER", re.I))
    await shoot(page, "07-persona-approved")

    # His own persona's page says so up front instead of offering the form.
    await page.get_by_role("link", name="Waiting for me").first.click()
    await otter.get_by_role("link", name=re.compile("GREY.OTTER", re.I)).click()
    await expect(page.locator("#decide")).to_contain_text("another supervisor must decide")
    await expect(page.locator("#decide").get_by_role("button", name="Approve")).to_have_count(0)


async def _approved(
    world: World, live: LiveServer, detective: Person, supervisor: Person, case: str, codename: str, alias: str
) -> None:
    """Through the API: an investigation, and a persona in it requested and approved."""
    async with api_as(world, live, detective) as api:
        investigation = (await api.post("/api/investigations", json=justification(case))).json()
        identity = {"alias_name": alias, "date_of_birth": "1988-11-03", "location": "Akron, Ohio"}
        response = await api.post(
            "/api/personas",
            json={
                "investigation_id": investigation["id"],
                "codename": codename,
                "identity": identity | {"legend": "Buys and sells vintage radios."},
            },
        )
        assert response.status_code == 201, response.text
        persona_id = response.json()["id"]
        assert (await api.post(f"/api/personas/{persona_id}/submit")).status_code == 200
    async with api_as(world, live, supervisor) as api:
        response = await api.post(f"/api/personas/{persona_id}/approve", json={"totp_code": world.code(supervisor)})
        assert response.status_code == 200, response.text


async def test_the_commander_records_a_review_from_the_calendar(
    page: Page, live_world: World, live: LiveServer
) -> None:
    world = live_world
    cora = await world.user("cora", "commander")
    ivy = await world.user("ivy", "detective")
    sue = await world.user("sue", "supervisor")
    # An approved persona puts its handler's conduct review on the calendar.
    await _approved(world, live, ivy, sue, "2026-0300", "Silver Wren", "Kit Lorne")

    await sign_in_browser(page, world, cora)
    await page.get_by_role("link", name="Conduct reviews").click()
    wren = re.compile("SILVER.WREN", re.I)
    await expect(page.locator("table.calendar a.entry").filter(has_text=wren)).to_contain_text("upcoming")
    row = page.locator(".listing").get_by_role("row").filter(has_text=wren)
    await expect(row).to_contain_text("2026-0300")
    await shoot(page, "08-commander-calendar")

    await row.get_by_role("link", name=wren).click()
    await expect(page.get_by_role("heading", name=wren)).to_be_visible()
    await expect(page.get_by_role("link", name=wren)).to_be_visible()
    await page.get_by_label("Notes").fill("Went through the chats: tone and scope in line with 003.")
    await page.get_by_label("Findings").fill("No concerns.")
    await expect(page.get_by_label("Continue", exact=True)).to_be_checked()
    await shoot(page, "09-review-page")
    await page.get_by_role("button", name="Record review").click()

    await expect(page.get_by_text("Review recorded.", exact=True)).to_be_visible()
    await expect(page.locator("h1 .status")).to_have_text("held")
    await expect(page.locator(".next-review")).to_contain_text("Next review due")
    await expect(page.get_by_text("tone and scope in line with 003")).to_be_visible()
    await expect(page.get_by_role("button", name="Record review")).to_have_count(0)
    await shoot(page, "10-review-held")


async def test_the_commander_opening_the_calendar_sees_a_past_due_review_first(
    page: Page, live_world: World, live: LiveServer
) -> None:
    world = live_world
    cora = await world.user("cora2", "commander")
    kai = await world.user("kai", "detective")
    sue = await world.user("sue2", "supervisor")
    await _approved(world, live, kai, sue, "2026-0400", "Grey Kestrel", "Noa Brent")
    # Due 30 days after approval; two months on, it is past due and past the grace.
    world.clock.advance(timedelta(days=62))

    await sign_in_browser(page, world, cora)
    kestrel = re.compile("GREY.KESTREL", re.I)
    await expect(page.locator(".needs-action")).to_contain_text("overdue")
    await shoot(page, "20-commander-overview-needs-action")
    await page.get_by_role("link", name="Conduct reviews").click()
    pressing = page.locator(".needs-action").get_by_role("row").filter(has_text=kestrel)
    await expect(pressing).to_contain_text("overdue")
    await expect(page.locator(".carried")).to_contain_text("overdue")
    await shoot(page, "21-calendar-needs-action")

    await pressing.get_by_role("link", name=kestrel).click()
    await expect(page.locator("h1 .status")).to_contain_text("overdue")
    await page.get_by_label("Held on").fill("yesterday")
    await page.get_by_role("radio", name="Corrective action").check()
    await page.get_by_role("button", name="Record review").click()
    summary = page.locator(".error-summary")
    await expect(summary.get_by_role("link", name=re.compile("^Held on: "))).to_be_visible()
    await expect(summary.get_by_role("link", name=re.compile("^Notes: "))).to_be_visible()
    await expect(summary).not_to_contain_text("_")
    await shoot(page, "22-review-form-errors")

    await page.goto("/no-such-page")
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await shoot(page, "23-not-found")
    await page.goto("/users")
    await expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
    await shoot(page, "24-forbidden")

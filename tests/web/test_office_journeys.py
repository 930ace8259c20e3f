"""The offices' journeys in headless Chromium, JavaScript off, one served world for the module:
the equipment officer answers each isolation check and is told passed or failed (an untouched
form is refused), sees what waits on the overview and retires a device only after confirming;
an administrator confirms a risky step with a reason, never on their own account; the auditor
filters the log, pages it and exports the view; legal sees the earlier reviews; a new user's
enrollment key reads in fours and can be cancelled. Screenshots land in artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from playwright.async_api import Page, expect

from tests.harness import World, details
from tests.web.conftest import LiveServer, shoot
from tests.web.pages import api_as, sign_in_browser

CHECKS = (
    "Is the device connected to the department network?",
    "Does it carry department identifiers (accounts, certificates, asset labels a site could see)?",
    "Is its internet connection attributable to the department?",
)


async def _answer(page: Page, device: str, answers: tuple[str, str, str]) -> None:
    form = page.locator(f'form[action="/equipment/{device}/inspections"]')
    for question, answer in zip(CHECKS, answers, strict=True):
        await form.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    await form.get_by_role("button", name="Record inspection").click()


async def test_the_equipment_officer_answers_each_check_and_is_told_passed_or_failed(
    page: Page, live_world: World, live: LiveServer
) -> None:
    world = live_world
    eve = await world.user("eve", "equipment_officer")
    async with api_as(world, live, eve) as api:
        registered = await api.post(
            "/api/equipment",
            json={"asset_tag": "LT-0042", "kind": "laptop", "serial": "SN-42", "ownership": "department"},
        )
        assert registered.status_code == 201, registered.text
    device = registered.json()["id"]

    await sign_in_browser(page, world, eve)
    waiting = page.locator("#waiting-equipment").locator("..")
    await expect(waiting).to_contain_text("LT-0042 (laptop): never inspected")
    await shoot(page, "40-equipment-officer-overview")
    await waiting.get_by_role("link", name="LT-0042").click()

    row = page.locator(f"#device-{device}")
    await expect(row).to_contain_text("Never inspected")
    await page.get_by_text("Record an isolation inspection of LT-0042").click()
    await shoot(page, "41-inspection-form")
    await page.get_by_role("button", name="Record inspection").click()
    summary = page.locator(".error-summary")
    for question in CHECKS:
        await expect(summary).to_contain_text(f"Answer yes or no: {question}")
    await expect(row).to_contain_text("Never inspected")
    await shoot(page, "42-inspection-untouched-refused")

    await _answer(page, device, ("No", "No", "No"))
    await expect(page.get_by_role("status")).to_contain_text("LT-0042 passed its isolation inspection")
    await expect(row).to_contain_text("passed until")
    await shoot(page, "43-inspection-passed")

    world.clock.advance(timedelta(minutes=10))  # a second inspection, a little later
    await page.get_by_text("Record an isolation inspection of LT-0042").click()
    await _answer(page, device, ("No", "Yes", "No"))
    answer = page.get_by_role("alert")
    await expect(answer).to_contain_text("LT-0042 failed its isolation inspection")
    await expect(answer).to_contain_text("it carries department identifiers")
    await shoot(page, "44-inspection-failed")
    [inspected] = (await world.events("equipment.inspect"))[-1:]
    assert details(inspected) == {"passed": False, "failed_checks": ["department_identifiers_present"]}

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    await expect(page.locator("#waiting-equipment").locator("..")).to_contain_text("LT-0042 (laptop): failed on")

    await page.goto("/equipment")
    await page.get_by_role("link", name="Retire LT-0042…").click()
    await expect(page.get_by_role("heading", name="Retire LT-0042 for good?")).to_be_visible()
    await expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    await shoot(page, "45-retire-confirm")
    await page.get_by_role("link", name="Cancel").click()
    await expect(row).to_contain_text("failed")
    await page.get_by_role("link", name="Retire LT-0042…").click()
    await page.get_by_role("button", name="Retire LT-0042").click()
    await expect(page.get_by_text("Device retired.")).to_be_visible()
    await expect(row.locator(".status").first).to_have_text("retired")


async def test_an_administrator_confirms_a_risky_step_with_a_reason_never_on_their_own_account(
    page: Page, live_world: World, live: LiveServer
) -> None:
    world = live_world
    ada = await world.user("ada", "administrator")
    dana = await world.user("dana", "detective")

    await sign_in_browser(page, world, ada)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    own = page.get_by_role("row", name=re.compile("^Ada "))
    await expect(own).to_contain_text("Your own account: another administrator")
    await expect(own.get_by_role("link", name=re.compile("Reset MFA|Disable"))).to_have_count(0)
    await shoot(page, "50-users")

    theirs = page.get_by_role("row", name=re.compile("^Dana "))
    await theirs.get_by_role("link", name="Reset MFA…").click()
    await expect(page.get_by_role("heading", name="Reset Dana's authenticator?")).to_be_visible()
    await page.get_by_role("button", name="Reset the authenticator").click()
    await expect(page.locator(".error-summary")).to_contain_text("Give the reason")
    await shoot(page, "51-reset-mfa-confirm-needs-reason")
    await page.get_by_label("Reason").fill("Phone lost on duty, ticket 4411")
    await page.get_by_role("button", name="Reset the authenticator").click()
    await expect(page.get_by_text("Authenticator reset;")).to_be_visible()
    [reset] = await world.events("user.reset_mfa")
    assert (details(reset), reset["target_id"]) == ({"reason": "Phone lost on duty, ticket 4411"}, str(dana.id))

    await page.get_by_role("row", name=re.compile("^Dana ")).get_by_role("link", name="Disable…").click()
    await page.get_by_label("Reason").fill("Transferred out of the unit")
    await page.get_by_role("button", name="Disable the account").click()
    await expect(page.get_by_text("Account disabled; its sessions have ended.")).to_be_visible()
    await expect(page.get_by_role("row", name=re.compile("^Dana "))).to_contain_text("disabled")

    # Typed by hand, the step on one's own account is refused all the same.
    await page.goto(f"/users/{ada.id}/disable")
    await expect(page.get_by_text("This is your own account")).to_be_visible()


async def test_the_auditor_filters_pages_and_exports_the_log(page: Page, live_world: World, live: LiveServer) -> None:
    world = live_world
    aud = await world.user("aud", "auditor")
    for _ in range(3):
        await sign_in_browser(page, world, aud)
        await page.get_by_role("button", name="Sign out").click()
    await sign_in_browser(page, world, aud)

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    await page.get_by_label("Who acted").select_option(label="Aud (aud)")
    await page.get_by_label("Action").select_option("auth.login.password")
    await page.get_by_role("button", name="Show events").click()
    rows = page.locator("table.audit tbody tr")
    await expect(rows).to_have_count(4)
    await expect(rows.first).to_contain_text("auth.login.password")
    await expect(rows.first).to_contain_text("Aud")  # the actor of a password sign-in, by name
    await expect(rows.first.locator("td").nth(1)).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))
    await expect(rows.first).to_contain_text("mfa: verify")
    await shoot(page, "60-audit-filtered")

    await page.get_by_label("To (day, included)").fill("2020-01-01")
    await page.get_by_label("From (day)").fill("2020-02-01")
    await page.get_by_role("button", name="Show events").click()
    await expect(page.locator(".error-summary")).to_contain_text("The last day must not be before the first.")
    await page.get_by_role("link", name="Clear the filters").click()

    await page.goto("/audit?action=auth.login.mfa&actor=aud")
    await expect(rows).to_have_count(4)
    export = page.get_by_role("link", name="Export these events (CSV)")
    href = await export.get_attribute("href")
    assert href and "action=auth.login.mfa" in href and "actor=aud" in href
    answer = await page.request.get(href)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    exported = list(csv.DictReader(io.StringIO(await answer.text())))
    assert [r["action"] for r in exported] == ["auth.login.mfa"] * 4
    assert {r["actor_name"] for r in exported} == {"Aud"}


async def test_legal_sees_earlier_reviews_and_what_waits_and_a_new_user_can_cancel_enrollment(
    page: Page, live_world: World, live: LiveServer
) -> None:
    world = live_world
    lee = await world.user("lee", "legal")
    async with api_as(world, live, lee) as api:
        platform = (
            await api.post(
                "/api/platforms",
                json={"name": "Gossip Board", "url": "https://gossip.example", "tos_url": "https://gossip.example/tos"},
            )
        ).json()
        await api.post(
            "/api/platforms",
            json={"name": "Never Looked", "url": "https://never.example", "tos_url": "https://never.example/tos"},
        )
        review = {
            "reviewed_on": "2025-01-10",
            "tos_version": "2024-12",
            "prohibits_false_identity": False,
            "prohibits_automation": True,
            "risk": "low",
            "notes": "Old terms.",
        }
        assert (await api.post(f"/api/platforms/{platform['id']}/tos-reviews", json=review)).status_code == 201

    await sign_in_browser(page, world, lee)
    waiting = page.locator("#waiting-platforms").locator("..")
    await expect(waiting).to_contain_text("Never Looked: never reviewed")
    await expect(waiting).to_contain_text("Gossip Board: stale since its review of 2025-01-10")
    await shoot(page, "70-legal-overview")
    await waiting.get_by_role("link", name="Gossip Board").click()

    panel = page.locator(f"#platform-{platform['id']}")
    await panel.get_by_text("Record a new review of the terms").click()
    await panel.get_by_label("Version or date of the terms").fill("2026-02")
    await panel.get_by_role("group", name="Do the terms prohibit false identities?").get_by_label("Yes").check()
    await panel.get_by_label("Notes for handlers").fill("False names now prohibited: keep use minimal.")
    await panel.get_by_label("Risk").select_option("high")
    await panel.get_by_role("button", name="Record review").click()
    await expect(page.locator(".error-summary")).to_contain_text("Answer yes or no: Do the terms prohibit automation?")
    await panel.get_by_role("group", name="Do the terms prohibit false identities?").get_by_label("Yes").check()
    await panel.get_by_role("group", name="Do the terms prohibit automation?").get_by_label("No").check()
    await panel.get_by_role("button", name="Record review").click()
    await expect(page.get_by_role("status")).to_contain_text("review of Gossip Board recorded")
    await panel.get_by_text("Earlier reviews (1)").click()
    await expect(panel).to_contain_text("2025-01-10 by lee (version 2024-12)")
    await shoot(page, "71-platforms-history")

    # A new user's first sign-in: the key reads in fours, and the enrollment can be cancelled.
    await page.get_by_role("button", name="Sign out").click()
    await world.user("nora", "detective", enrolled=False)
    await page.get_by_label("Username").fill("nora")
    await page.get_by_label("Password").fill(lee.password)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
    await expect(page.locator("code.secret")).to_have_text(re.compile(r"^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$"))
    await shoot(page, "72-enroll")
    await page.get_by_role("button", name="Cancel and sign out").click()
    await expect(page).to_have_url(re.compile(r"/sign-in\?signed_out=1$"))

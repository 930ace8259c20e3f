"""The administrator's units page in the browser, JavaScript off: create a unit, add a member
by name, see a refusal next to the unit, rename and move."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.harness import World
from tests.web.conftest import shoot
from tests.web.pages import sign_in_browser


async def test_the_administrator_builds_a_unit_and_staffs_it(page: Page, live_world: World) -> None:
    ada = await live_world.user("ada", "administrator")
    await live_world.user("dana", "detective")
    await sign_in_browser(page, live_world, ada)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Units").click()
    await expect(page.get_by_role("heading", name="Units", exact=True)).to_be_visible()

    create = page.locator("section.panel")
    await create.get_by_label("Name").fill("Narcotics")
    await create.get_by_role("button", name="Create unit").click()
    await expect(page.get_by_text("Unit created.")).to_be_visible()
    # The innermost item holding the heading: Narcotics sits inside the Department's.
    narcotics = page.locator("li", has=page.get_by_role("heading", name="Narcotics")).last

    await narcotics.get_by_label("Add a member to Narcotics").select_option(label="Dana (dana)")
    await narcotics.get_by_role("button", name="Add member").click()
    await expect(page.get_by_text("Member added.")).to_be_visible()
    await expect(narcotics.get_by_role("button", name="Remove Dana from Narcotics")).to_be_visible()

    # Dana's only unit: the page says how to move her instead.
    await narcotics.get_by_role("button", name="Remove Dana from Narcotics").click()
    await expect(page.locator(".error-summary")).to_contain_text("last unit")

    await narcotics.locator("summary", has_text="Rename or move").click()
    await narcotics.get_by_label("Name").fill("Narcotics Unit")
    await narcotics.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("heading", name="Narcotics Unit")).to_be_visible()
    await shoot(page, "units")

"""WCAG 2.2 AA in headless Chromium (issue 13.8-13.9): every role of a small department signs
in and walks every page it can reach by following links from its overview; axe-core finds no
serious or critical violation on any of them, nor on the sign-in and error pages, and each is
saved as artifacts/screenshots/<role>-<page>.png. Then the main forms are worked by keyboard
alone with JavaScript off.

The walk discovers pages by their links, so a page added later is checked once it is linked
from a page a role already reaches."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Error, Locator, Page, expect

from tests.harness import Person, World
from tests.personas.helpers import authorize_investigation, open_investigation, request_persona
from tests.web.axe import blocking
from tests.web.conftest import LiveServer, browsing, shoot
from tests.web.pages import api_as, sign_in_browser

ROLES = (
    "detective",
    "supervisor",
    "commander",
    "authorizing_official",
    "equipment_officer",
    "legal",
    "auditor",
    "administrator",
)
# Links that are not pages: downloads, feeds, the API, and the way out.
NOT_PAGES = re.compile(r"^/(api|static|calendar)/|\.(csv|ics|json|zip|pdf)$|^/sign-out")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Overview, the pages its links lead to, and the pages theirs lead to (detail pages).
DEPTH = 2


@pytest.fixture(scope="module")
async def department(live_world: World, live: LiveServer) -> dict[str, Person]:
    """One person per role and a case in every state a page shows: an authorized investigation
    with an approved persona (a conduct review on the calendar, a site account waiting for the
    official) and a submitted one (waiting for the supervisor), an investigation waiting for
    authorization, a platform with its terms reviewed, an inspected device."""
    world = live_world
    people = {role: await world.user(role.replace("_", "-"), role) for role in ROLES}
    async with api_as(world, live, people["legal"]) as legal:
        response = await legal.post(
            "/api/platforms",
            json={"name": "Marketplace", "url": "https://market.example", "tos_url": "https://market.example/terms"},
        )
        assert response.status_code == 201, response.text
        platform_id = response.json()["id"]
        review = {
            "reviewed_on": "2026-03-01",
            "tos_version": "2026-01",
            "prohibits_false_identity": True,
            "prohibits_automation": False,
            "risk": "medium",
            "notes": "Use sparingly.",
        }
        response = await legal.post(f"/api/platforms/{platform_id}/tos-reviews", json=review)
        assert response.status_code == 201, response.text
    async with api_as(world, live, people["equipment_officer"]) as equipment:
        device = {"asset_tag": "LT-0042", "kind": "laptop", "serial": "SN-42", "ownership": "department"}
        response = await equipment.post("/api/equipment", json=device)
        assert response.status_code == 201, response.text
        checks = {"on_department_network": False, "department_identifiers_present": False}
        response = await equipment.post(
            f"/api/equipment/{response.json()['id']}/inspections",
            json=checks | {"attributable_connection": False, "notes": "Clean build."},
        )
        assert response.status_code in (200, 201), response.text
    async with (
        api_as(world, live, people["detective"]) as dana,
        api_as(world, live, people["authorizing_official"]) as alex,
        api_as(world, live, people["supervisor"]) as sam,
    ):
        investigation = await open_investigation(dana, "2026-0500")
        await authorize_investigation(world, people["authorizing_official"], alex, investigation)
        await open_investigation(dana, "2026-0501")
        personas = []
        for codename, alias in (("Amber Heron", "Jamie Calloway"), ("Quiet Falcon", "Robin Vance")):
            personas.append((await request_persona(dana, investigation, alias, codename=codename))["id"])
            assert (await dana.post(f"/api/personas/{personas[-1]}/submit")).status_code == 200
        response = await sam.post(
            f"/api/personas/{personas[0]}/approve", json={"totp_code": world.code(people["supervisor"])}
        )
        assert response.status_code == 200, response.text
        response = await dana.post(
            f"/api/personas/{personas[0]}/accounts", json={"platform_id": platform_id, "handle": "jamie_rides"}
        )
        assert response.status_code == 201, response.text
    return people


@pytest.fixture
async def context(browser: Browser, live: LiveServer) -> AsyncIterator[BrowserContext]:
    async with browsing(browser, live, javascript=True) as context:
        yield context


def _pattern(path: str) -> str:
    """A page's kind: its path with ids as {id} (one persona page stands for all)."""
    return _ID.sub("{id}", path)


def _slug(pattern: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", pattern.replace("{id}", "detail")).strip("-") or "overview"


async def _links(page: Page) -> list[str]:
    hrefs: list[str] = await page.eval_on_selector_all("main a[href], header a[href]", "els => els.map(a => a.href)")
    return hrefs


async def _check(page: Page, name: str, failures: list[str]) -> None:
    await shoot(page, name)
    where = f"{name} ({urlsplit(page.url).path})"
    kind = await page.evaluate("document.contentType")
    if kind != "text/html":
        failures.append(f"{where}: answered {kind}, not a page")
        return
    # axe asks only for a title; WCAG 2.4.2 asks that it say which page this is.
    if await page.title() == "Persona Registry":
        failures.append(f"{where}: the window title names no page (pass title= to page())")
    found = await blocking(page, where)
    if found:
        failures.append(found)


async def _walk(page: Page, live: LiveServer, role: str, failures: list[str]) -> list[str]:
    """Every page reachable from the overview within DEPTH links, one of each kind."""
    seen, frontier = {"/"}, ["/"]
    for _ in range(DEPTH + 1):
        found: list[str] = []
        for url in frontier:
            try:
                response = await page.goto(url)
            except Error as exc:
                if "Download is starting" in exc.message:
                    continue  # a file to save, not a page
                raise
            assert response is not None and response.ok, f"{role}: {url} answered {response and response.status}"
            await _check(page, f"{role}-{_slug(_pattern(urlsplit(url).path))}", failures)
            found += await _links(page)
        frontier = []
        for href in found:
            parts = urlsplit(href)
            kind = _pattern(parts.path)
            if f"{parts.scheme}://{parts.netloc}" == live.url and not NOT_PAGES.search(parts.path) and kind not in seen:
                seen.add(kind)
                frontier.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return sorted(seen)


async def test_every_page_of_every_role_passes_axe(
    browser: Browser, context: BrowserContext, live_world: World, live: LiveServer, department: dict[str, Person]
) -> None:
    world, failures = live_world, []
    page = await context.new_page()

    # Before signing in: the sign-in pages, a refused password, an unknown page.
    await page.goto("/sign-in")
    await _check(page, "signed-out-sign-in", failures)
    await page.goto("/sign-in?ended=1")
    await _check(page, "signed-out-session-ended", failures)
    await page.get_by_label("Username").fill("detective")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Continue").click()
    await _check(page, "signed-out-wrong-password", failures)
    await page.goto("/no-such-page")
    await _check(page, "signed-out-not-found", failures)
    newcomer = await world.user("newcomer", "detective", enrolled=False)
    await page.goto("/sign-in")
    await page.get_by_label("Username").fill(newcomer.username)
    await page.get_by_label("Password").fill(newcomer.password)
    await page.get_by_role("button", name="Continue").click()
    await expect(page).to_have_url(re.compile("/sign-in/enroll$"))
    await _check(page, "signed-out-enroll", failures)
    await context.clear_cookies()
    detective = department["detective"]
    await page.goto("/sign-in")
    await page.get_by_label("Username").fill(detective.username)
    await page.get_by_label("Password").fill(detective.password)
    await page.get_by_role("button", name="Continue").click()
    await _check(page, "signed-out-code", failures)
    await page.goto("/sign-in/recovery")
    await _check(page, "signed-out-recovery", failures)
    await context.clear_cookies()

    # Everyone signs in first, one after another (each code moves the shared clock on), then
    # all walk at once: the browser checks one role's page while the server renders another's.
    async with contextlib.AsyncExitStack() as stack:
        desks = {}
        for role in ROLES:
            desk = await stack.enter_async_context(browsing(browser, live, javascript=True))
            desks[role] = await desk.new_page()
            await sign_in_browser(desks[role], world, department[role])
        walks = await asyncio.gather(*(_walk(desks[role], live, role, failures) for role in ROLES))
        walked = dict(zip(ROLES, walks, strict=True))
        # Refusals are pages too: an unknown page, and a persona that is not there.
        await desks["detective"].goto("/no-such-page")
        await _check(desks["detective"], "detective-not-found", failures)
        await desks["detective"].goto(f"/personas/{uuid.uuid4()}")
        await _check(desks["detective"], "detective-persona-not-found", failures)

    # The walk reached the main pages of each role (a page that lost its link would drop out).
    assert {"/", "/personas", "/personas/{id}", "/investigations/{id}", "/reviews"} <= set(walked["detective"])
    assert {"/queue", "/personas/{id}"} <= set(walked["supervisor"])
    assert {"/reviews", "/reviews/{id}", "/reviews/feed"} <= set(walked["commander"])
    assert "/queue" in walked["authorizing_official"]
    assert "/equipment" in walked["equipment_officer"]
    assert "/platforms" in walked["legal"]
    assert {"/audit", "/central-record", "/disclosures"} <= set(walked["auditor"])
    assert {"/users", "/units"} <= set(walked["administrator"])
    assert not failures, "pages that fail WCAG 2.2 AA (axe-core: serious or critical):\n" + "\n".join(sorted(failures))


async def _tab_to(page: Page, target: Locator, limit: int = 40) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if await target.evaluate("el => el === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


async def test_sign_in_and_the_request_forms_work_by_keyboard_alone_with_javascript_off(
    browser: Browser, live_world: World, live: LiveServer, department: dict[str, Person]
) -> None:
    world, detective = live_world, department["detective"]
    async with browsing(browser, live) as context:
        page = await context.new_page()
        await page.goto("/sign-in")
        await _tab_to(page, page.get_by_label("Username"))
        await page.keyboard.type(detective.username)
        await _tab_to(page, page.get_by_label("Password"))
        await page.keyboard.type(detective.password)
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="Enter your authenticator code")).to_be_visible()
        await _tab_to(page, page.get_by_label("Code from your authenticator"))
        await page.keyboard.type(world.code(detective))
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name=re.compile("^Good day"))).to_be_visible()

        # The first Tab shows the skip link; it leads past the header.
        await page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        assert await skip.evaluate("el => el === document.activeElement")
        await expect(skip).to_be_in_viewport()
        await shoot(page, "keyboard-skip-link")
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile("#main$"))
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.querySelector('main').contains(document.activeElement)")

        investigation = {
            "Case number": "2026-0600",
            "Title": "Counterfeit tickets sold through a chat group",
            "Purpose": "Identify the organisers.",
            "Why false identities are necessary": "The group admits only vetted members.",
            "Why it is proportionate": "One persona, one group, sixty days.",
            "Risk of collateral intrusion and how it is limited": "Other members' messages are not kept.",
        }
        persona = {
            "Alias name": "Sam Whitlow",
            "Date of birth": "1990-03-14",
            "Claimed location": "Toledo, Ohio",
            "Legend (backstory)": "Resells concert tickets.",
        }
        for link, fields, button, done in (
            ("Open an investigation", investigation, "Open investigation", "Investigation opened"),
            ("Request a persona for this case", persona, "Request persona", "Persona requested."),
        ):
            await _tab_to(page, page.get_by_role("link", name=link))
            await page.keyboard.press("Enter")
            for label, value in fields.items():
                await _tab_to(page, page.get_by_label(label))
                await page.keyboard.type(value)
            await _tab_to(page, page.get_by_role("button", name=button))
            await shoot(page, f"keyboard-{button.lower().replace(' ', '-')}")
            await page.keyboard.press("Enter")
            await expect(page.get_by_text(done)).to_be_visible()
        await shoot(page, "keyboard-persona-requested")

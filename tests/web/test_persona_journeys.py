"""A persona in use, in headless Chromium with JavaScript off: the detective opens an active
persona, sees the device it holds and records activity on it; once that device's isolation
inspection has lapsed, the page says why activity is refused and offers no form
(003 IV.B.2). Screenshots land in artifacts/screenshots/."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import timedelta

from playwright.async_api import Page, expect

from tests.harness import Person, World
from tests.lifecycle.setup import inspect, register_device, review_terms
from tests.web.conftest import LiveServer, shoot
from tests.web.pages import api_as, justification, sign_in_browser


@dataclass
class Cast:
    detective: Person
    supervisor: Person
    official: Person
    officer: Person
    lawyer: Person


async def _cast(world: World, suffix: str) -> Cast:
    return Cast(
        await world.user(f"dana{suffix}", "detective"),
        await world.user(f"sam{suffix}", "supervisor"),
        await world.user(f"alex{suffix}", "authorizing_official"),
        await world.user(f"eli{suffix}", "equipment_officer"),
        await world.user(f"lee{suffix}", "legal"),
    )


async def _inspected_device(world: World, live: LiveServer, cast: Cast, tag: str) -> str:
    async with api_as(world, live, cast.officer) as eli:
        response = await register_device(eli, tag)
        assert response.status_code == 201, response.text
        device_id: str = response.json()["id"]
        assert (await inspect(eli, device_id)).status_code == 201
    return device_id


async def _active_persona(
    world: World,
    live: LiveServer,
    cast: Cast,
    device_id: str,
    *,
    case: str,
    codename: str,
    alias: str,
    platform: str,
) -> str:
    """An authorized investigation and a persona brought into use through the API, on
    `device_id`, with one authorized account on `platform`."""
    async with contextlib.AsyncExitStack() as stack:
        dana, sam, alex, lee = [
            await stack.enter_async_context(api_as(world, live, p))
            for p in (cast.detective, cast.supervisor, cast.official, cast.lawyer)
        ]
        response = await lee.post(
            "/api/platforms",
            json={"name": platform, "url": "https://market.example", "tos_url": "https://market.example/terms"},
        )
        assert response.status_code == 201, response.text
        platform_id = response.json()["id"]
        await review_terms(world, lee, platform_id)

        investigation = (await dana.post("/api/investigations", json=justification(case))).json()
        response = await alex.post(
            f"/api/investigations/{investigation['id']}/authorize", json={"totp_code": world.code(cast.official)}
        )
        assert response.status_code == 200, response.text
        documented = {
            "alias_name": alias,
            "date_of_birth": "1994-05-17",
            "location": "Springfield, Ohio",
            "legend": "Drives a forklift nights; restores old motorbikes.",
        }
        response = await dana.post(
            "/api/personas",
            json={"investigation_id": investigation["id"], "codename": codename, "identity": documented},
        )
        assert response.status_code == 201, response.text
        pid: str = response.json()["id"]
        assert (await dana.post(f"/api/personas/{pid}/submit")).status_code == 200
        response = await sam.post(f"/api/personas/{pid}/approve", json={"totp_code": world.code(cast.supervisor)})
        assert response.status_code == 200, response.text
        response = await dana.post(
            f"/api/personas/{pid}/accounts",
            json={"platform_id": platform_id, "handle": f"jamie_{case}", "credential_ref": "vault:secret/p/jamie"},
        )
        assert response.status_code == 201, response.text
        response = await alex.post(
            f"/api/accounts/{response.json()['id']}/authorize", json={"totp_code": world.code(cast.official)}
        )
        assert response.status_code == 200, response.text
        response = await dana.post(f"/api/personas/{pid}/equipment", json={"equipment_id": device_id})
        assert response.status_code == 201, response.text
        response = await dana.post(f"/api/personas/{pid}/tos-acknowledgements", json={"platform_id": platform_id})
        assert response.status_code == 201, response.text
        response = await dana.post(f"/api/personas/{pid}/activate")
        assert response.status_code == 200, response.text
    return pid


async def test_a_detective_sees_the_assigned_device_and_records_activity(
    page: Page, live_world: World, live: LiveServer
) -> None:
    world = live_world
    cast = await _cast(world, "")
    device = await _inspected_device(world, live, cast, "UC-LT-0012")
    pid = await _active_persona(
        world,
        live,
        cast,
        device,
        case="2026-0400",
        codename="Amber Heron",
        alias="Jamie Calloway",
        platform="Marketplace",
    )

    await sign_in_browser(page, world, cast.detective)
    await page.goto(f"/personas/{pid}")
    await expect(page.locator("h1 .status")).to_have_text("active")
    equipment = page.locator("#equipment")
    await expect(equipment).to_contain_text("UC-LT-0012")
    await expect(equipment.locator(".status")).to_have_text("usable")
    await expect(equipment).not_to_contain_text("No device assigned")
    await expect(page.locator(".checklist")).to_contain_text("Assigned and inspected: UC-LT-0012")

    activity = page.locator("#activity")
    await activity.get_by_text("Record activity").click()
    await expect(activity.get_by_label("Device")).to_have_value(device)
    await expect(activity.get_by_label("Platform").locator("option")).to_have_text(["Marketplace"])
    await activity.get_by_label("When (UTC)").fill(world.clock.now().strftime("%Y-%m-%dT%H:%M"))
    await activity.get_by_label("What was done").fill("Joined the resale group; no contact made.")
    await shoot(page, "10-persona-record-activity")
    await activity.get_by_role("button", name="Record").click()

    await expect(page.get_by_text("Activity recorded.", exact=True)).to_be_visible()
    row = page.locator("#activity tbody tr").first
    await expect(row).to_contain_text("Joined the resale group; no contact made.")
    await expect(row).to_contain_text("UC-LT-0012")
    await expect(row).to_contain_text("Marketplace")
    await shoot(page, "11-persona-activity-logged")


async def test_a_lapsed_inspection_shows_why_activity_is_refused_and_offers_no_form(
    page: Page, live_world: World, live: LiveServer
) -> None:
    world = live_world
    cast = await _cast(world, "2")
    # Inspected now; the persona is approved and put into use 85 days later, so when the
    # inspection lapses (day 90) its approval and conduct review are still current.
    device = await _inspected_device(world, live, cast, "UC-PH-0031")
    world.clock.advance(timedelta(days=85))
    pid = await _active_persona(
        world, live, cast, device, case="2026-0401", codename="Copper Lark", alias="Robin Vance", platform="Forum"
    )
    world.clock.advance(timedelta(days=6))

    await sign_in_browser(page, world, cast.detective)
    await page.goto(f"/personas/{pid}")
    equipment = page.locator("#equipment")
    await expect(equipment).to_contain_text("UC-PH-0031")
    await expect(equipment.locator(".status")).to_have_text("not usable")
    await expect(equipment).to_contain_text(re.compile(r"UC-PH-0031's isolation inspection of \S+ expired on"))

    refused = page.locator("#activity-refused")
    await expect(refused).to_contain_text("Activity cannot be recorded now.")
    await expect(refused).to_contain_text("isolation inspection")
    await expect(refused).to_contain_text("003 IV.B.2")
    # Only the inspection lapsed: the approval and the conduct review are not among the reasons.
    await expect(refused.locator("li")).to_have_count(1)
    await expect(page.locator('form[action$="/activity"]')).to_have_count(0)
    await expect(page.get_by_text("Record activity")).to_have_count(0)
    await shoot(page, "12-persona-inspection-lapsed")


async def test_the_supervisor_sees_what_changed_since_the_approval_beside_the_decision(
    page: Page, live_world: World, live: LiveServer
) -> None:
    world = live_world
    cast = await _cast(world, "3")
    documented = {
        "alias_name": "Kit Lorne",
        "date_of_birth": "1988-11-03",
        "location": "Akron, Ohio",
        "legend": "Buys and sells vintage radios.",
    }
    async with api_as(world, live, cast.detective) as dana, api_as(world, live, cast.supervisor) as sam:
        investigation = (await dana.post("/api/investigations", json=justification("2026-0402"))).json()
        response = await dana.post(
            "/api/personas",
            json={"investigation_id": investigation["id"], "codename": "Silver Wren", "identity": documented},
        )
        assert response.status_code == 201, response.text
        pid = response.json()["id"]
        assert (await dana.post(f"/api/personas/{pid}/submit")).status_code == 200
        response = await sam.post(f"/api/personas/{pid}/approve", json={"totp_code": world.code(cast.supervisor)})
        assert response.status_code == 200, response.text
        changed = documented | {"location": "Canton, Ohio", "legend": "Buys and sells vintage radios and amplifiers."}
        response = await dana.patch(f"/api/personas/{pid}", json={"identity": changed})
        assert response.status_code == 200, response.text

    await sign_in_browser(page, world, cast.supervisor)
    await page.goto(f"/personas/{pid}")
    changes = page.locator("#changes")
    await expect(changes).to_contain_text("Version 2 against the approved version 1")
    location = changes.get_by_role("row").filter(has_text="Location")
    await expect(location).to_contain_text("Akron, Ohio")
    await expect(location).to_contain_text("Canton, Ohio")
    await expect(changes.get_by_role("row")).to_have_count(3)  # the header, location and legend
    await expect(page.locator('#decide form[action$="/approve"] input[name="version"]')).to_have_value("2")
    await shoot(page, "13-approve-what-changed")

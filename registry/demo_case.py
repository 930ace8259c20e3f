"""A worked case for the demo department, put in through the real API (every rule and audit
event applies), dated in the past so the calendar has something to show: an active persona
whose conduct review is due now, with logged activity, and a second persona waiting for the
supervisor's approval.

Runs on a clock that starts weeks ago and moves 30 s per authenticator code, so the codes it
uses lie in the past and never block the demo users' real codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec

from registry.app import create_app
from registry.auth import totp
from registry.clock import MovableClock
from registry.settings import Settings

# Approved this long ago, a persona's 30-day review is a few days past due: inside the grace.
STARTED_DAYS_AGO = 33
BASE_URL = "https://registry.demo"


class _Desk:
    """The demo users at their desks: signed in on a clock of the case's own."""

    def __init__(self, app: Any, clock: MovableClock, secrets: dict[str, str]) -> None:
        self.app, self.clock, self.secrets = app, clock, secrets
        self.clients: dict[str, httpx.AsyncClient] = {}

    def code(self, username: str) -> str:
        self.clock.advance(timedelta(seconds=30))
        return totp.code_at(self.secrets[username], self.clock.now())

    async def signin(self, username: str, password: str) -> None:
        client = self.clients.get(username) or httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=("127.0.0.1", 0)), base_url=BASE_URL
        )
        self.clients[username] = client
        await self.call(username, "POST", "/api/auth/login", {"username": username, "password": password})
        await self.call(username, "POST", "/api/auth/mfa", {"code": self.code(username)})

    async def call(self, username: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.clients[username].request(method, path, json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"demo case: {method} {path} as {username} answered {response.text}")
        return response.json()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def _identity(alias: str, location: str, legend: str) -> dict[str, Any]:
    return {
        "alias_name": alias,
        "date_of_birth": "1991-08-23",
        "location": location,
        "legend": legend,
        "photo_provenance": [
            {
                "source": "generated",
                "description": "synthetic portrait, no real person",
                "depicts_department_employee": False,
            }
        ],
    }


async def seed_case(settings: Settings, secrets: dict[str, str], password: str) -> None:
    clock = MovableClock(datetime.now(UTC) - timedelta(days=STARTED_DAYS_AGO))
    app = create_app(
        msgspec.structs.replace(settings, audit_seal_interval_seconds=0, jobs_interval_seconds=0), clock=clock
    )
    async with app.lifespan():
        desk = _Desk(app, clock, secrets)
        try:
            await _case(desk, password)
        finally:
            await desk.close()


async def _case(desk: _Desk, password: str) -> None:
    for username in ("detective", "chief", "supervisor", "legal", "equipment"):
        await desk.signin(username, password)
    call = desk.call
    inv = await call(
        "detective",
        "POST",
        "/api/investigations",
        {
            "case_number": "2026-0142",
            "title": "Catalytic converters resold online",
            "purpose": "Identify the sellers behind a resale ring advertising on marketplaces.",
            "necessity": "Open-source searching has not identified the sellers.",
            "proportionality": "Contact limited to the sellers' public listings and replies.",
            "collateral_intrusion": "Buyers' messages are neither read nor kept.",
        },
    )
    await call("chief", "POST", f"/api/investigations/{inv['id']}/authorize", {"totp_code": desk.code("chief")})
    persona = await call(
        "detective",
        "POST",
        "/api/personas",
        {
            "investigation_id": inv["id"],
            "codename": "HARBOR-KITE",
            "identity": _identity(
                "Jamie Calloway",
                "Dayton, Ohio",
                "Jamie works nights at a scrapyard and sells car parts on the side.",
            ),
        },
    )
    pid = persona["id"]
    await call("detective", "POST", f"/api/personas/{pid}/submit")
    await call("supervisor", "POST", f"/api/personas/{pid}/approve", {"totp_code": desk.code("supervisor")})
    platform = await call(
        "legal",
        "POST",
        "/api/platforms",
        {"name": "Marketplace", "url": "https://marketplace.example", "tos_url": "https://marketplace.example/terms"},
    )
    await call(
        "legal",
        "POST",
        f"/api/platforms/{platform['id']}/tos-reviews",
        {
            "reviewed_on": desk.clock.now().date().isoformat(),
            "tos_version": "2026-01",
            "prohibits_false_identity": True,
            "prohibits_automation": True,
            "risk": "medium",
            "notes": "False names are against the terms; an account may be closed without notice.",
        },
    )
    account = await call(
        "detective",
        "POST",
        f"/api/personas/{pid}/accounts",
        {"platform_id": platform["id"], "handle": "jcalloway91", "credential_ref": "vault:secret/personas/harbor-kite"},
    )
    await call("chief", "POST", f"/api/accounts/{account['id']}/authorize", {"totp_code": desk.code("chief")})
    device = await call(
        "equipment",
        "POST",
        "/api/equipment",
        {"asset_tag": "UC-LT-0007", "kind": "laptop", "serial": "5CG1234XYZ", "ownership": "department"},
    )
    await call(
        "equipment",
        "POST",
        f"/api/equipment/{device['id']}/inspections",
        {
            "on_department_network": False,
            "department_identifiers_present": False,
            "attributable_connection": False,
            "notes": "Fresh image; prepaid mobile hotspot.",
        },
    )
    await call("detective", "POST", f"/api/personas/{pid}/equipment", {"equipment_id": device["id"]})
    await call("detective", "POST", f"/api/personas/{pid}/tos-acknowledgements", {"platform_id": platform["id"]})
    await call("detective", "POST", f"/api/personas/{pid}/activate")
    await _activity(desk, pid, platform["id"], device["id"], "Answered a listing for two converters; asked for photos.")

    # Weeks later: more activity, and a second persona for the supervisor's queue.
    desk.clock.advance(timedelta(days=STARTED_DAYS_AGO - 2))
    await desk.signin("detective", password)
    await _activity(desk, pid, platform["id"], device["id"], "Seller proposed a meeting; declined and logged it.")
    second = await call(
        "detective",
        "POST",
        "/api/personas",
        {
            "investigation_id": inv["id"],
            "identity": _identity(
                "Robin Ashdown",
                "Springfield, Ohio",
                "Robin restores old pickups and buys parts in bulk for a small garage.",
            ),
        },
    )
    await call("detective", "POST", f"/api/personas/{second['id']}/submit")


async def _activity(desk: _Desk, pid: str, platform_id: str, device_id: str, summary: str) -> None:
    await desk.call(
        "detective",
        "POST",
        f"/api/personas/{pid}/activity",
        {
            "occurred_at": (desk.clock.now() - timedelta(minutes=10)).isoformat(),
            "platform_id": platform_id,
            "equipment_id": device_id,
            "summary": summary,
        },
    )

"""Bring a persona to the activation gate with everything in place, step by step through the
API, so a test can leave exactly one step out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from tests.harness import Person, World
from tests.personas.helpers import Team, approved_persona, team

STEPS = ("account", "authorize_account", "tos_review", "device", "inspect", "assign", "acknowledge")


@dataclass
class Ready:
    t: Team
    persona: dict[str, Any]
    legal: httpx.AsyncClient
    equipment: httpx.AsyncClient
    officer: Person
    lawyer: Person
    platform_id: str = ""
    account_id: str = ""
    device_id: str = ""
    done: list[str] = field(default_factory=list)

    @property
    def pid(self) -> str:
        return str(self.persona["id"])


async def register_device(client: httpx.AsyncClient, tag: str, ownership: str = "department") -> httpx.Response:
    return await client.post(
        "/api/equipment", json={"asset_tag": tag, "kind": "laptop", "serial": f"SN-{tag}", "ownership": ownership}
    )


async def inspect(client: httpx.AsyncClient, device_id: str, *, passing: bool = True) -> httpx.Response:
    return await client.post(
        f"/api/equipment/{device_id}/inspections",
        json={
            "on_department_network": not passing,
            "department_identifiers_present": False,
            "attributable_connection": False,
            "notes": "checked at the bench",
        },
    )


async def review_terms(world: World, client: httpx.AsyncClient, platform_id: str, version: str = "2026-01") -> None:
    response = await client.post(
        f"/api/platforms/{platform_id}/tos-reviews",
        json={
            "reviewed_on": world.clock.now().date().isoformat(),
            "tos_version": version,
            "prohibits_false_identity": True,
            "prohibits_automation": True,
            "risk": "high",
            "notes": "False names are against the terms; accounts may be closed without notice.",
        },
    )
    assert response.status_code == 201, response.text


async def prepare(world: World, skip: tuple[str, ...] = ()) -> Ready:
    t = await team(world)
    persona = await approved_persona(t)
    lee = await world.user("lee", "legal")
    eli = await world.user("eli", "equipment_officer")
    r = Ready(t, persona, await world.signin(lee), await world.signin(eli), eli, lee)
    response = await r.legal.post(
        "/api/platforms", json={"name": "Facebook", "url": "https://facebook.com", "tos_url": "https://fb.com/terms"}
    )
    assert response.status_code == 201, response.text
    r.platform_id = response.json()["id"]
    if "account" not in skip:
        response = await t.dana.post(
            f"/api/personas/{r.pid}/accounts",
            json={
                "platform_id": r.platform_id,
                "handle": "jamie.calloway94",
                "credential_ref": "vault:secret/personas/jamie",
            },
        )
        assert response.status_code == 201, response.text
        r.account_id = response.json()["id"]
        if "authorize_account" not in skip:
            response = await t.alex.post(
                f"/api/accounts/{r.account_id}/authorize", json={"totp_code": world.code(t.official)}
            )
            assert response.status_code == 200, response.text
    if "tos_review" not in skip:
        await review_terms(world, r.legal, r.platform_id)
    if "device" not in skip:
        response = await register_device(r.equipment, "LT-0001")
        assert response.status_code == 201, response.text
        r.device_id = response.json()["id"]
        if "inspect" not in skip:
            assert (await inspect(r.equipment, r.device_id)).status_code == 201
        if "assign" not in skip and "inspect" not in skip:
            response = await t.dana.post(f"/api/personas/{r.pid}/equipment", json={"equipment_id": r.device_id})
            assert response.status_code == 201, response.text
    if "acknowledge" not in skip and "account" not in skip and "tos_review" not in skip:
        response = await t.dana.post(f"/api/personas/{r.pid}/tos-acknowledgements", json={"platform_id": r.platform_id})
        assert response.status_code == 201, response.text
    return r


async def later(r: Ready, delta: timedelta) -> None:
    """Move time on; sessions have lapsed meanwhile, so everyone signs in again."""
    world = r.t.world
    world.clock.advance(delta)
    for person, client in (
        (r.t.detective, r.t.dana),
        (r.t.supervisor, r.t.sam),
        (r.t.official, r.t.alex),
        (r.officer, r.equipment),
        (r.lawyer, r.legal),
    ):
        await world.signin(person, client)

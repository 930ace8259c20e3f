"""A worked case through the API, and reading packs in tests."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from tests.harness import Person, World
from tests.lifecycle.setup import Ready, prepare
from tests.reviews.helpers import commander, completion, move_on, only_review

PASSPHRASE = "court order 2026-117 exhibit"
# What the worked case's identity and account carry (tests.personas.helpers.identity, prepare).
IDENTITY_VALUES = (
    "Jamie Calloway",
    "1994-05-17",
    "Springfield, Ohio",
    "restores old motorbikes",
    "synthetic portrait",
    "jamie.calloway94",
    "vault:secret/personas/jamie",
)


@dataclass
class Case:
    r: Ready
    cora: Person
    cora_client: httpx.AsyncClient
    auditor: httpx.AsyncClient
    lawyer: httpx.AsyncClient


def entry(r: Ready, **changes: Any) -> dict[str, Any]:
    return {
        "occurred_at": r.t.world.clock.now().isoformat(),
        "platform_id": r.platform_id,
        "equipment_id": r.device_id,
        "summary": "Browsed the resale group as Jamie Calloway; no contact made.",
    } | changes


async def worked_case(world: World) -> Case:
    """An authorized case; a persona approved, equipped, activated, used twice and reviewed."""
    cora, cora_client = await commander(world)
    r = await prepare(world)
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activate")
    assert response.status_code == 200, response.text
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry(r))
    assert response.status_code == 201, response.text
    await move_on(r, cora, cora_client, timedelta(days=3))
    response = await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=entry(r))
    assert response.status_code == 201, response.text
    review = await only_review(cora_client)
    held = await cora_client.post(
        f"/api/reviews/{review['id']}/complete",
        json=completion(review, world.clock.now().date().isoformat()),
    )
    assert held.status_code == 200, held.text
    auditor = await world.signin(await world.user("audrey", "auditor"))
    return Case(r, cora, cora_client, auditor, r.legal)


async def export(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/api/disclosures", json=body)


def files(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()

"""The blast radius of a burned persona: the live personas that share a device, a recovery
contact, a photo, a network egress or the handler on a platform with it, for the supervisor
to assess; and warnings before a new link to a burned persona is made."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
from PIL import Image, ImageDraw

from tests.harness import World
from tests.lifecycle.setup import register_device
from tests.personas.helpers import Team, request_persona, second_team, team


def _photo(seed: int, size: int = 256) -> bytes:
    """A photo-like image (broad shapes on a gradient) of its own; `seed` picks the layout."""
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    for y in range(size):
        draw.line([(0, y), (size, y)], fill=(y % 256, (y * seed) % 256, 255 - y % 256))
    for i in range(4):
        x, y = (seed * 53 + i * 71) % (size - 80), (seed * 97 + i * 43) % (size - 80)
        draw.ellipse([x, y, x + 70, y + 70], fill=((seed * 40 + i * 60) % 256, 30 * i, 200 - 40 * i))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _b64(content: bytes) -> dict[str, str]:
    return {"content_base64": base64.b64encode(content).decode()}


async def _platform(world: World, name: str) -> str:
    legal = await world.signin(await world.user(f"legal-{name.lower()}", "legal"))
    response = await legal.post(
        "/api/platforms", json={"name": name, "url": f"https://{name.lower()}.example", "tos_url": "https://x.example"}
    )
    assert response.status_code == 201, response.text
    platform_id: str = response.json()["id"]
    return platform_id


async def _device(officer: httpx.AsyncClient, tag: str, egress: str | None = None) -> str:
    device = (await register_device(officer, tag)).json()["id"]
    body: dict[str, Any] = {
        "on_department_network": False,
        "department_identifiers_present": False,
        "attributable_connection": False,
    }
    if egress:
        body["egress"] = egress
    assert (await officer.post(f"/api/equipment/{device}/inspections", json=body)).status_code == 201
    return str(device)


async def _account(client: httpx.AsyncClient, pid: str, platform_id: str, handle: str, **more: str) -> dict[str, Any]:
    response = await client.post(
        f"/api/personas/{pid}/accounts", json={"platform_id": platform_id, "handle": handle} | more
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _assign(client: httpx.AsyncClient, pid: str, device: str) -> dict[str, Any]:
    response = await client.post(f"/api/personas/{pid}/equipment", json={"equipment_id": device})
    assert response.status_code == 201, response.text
    assigned: dict[str, Any] = response.json()
    return assigned


class Case:
    """Dana's burned persona and Erin's personas, each linked one way (or not at all)."""

    t: Team
    erin: httpx.AsyncClient
    erin_inv: str
    chatter: str
    burned: dict[str, Any]
    by: dict[str, dict[str, Any]]


async def _case(world: World) -> Case:
    case = Case()
    t = case.t = await team(world)
    _, erin, erin_inv = await second_team(world, t)
    case.erin, case.erin_inv = erin, erin_inv
    officer = await world.signin(await world.user("eli", "equipment_officer"))
    marketbook = await _platform(world, "Marketbook")
    chatter = await _platform(world, "Chatter")
    forum = await _platform(world, "Forum")
    case.chatter = chatter

    burned = case.burned = await request_persona(t.dana, t.investigation_id, "Jamie Calloway")
    names = {
        "device": "Morgan Vale",
        "email": "Riley Stone",
        "photo": "Casey Moor",
        "egress": "Avery Lund",
        "unlinked": "Quinn Hart",
        "retired": "Jordan Pike",
    }
    case.by = {k: await request_persona(erin, erin_inv, alias) for k, alias in names.items()}
    same_handler = await request_persona(t.dana, t.investigation_id, "Drew Lake")
    case.by["handler"] = same_handler

    # A device the burned persona used, later handed to another persona.
    shared = await _device(officer, "LT-0100")
    await _assign(t.dana, burned["id"], shared)
    released = await t.dana.delete(f"/api/personas/{burned['id']}/equipment/{shared}")
    assert released.status_code in (200, 204), released.text
    await _assign(erin, case.by["device"]["id"], shared)
    # The same recovery e-mail on two sites.
    await _account(t.dana, burned["id"], marketbook, "jamie.c", email="jamie.c@mail.example")
    await _account(erin, case.by["email"]["id"], chatter, "riley", email="Jamie.C@mail.example")
    # The same photo, re-saved.
    photo = _photo(5)
    assert (await t.dana.post(f"/api/personas/{burned['id']}/photos", json=_b64(photo))).status_code == 201
    again = io.BytesIO()
    Image.open(io.BytesIO(photo)).resize((200, 200)).save(again, format="JPEG", quality=90)
    assert (
        await erin.post(f"/api/personas/{case.by['photo']['id']}/photos", json=_b64(again.getvalue()))
    ).status_code == 201
    # Two devices behind the same VPN exit.
    await _assign(t.dana, burned["id"], await _device(officer, "LT-0200", egress="vpn exit 203.0.113.7"))
    await _assign(erin, case.by["egress"]["id"], await _device(officer, "PH-0300", egress="VPN exit 203.0.113.7"))
    # The same handler on the same platform.
    await _account(t.dana, same_handler["id"], marketbook, "drew.lake")
    # Nothing shared.
    await _account(erin, case.by["unlinked"]["id"], forum, "quinn")
    await _assign(erin, case.by["unlinked"]["id"], await _device(officer, "LT-0400", egress="hotspot 2"))
    assert (
        await erin.post(f"/api/personas/{case.by['unlinked']['id']}/photos", json=_b64(_photo(11)))
    ).status_code == 201
    # Linked, but already retired.
    await _account(erin, case.by["retired"]["id"], chatter, "jordan", phone="+1 (555) 010-2000")
    await _account(t.dana, burned["id"], forum, "jamie.f", phone="15550102000")
    retire = await erin.post(f"/api/personas/{case.by['retired']['id']}/retire", json={"reason": "Closed."})
    assert retire.status_code == 200

    burn = await t.dana.post(
        f"/api/personas/{burned['id']}/compromise", json={"report": "The target posted a screenshot of the profile."}
    )
    assert burn.status_code == 200, burn.text
    return case


async def test_a_burned_personas_linkage_report_lists_exactly_the_linked_live_personas(world):
    case = await _case(world)

    response = await case.t.sam.get(f"/api/personas/{case.burned['id']}/linkage")

    assert response.status_code == 200, response.text
    linked = {x["codename"]: {link["kind"] for link in x["links"]} for x in response.json()["linked"]}
    expected = {
        case.by["device"]["codename"]: {"device"},
        case.by["email"]["codename"]: {"recovery_email"},
        case.by["photo"]["codename"]: {"photo"},
        case.by["egress"]["codename"]: {"egress"},
        case.by["handler"]["codename"]: {"handler_platform"},
    }
    assert linked == expected
    # Codenames, asset tags and platform names only: no alias, handle or e-mail address.
    assert "Jamie" not in response.text and "mail.example" not in response.text and "203.0.113" not in response.text
    [event] = await world.events("persona.linkage_read")
    assert event["actor"] == "sam"


async def test_the_supervisor_assesses_each_linked_persona_and_the_decision_is_kept(world):
    case = await _case(world)
    target = case.by["device"]

    decided = await case.t.sam.post(
        f"/api/personas/{case.burned['id']}/linkage/{target['id']}/assessment",
        json={"decision": "retire", "reason": "Shared the burned laptop for weeks."},
    )
    kept = await case.t.sam.post(
        f"/api/personas/{case.burned['id']}/linkage/{case.by['photo']['id']}/assessment",
        json={"decision": "keep", "reason": "Different platform audience; photo replaced."},
    )

    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "retired"
    assert kept.status_code == 200 and kept.json()["status"] == "draft"
    report = (await case.t.sam.get(f"/api/personas/{case.burned['id']}/linkage")).json()
    codenames = {x["codename"]: x for x in report["linked"]}
    assert target["codename"] not in codenames  # retired: no longer live
    assert codenames[case.by["photo"]["codename"]]["assessment"]["decision"] == "keep"
    assert len(await world.events("persona.linkage_assess")) == 2


async def test_a_handler_gets_403_and_an_unlinked_persona_cannot_be_assessed(world):
    case = await _case(world)

    handler = await case.t.dana.get(f"/api/personas/{case.burned['id']}/linkage")
    unlinked = await case.t.sam.post(
        f"/api/personas/{case.burned['id']}/linkage/{case.by['unlinked']['id']}/assessment",
        json={"decision": "suspend", "reason": "Just in case."},
    )

    assert handler.status_code == 403
    assert unlinked.status_code == 404


async def test_a_new_persona_reusing_a_burned_photo_recovery_contact_or_device_is_warned(world):
    case = await _case(world)
    erin = case.erin
    fresh = await request_persona(erin, case.erin_inv, "Sky Dunn")

    photo = await erin.post(f"/api/personas/{fresh['id']}/photos", json=_b64(_photo(5)))
    assert photo.status_code == 201
    assert any(case.burned["codename"] in w and "compromised" in w for w in photo.json()["warnings"])

    account = await _account(erin, fresh["id"], case.chatter, "sky.d", email="jamie.c@mail.example")
    assert any(case.burned["codename"] in w for w in account["warnings"])

    clean = await erin.post(f"/api/personas/{fresh['id']}/photos", json=_b64(_photo(23)))
    assert clean.json()["warnings"] == []

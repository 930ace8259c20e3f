"""Patterns match the whole value: a trailing newline is not a way around them (issue 11.8)."""

from __future__ import annotations

from tests.harness import World
from tests.personas.helpers import justification, open_investigation


async def test_a_case_number_with_a_trailing_newline_does_not_register_it_twice(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    await open_investigation(dana, "HX-0001")

    again = await dana.post("/api/investigations", json=justification("HX-0001\n"))

    assert again.status_code == 400
    assert [e["key"] for e in again.json()["errors"]] == ["case_number"]
    assert await world.db.fetchval("SELECT count(*) FROM investigations") == 1


async def test_a_username_with_a_trailing_newline_is_refused_not_a_500(world: World) -> None:
    ada = await world.signin(await world.user("ada", "administrator"))
    body = {"username": "det\n", "display_name": "Det", "roles": ["auditor"], "password": "copper lantern meadow forty"}

    response = await ada.post("/api/users", json=body)

    assert response.status_code == 400
    assert [e["key"] for e in response.json()["errors"]] == ["username"]
    assert await world.db.fetchval("SELECT count(*) FROM users") == 1


async def test_query_filters_and_asset_tags_match_whole_values(world: World) -> None:
    dana = await world.signin(await world.user("dana", "detective"))
    eli = await world.signin(await world.user("eli", "equipment_officer"))

    listing = await dana.get("/api/personas", params={"status": "draft\n"})
    device = await eli.post(
        "/api/equipment",
        json={"asset_tag": "LAP-1\n", "kind": "laptop", "serial": "SN1", "ownership": "department"},
    )

    assert listing.status_code == 400
    assert device.status_code == 400
    assert await world.db.fetchval("SELECT count(*) FROM equipment") == 0

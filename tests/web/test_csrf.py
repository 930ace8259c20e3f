"""The forms' CSRF token belongs to the session it was issued to: a token and cookie taken from
one session do not work in another (issue 11.12)."""

from __future__ import annotations

from tests.harness import World
from tests.personas.helpers import justification
from tests.web.pages import csrf_token, sign_in_with_forms


async def test_a_token_from_one_session_does_not_work_in_another(world: World) -> None:
    dana = await world.user("dana", "detective")
    mallory = await world.user("mallory", "detective")
    victim = await sign_in_with_forms(world, dana)
    attacker = await sign_in_with_forms(world, mallory)
    stolen = await csrf_token(attacker, "/investigations")
    # Whatever the attacker manages to plant in the victim's browser: their token, their cookie.
    for name, value in attacker.cookies.items():
        if name != "registry_session":
            victim.cookies.set(name, value)

    forged = await victim.post("/investigations", data={"_csrf_token": stolen, **justification("2026-0666")})

    assert forged.status_code == 403
    assert "Form refused" in forged.text
    assert await world.db.fetchval("SELECT count(*) FROM investigations") == 0
    own = await csrf_token(victim, "/investigations")
    assert own != stolen
    accepted = await victim.post("/investigations", data={"_csrf_token": own, **justification("2026-0667")})
    assert accepted.status_code == 303, accepted.text


async def test_the_token_changes_when_the_session_does(world: World) -> None:
    dana = await world.user("dana", "detective")
    first = await sign_in_with_forms(world, dana)
    before = await csrf_token(first, "/investigations")
    assert (await first.post("/sign-out", data={"_csrf_token": before})).status_code == 303

    second = await sign_in_with_forms(world, dana, client=first)
    after = await csrf_token(second, "/investigations")

    assert after != before
    replayed = await second.post("/investigations", data={"_csrf_token": before, **justification("2026-0668")})
    assert replayed.status_code == 403


async def test_the_sign_in_form_still_needs_its_token(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = world.client()

    without = await client.post("/sign-in", data={"username": "dana", "password": dana.password})
    forged = await client.post(
        "/sign-in", data={"_csrf_token": "0" * 128, "username": "dana", "password": dana.password}
    )
    token = await csrf_token(client, "/sign-in")
    signed = await client.post("/sign-in", data={"_csrf_token": token, "username": "dana", "password": dana.password})

    assert (without.status_code, forged.status_code) == (403, 403)
    assert signed.status_code == 303

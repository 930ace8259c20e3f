"""The account lifecycle through the pages: a temporary password is replaced before anything
else, and an enrollment after a reset asks for the code the second person handed over."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pyotp

from tests.harness import World
from tests.web.pages import post_form

TEMPORARY = "copper lantern meadow forty"


async def _post_enroll(client: httpx.AsyncClient, page: str, data: dict[str, str]) -> httpx.Response:
    """Sends the enrollment form as shown (showing it again would make a new secret)."""
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert token
    return await client.post("/sign-in/enroll", data={"_csrf_token": token.group(1), **data})


OWN = "quiet harbor pebble sixteen"


async def test_a_temporary_password_is_replaced_through_the_pages_first(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    body = {"username": "avery", "display_name": "Avery Brennan", "roles": ["auditor"], "password": TEMPORARY}
    assert (await admin.post("/api/users", json=body)).status_code == 201
    client = world.client()
    response = await post_form(client, "/sign-in", {"username": "avery", "password": TEMPORARY}, form_on="/sign-in")
    assert response.headers["location"] == "/sign-in/enroll"
    enroll = await client.get("/sign-in/enroll")
    secret = re.search(r'<code class="secret grouped">((?:[A-Z2-7]{4} )+[A-Z2-7]{1,4})</code>', enroll.text)
    assert secret, "the key is shown in groups of four"
    assert 'action="/sign-out"' in enroll.text and "Cancel and sign out" in enroll.text
    totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
    codes = await _post_enroll(client, enroll.text, {"totp_code": totp.at(world.clock.now())})
    assert codes.status_code == 200
    assert 'href="/account/password"' in codes.text

    blocked = await client.get("/audit")
    assert blocked.status_code == 403
    assert "Replace it with your own" in (await client.get("/")).text
    wrong = await post_form(
        client,
        "/account/password",
        {"current_password": "not it at all", "new_password": OWN, "totp_code": totp.at(world.clock.now())},
        form_on="/account/password",
    )
    assert wrong.status_code == 403
    assert 'id="e-current_password"' in wrong.text
    world.clock.advance(timedelta(seconds=30))
    done = await post_form(
        client,
        "/account/password",
        {"current_password": TEMPORARY, "new_password": OWN, "totp_code": totp.at(world.clock.now())},
        form_on="/account/password",
    )
    assert done.status_code == 303, done.text
    assert (await client.get("/audit")).status_code == 200


async def test_after_a_reset_the_enrollment_page_asks_for_the_handed_over_code(world: World) -> None:
    dana = await world.user("dana", "detective")
    admin = await world.signin(await world.user("ada", "administrator"))
    cora_person = await world.user("cora", "commander")
    cora = await world.signin(cora_person)
    await admin.post(f"/api/users/{dana.id}/reset-mfa")
    client = world.client()
    await post_form(client, "/sign-in", {"username": "dana", "password": dana.password}, form_on="/sign-in")
    waiting = await client.get("/sign-in/enroll")
    assert waiting.status_code == 403
    assert "commander must first confirm" in waiting.text

    confirmed = await cora.post(f"/api/users/{dana.id}/reset-mfa/confirm", json={"totp_code": world.code(cora_person)})
    handed_over = confirmed.json()["enrollment_code"]
    enroll = await client.get("/sign-in/enroll")
    assert 'name="enrollment_code"' in enroll.text
    secret = re.search(r'<code class="secret grouped">([A-Z2-7 ]+)</code>', enroll.text)
    assert secret
    code = pyotp.TOTP(secret.group(1).replace(" ", "")).at(world.clock.now())
    missing = await _post_enroll(client, enroll.text, {"totp_code": code})
    assert missing.status_code == 401
    assert 'id="e-enrollment_code"' in missing.text
    done = await _post_enroll(client, enroll.text, {"totp_code": code, "enrollment_code": handed_over})
    assert done.status_code == 200, done.text
    assert "Your recovery codes" in done.text

"""The pages over plain HTTP: sign-in redirects, CSRF, no-store, escaping, need-to-know,
errors next to the field at fault."""

from __future__ import annotations

from tests.harness import World
from tests.web.pages import justification, persona_through_api, post_form, sign_in_with_forms


async def test_a_page_sends_a_stranger_to_sign_in_while_the_api_answers_401(world: World) -> None:
    client = world.client()
    response = await client.get("/personas")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
    response = await client.get("/api/personas")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_ended_session_is_explained_on_the_sign_in_page(world: World) -> None:
    client = world.client()
    client.cookies.set("registry_session", "no-such-session", domain="registry.test")
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?ended=1"
    page = await client.get("/sign-in?ended=1")
    assert "Your session has ended" in page.text


async def test_sign_in_through_the_forms_shows_the_notice_then_asks_for_the_code(world: World) -> None:
    dana = await world.user("dana", "detective")
    page = await world.client().get("/sign-in")
    assert "system-use notice" in page.text
    client = await sign_in_with_forms(world, dana)
    home = await client.get("/")
    assert home.status_code == 200
    assert "Dana" in home.text


async def test_a_wrong_code_is_shown_next_to_the_code_field(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = world.client()
    response = await post_form(client, "/sign-in", {"username": "dana", "password": dana.password}, form_on="/sign-in")
    assert response.status_code == 303
    response = await post_form(client, "/sign-in/code", {"totp_code": world.wrong_code(dana)}, form_on="/sign-in/code")
    assert response.status_code == 401
    assert 'id="e-totp_code"' in response.text
    assert "That code was not accepted" in response.text


async def test_a_form_post_without_its_csrf_token_is_refused(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await sign_in_with_forms(world, dana)
    response = await client.post("/investigations", data=justification("2026-0009"))
    assert response.status_code == 403
    response = await world.client().post("/sign-in", data={"username": "dana", "password": dana.password})
    assert response.status_code == 403
    # The JSON API is not a form: it keeps working without a token.
    response = await client.post("/api/investigations", json=justification("2026-0010"))
    assert response.status_code == 201


async def test_every_page_is_no_store(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await sign_in_with_forms(world, dana)
    persona = await persona_through_api(world, dana)
    assert (await world.client().get("/sign-in")).headers["cache-control"] == "no-store"
    for path in ("/", "/personas", "/investigations", "/personas/new", f"/personas/{persona['id']}"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path


async def test_user_text_is_escaped(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await sign_in_with_forms(world, dana)
    title = '<script>alert("x")</script>'
    response = await client.post("/api/investigations", json=justification("2026-0002", title=title))
    assert response.status_code == 201
    page = await client.get("/investigations")
    assert "&lt;script&gt;alert(" in page.text
    assert "<script>alert(" not in page.text


async def test_an_outsider_gets_404_for_a_persona_page(world: World) -> None:
    dana = await world.user("dana", "detective")
    omar = await world.user("omar", "detective")
    persona = await persona_through_api(world, dana)
    mine = await sign_in_with_forms(world, dana)
    assert (await mine.get(f"/personas/{persona['id']}")).status_code == 200
    outsider = await sign_in_with_forms(world, omar)
    response = await outsider.get(f"/personas/{persona['id']}")
    assert response.status_code == 404
    assert persona["codename"] not in response.text


async def test_a_refused_request_is_shown_next_to_the_field_at_fault(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await sign_in_with_forms(world, dana)
    response = await client.post("/api/investigations", json=justification("2026-0003"))
    investigation = response.json()
    form = {
        "investigation_id": investigation["id"],
        "identity.alias_name": "",
        "identity.date_of_birth": "1994-05-17",
        "identity.location": "Springfield",
        "identity.legend": "A legend.",
    }
    response = await post_form(client, "/personas/new", form, form_on="/personas/new")
    assert response.status_code == 400
    assert 'id="e-identity.alias_name"' in response.text
    assert "This is required." in response.text
    # What was typed comes back, so nothing has to be typed again.
    assert 'value="Springfield"' in response.text
    response = await post_form(
        client,
        "/personas/new",
        form | {"identity.date_of_birth": "2999-01-01", "identity.alias_name": "Jo"},
        form_on="/personas/new",
    )
    assert response.status_code == 422
    assert 'id="e-identity.date_of_birth"' in response.text

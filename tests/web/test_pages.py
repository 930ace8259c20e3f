"""The pages over plain HTTP: sign-in redirects, CSRF, no-store, escaping, need-to-know,
errors next to the field at fault."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from registry.web.render import local_path
from tests.harness import World
from tests.web.pages import PAGE, justification, persona_through_api, post_form, sign_in_with_forms


async def test_a_page_sends_a_stranger_to_sign_in_while_the_api_answers_401(world: World) -> None:
    client = world.client()
    response = await client.get("/personas")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fpersonas"
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
    response = await post_form(
        client,
        "/personas/new",
        form | {"identity.location": "", "identity.date_of_birth": "17/05/1994"},
        form_on="/personas/new",
    )
    assert response.status_code == 400
    # Every error at once, each beside its input and in the summary under its name.
    for name in ("identity.alias_name", "identity.location", "identity.date_of_birth"):
        assert f'id="e-{name}"' in response.text and f'<a href="#f-{name}">' in response.text
    assert "This is required." in response.text
    assert '<a href="#f-identity.date_of_birth">Date of birth: Enter a date as YYYY-MM-DD.</a>' in response.text
    response = await post_form(client, "/personas/new", form, form_on="/personas/new")
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


async def test_a_browser_gets_pages_for_unknown_and_refused_addresses_and_the_api_keeps_json(world: World) -> None:
    stranger = world.client()
    response = await stranger.get("/no-such-page", headers=PAGE)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found" in response.text and "<form" not in response.text
    for path, headers in (("/api/no-such-thing", PAGE), ("/no-such-page", {"accept": "application/json"})):
        response = await stranger.get(path, headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
    response = await stranger.get("/login", headers=PAGE)
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in")

    dana = await world.user("dana", "detective")
    client = await sign_in_with_forms(world, dana)
    response = await client.get("/users", headers=PAGE)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "do not allow this page" in response.text and "user:manage" not in response.text
    assert (await client.get("/api/users", headers=PAGE)).headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "evil.example",
        "/\r\nSet-Cookie: a=b",
        "/ x",
        "/sign-in",
        "",
    ],
)
def test_a_return_path_is_a_local_path_only(target: str) -> None:
    assert local_path(target) is None


async def test_signing_in_comes_back_to_the_page_asked_for_and_never_elsewhere(world: World) -> None:
    assert local_path("/reviews?view=week&date=2026-03-30") == "/reviews?view=week&date=2026-03-30"
    dana = await world.user("dana", "detective")
    client = world.client()
    response = await client.get("/reviews?view=week", headers=PAGE)
    assert response.status_code == 303
    back = "/sign-in?next=%2Freviews%3Fview%3Dweek"
    assert response.headers["location"] == back
    assert 'name="next" value="/reviews?view=week"' in (await client.get(back)).text

    async def sign_in(next_: str) -> str:
        client = world.client()
        response = await post_form(
            client, "/sign-in", {"username": "dana", "password": dana.password, "next": next_}, form_on="/sign-in"
        )
        assert response.status_code == 303, response.text
        code_page = response.headers["location"]
        response = await post_form(
            client, "/sign-in/code", {"totp_code": world.code(dana), "next": next_}, form_on=code_page
        )
        assert response.status_code == 303, response.text
        world.clock.advance(timedelta(seconds=31))  # the next code is a fresh one
        return str(response.headers["location"])

    assert await sign_in("/reviews?view=week") == "/reviews?view=week"
    for elsewhere in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        assert await sign_in(elsewhere) == "/"
    page = await world.client().get("/sign-in?next=//evil.example")
    assert 'name="next"' not in page.text


async def test_a_failure_shows_a_page_with_the_reference_it_was_logged_under(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    dana = await world.user("dana", "detective")
    client = await sign_in_with_forms(world, dana)
    # A real failure: the table the page reads has gone (a botched manual change, say).
    await world.db.execute("ALTER TABLE investigations RENAME TO investigations_elsewhere")
    try:
        with caplog.at_level(logging.ERROR, logger="registry.app"):
            response = await client.get("/investigations", headers=PAGE)
    finally:
        await world.db.execute("ALTER TABLE investigations_elsewhere RENAME TO investigations")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    reference = response.headers["x-request-id"]
    assert f'<code class="reference">{reference}</code>' in response.text
    assert "investigations_elsewhere" not in response.text and "Traceback" not in response.text
    [logged] = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert logged.fields["request_id"] == reference  # type: ignore[attr-defined]

"""Helpers for driving the pages over plain HTTP and in the browser: the CSRF token a form
carries, sign-in through the forms, and setup through the JSON API."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.harness import Person, World
from tests.web.conftest import LiveServer

_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
# What a browser asks for: an error comes back as a page, not as problem+json.
PAGE = {"accept": "text/html,application/xhtml+xml"}


async def csrf_token(client: httpx.AsyncClient, path: str) -> str:
    """The token of the first form on `path` (its cookie lands in the client's jar)."""
    response = await client.get(path)
    assert response.status_code == 200, response.text
    match = _TOKEN.search(response.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], *, form_on: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    token = await csrf_token(client, form_on)
    return await client.post(path, data={"_csrf_token": token, **data}, headers=headers)


async def sign_in_with_forms(
    world: World, person: Person, client: httpx.AsyncClient | None = None
) -> httpx.AsyncClient:
    client = client or world.client()
    response = await post_form(
        client, "/sign-in", {"username": person.username, "password": person.password}, form_on="/sign-in"
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/sign-in/code"
    response = await post_form(client, "/sign-in/code", {"totp_code": world.code(person)}, form_on="/sign-in/code")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    return client


def justification(case_number: str, title: str = "Stolen catalytic converters resold online") -> dict[str, str]:
    return {
        "case_number": case_number,
        "title": title,
        "purpose": "Identify the sellers.",
        "necessity": "The sellers deal only with known buyers.",
        "proportionality": "One persona, one marketplace, ninety days.",
        "collateral_intrusion": "Other buyers' messages are not recorded.",
    }


async def persona_through_api(world: World, detective: Person, case_number: str = "2026-0001") -> dict[str, Any]:
    """An investigation opened by `detective` and a draft persona under it."""
    client = await world.signin(detective)
    response = await client.post("/api/investigations", json=justification(case_number))
    assert response.status_code == 201, response.text
    investigation = response.json()
    identity = {
        "alias_name": "Jamie Calloway",
        "date_of_birth": "1994-05-17",
        "location": "Springfield, Ohio",
        "legend": "Drives a forklift nights.",
    }
    response = await client.post("/api/personas", json={"investigation_id": investigation["id"], "identity": identity})
    assert response.status_code == 201, response.text
    persona: dict[str, Any] = response.json()
    return persona


async def sign_in_browser(page: Page, world: World, person: Person) -> None:
    """Sign in through the browser's forms: password, then a fresh authenticator code."""
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await page.get_by_label("Username").fill(person.username)
    await page.get_by_label("Password").fill(person.password)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Enter your authenticator code")).to_be_visible()
    await page.get_by_label("Code from your authenticator").fill(world.code(person))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name=re.compile("^Good day"))).to_be_visible()


@contextlib.asynccontextmanager
async def api_as(world: World, live: LiveServer, person: Person) -> AsyncIterator[httpx.AsyncClient]:
    """Setup through the JSON API of the served app, signed in as `person`."""
    async with httpx.AsyncClient(base_url=live.url) as client:
        yield await world.signin(person, client)

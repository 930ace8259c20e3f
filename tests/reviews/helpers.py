"""Shared setup for conduct review tests: the commander, the review on the calendar, time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.harness import Person, World
from tests.lifecycle.setup import Ready, later


async def commander(world: World, username: str = "cora") -> tuple[Person, httpx.AsyncClient]:
    person = await world.user(username, "commander")
    return person, await world.signin(person)


async def calendar(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/reviews", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


async def only_review(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    items = await calendar(client, **params)
    assert len(items) == 1, items
    return items[0]


async def move_on(r: Ready, cora: Person, cora_client: httpx.AsyncClient, delta: timedelta) -> None:
    """Time passes; everyone (the commander too) signs in again."""
    await later(r, delta)
    await r.t.world.signin(cora, cora_client)


def completion(review: dict[str, Any], held_on: str, outcome: str = "continue", **more: Any) -> dict[str, Any]:
    """A record of `review` held on `held_on`, its handler attending (and `attendees` too)."""
    attendees = [review["handler"]["id"], *more.pop("attendees", [])]
    notes = "Went through the chat logs; tone and scope in line with 003."
    return {"held_on": held_on, "attendees": attendees, "notes": notes, "outcome": outcome} | more

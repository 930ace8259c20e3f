"""The calendar feed: a secret URL a calendar application subscribes to, RFC 5545 as parsed by
a calendar library, with stable UIDs, codenames, case numbers and times only."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

import httpx
from icalendar import Calendar

from tests.personas.helpers import approved_persona, identity, team
from tests.reviews.helpers import commander, only_review


async def _subscribe(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/me/calendar-token")
    assert response.status_code == 201, response.text
    url: str = response.json()["url"]
    assert url.startswith("https://registry.test/calendar/") and url.endswith(".ics")
    return urlsplit(url).path


async def _events(world, path: str) -> list:
    # A calendar application fetches the URL with no session of ours.
    response = await world.client().get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


async def test_the_feed_holds_the_review_with_a_stable_uid_and_no_identity(world):
    _, cora_client = await commander(world)
    t = await team(world)
    persona = await approved_persona(t)
    review = await only_review(cora_client)
    path = await _subscribe(cora_client)

    [event] = await _events(world, path)

    assert str(event["uid"]) == f"conduct-review-{review['id']}@persona-registry"
    assert persona["codename"] in str(event["summary"])
    assert review["case_number"] in str(event["summary"])
    assert event.decoded("dtstart") == date(2026, 4, 1)
    response = await world.client().get(path)
    text = response.text.casefold()
    for secret in (*identity().values(), "dana", "Dana"):
        if isinstance(secret, str):
            assert secret.casefold() not in text, secret


async def test_a_rescheduled_review_keeps_its_uid_with_a_higher_sequence_and_new_time(world):
    _, cora_client = await commander(world)
    t = await team(world)
    await approved_persona(t)
    review = await only_review(t.dana)
    path = await _subscribe(cora_client)
    [before] = await _events(world, path)

    moved = await t.dana.patch(f"/api/reviews/{review['id']}", json={"scheduled_for": "2026-03-27T14:30:00Z"})
    assert moved.status_code == 200, moved.text
    [after] = await _events(world, path)

    assert str(after["uid"]) == str(before["uid"])
    assert int(after["sequence"]) > int(before["sequence"])
    start = after.decoded("dtstart")
    assert isinstance(start, datetime)
    assert start.isoformat() == "2026-03-27T14:30:00+00:00"
    assert (after.decoded("dtend") - start).total_seconds() == 3600


async def test_a_rotated_token_kills_the_old_url(world):
    _, cora_client = await commander(world)
    old = await _subscribe(cora_client)
    new = await _subscribe(cora_client)

    assert (await world.client().get(old)).status_code == 404
    assert (await world.client().get(new)).status_code == 200


async def test_a_disabled_users_feed_stops_and_a_made_up_one_is_404(world):
    cora, cora_client = await commander(world)
    path = await _subscribe(cora_client)
    admin = await world.user("ada", "administrator")
    admin_client = await world.signin(admin)

    response = await admin_client.patch(f"/api/users/{cora.id}", json={"active": False})

    assert response.status_code == 200, response.text
    assert (await world.client().get(path)).status_code == 404
    assert (await world.client().get("/calendar/not-a-token.ics")).status_code == 404
    assert (await world.client().get(path.removesuffix(".ics"))).status_code == 404


async def test_a_handlers_feed_holds_only_their_own_reviews(world):
    t = await team(world)
    await approved_persona(t)
    kim = await world.user("kim", "detective")
    kim_client = await world.signin(kim)

    assert len(await _events(world, await _subscribe(t.dana))) == 1
    assert await _events(world, await _subscribe(kim_client)) == []


async def test_a_feed_stops_once_its_owner_may_no_longer_read_the_calendar(world):
    t = await team(world)
    await approved_persona(t)
    cora, cora_client = await commander(world)
    path = await _subscribe(cora_client)
    assert len(await _events(world, path)) == 1
    admin = await world.user("ada", "administrator")
    admin_client = await world.signin(admin)

    # Moved to the audit office: an auditor reads no conduct-review calendar.
    response = await admin_client.patch(f"/api/users/{cora.id}", json={"roles": ["auditor"]})

    assert response.status_code == 200, response.text
    assert (await world.client().get(path)).status_code == 404

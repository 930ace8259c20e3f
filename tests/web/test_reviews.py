"""The conduct review pages over plain HTTP: who sees which review, who is offered the record
form, errors beside the field with nothing written, and the calendar feed URL."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx

from tests.harness import POLICY, Person, World
from tests.lifecycle.setup import prepare
from tests.personas.helpers import (
    approved_persona,
    authorize_investigation,
    open_investigation,
    request_persona,
    second_team,
    team,
)
from tests.reviews.helpers import commander, only_review
from tests.web.pages import post_form

RECORD_FORM = 'action="/reviews/{}/record"'


async def test_a_handler_sees_their_own_review_and_an_outsider_gets_404(world: World) -> None:
    t = await team(world)
    persona = await approved_persona(t)
    review = await only_review(t.dana)
    _, erin, _ = await second_team(world, t)

    page = await t.dana.get("/reviews")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert f'href="/reviews/{review["id"]}"' in page.text
    assert persona["codename"] in page.text
    week = await t.dana.get("/reviews", params={"view": "week", "date": "2026-03-30"})
    assert f'href="/reviews/{review["id"]}"' in week.text
    assert "date=2026-03-23" in week.text and "date=2026-04-06" in week.text

    theirs = await erin.get("/reviews", params={"date": "2026-04-01"})
    assert theirs.status_code == 200
    assert review["id"] not in theirs.text
    assert persona["codename"] not in theirs.text
    response = await erin.get(f"/reviews/{review['id']}")
    assert response.status_code == 404
    assert persona["codename"] not in response.text


async def test_only_a_commander_not_under_review_is_offered_the_record_form(world: World) -> None:
    _, cora = await commander(world)
    t = await team(world)
    await approved_persona(t)
    review = await only_review(t.dana)

    for client in (t.dana, t.sam):
        page = await client.get(f"/reviews/{review['id']}")
        assert page.status_code == 200
        assert RECORD_FORM.format(review["id"]) not in page.text
        assert 'action="/reviews/{}/reschedule"'.format(review["id"]) in page.text
    page = await cora.get(f"/reviews/{review['id']}")
    assert RECORD_FORM.format(review["id"]) in page.text
    # The meeting is held with the handler: ticked to begin with.
    assert f'value="{t.detective.id}" checked' in page.text
    assert "Activity since approval" in page.text


async def test_a_commander_under_review_is_told_another_commander_must_hold_it(world: World) -> None:
    t = await team(world)
    kim = await world.user("kim", "detective", "commander")
    kim_client = await world.signin(kim)
    inv = await open_investigation(kim_client)
    await authorize_investigation(world, t.official, t.alex, inv)
    persona = await request_persona(kim_client, inv, "Rory Vale")
    assert (await kim_client.post(f"/api/personas/{persona['id']}/submit")).status_code == 200
    approved = await t.sam.post(f"/api/personas/{persona['id']}/approve", json={"totp_code": world.code(t.supervisor)})
    assert approved.status_code == 200, approved.text
    review = await only_review(kim_client)

    page = await kim_client.get(f"/reviews/{review['id']}")
    assert page.status_code == 200
    assert "another commander must hold and record it" in page.text
    assert RECORD_FORM.format(review["id"]) not in page.text


async def test_a_commander_records_a_review_through_the_form(world: World) -> None:
    _, cora = await commander(world)
    t = await team(world)
    await approved_persona(t)
    review = await only_review(t.dana)
    path = f"/reviews/{review['id']}"

    form = {
        "held_on": "2026-03-02",
        "attendees": [str(t.detective.id), str(t.supervisor.id)],
        "notes": "Chats in line with 003.",
        "outcome": "continue",
    }
    response = await post_form(cora, f"{path}/record", form, form_on=path)
    assert response.status_code == 303, response.text
    page = await cora.get(response.headers["location"])
    assert "Review recorded." in page.text
    assert "Chats in line with 003." in page.text
    assert re.search(r"Next review due <strong>2026-04-01</strong>", page.text)
    assert ['"outcome": "continue"' in e["details"] for e in await world.events("review.hold")] == [True]


async def test_a_handler_cannot_move_a_review_past_the_grace_and_is_told_why(world: World) -> None:
    t = await team(world)
    await approved_persona(t)
    review = await only_review(t.dana)
    path = f"/reviews/{review['id']}"

    response = await post_form(t.dana, f"{path}/reschedule", {"scheduled_for": "2026-05-20T10:00"}, form_on=path)
    assert response.status_code == 403
    assert 'id="e-reschedule.scheduled_for"' in response.text
    assert "only the investigations commander" in response.text
    response = await post_form(t.dana, f"{path}/reschedule", {"scheduled_for": "2026-03-30T10:00"}, form_on=path)
    assert response.status_code == 303
    assert (await only_review(t.dana))["scheduled_for"] == "2026-03-30T10:00:00Z"


async def test_the_feed_page_gives_a_url_that_serves_a_calendar(world: World) -> None:
    _, cora = await commander(world)
    page = await cora.get("/reviews/feed")
    assert page.status_code == 200
    assert "/calendar/" not in page.text
    response = await post_form(cora, "/reviews/feed", {}, form_on="/reviews/feed")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    match = re.search(r'value="(http[^"]+/calendar/[^"]+\.ics)"', response.text)
    assert match, response.text
    feed = await world.client().get(match.group(1))
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")


async def _again(world: World, days: int, *people: tuple[Person, httpx.AsyncClient]) -> None:
    """Time passes; sessions have lapsed meanwhile, so everyone signs in again."""
    world.clock.advance(timedelta(days=days))
    for person, client in people:
        await world.signin(person, client)


def _needs_action(page: str) -> str:
    found = re.search(r'<section class="panel needs-action".*?</section>', page, re.S)
    assert found, "no needs-action section"
    return found.group(0)


async def test_the_calendar_opens_on_what_needs_action_in_words_due_soon_then_in_grace_then_overdue(
    world: World,
) -> None:
    cora, cora_client = await commander(world)
    t = await team(world)
    persona = await approved_persona(t)  # 2026-03-02: the review is due 2026-04-01
    everyone = ((cora, cora_client), (t.detective, t.dana))
    review = await only_review(cora_client)
    assert (review["standing"], review["overdue_after"]) == ("upcoming", "2026-04-08")
    assert "Nothing overdue, in grace or due soon." in _needs_action((await cora_client.get("/reviews")).text)

    await _again(world, 25, *everyone)  # 2026-03-27: within the reminder window
    section = _needs_action((await cora_client.get("/reviews")).text)
    assert '<span class="status due_soon">due soon</span>' in section
    assert f'href="/reviews/{review["id"]}"' in section

    await _again(world, 9, *everyone)  # 2026-04-05: past due, inside the grace
    review = await only_review(cora_client)
    # The API's status keeps its meaning; the standing tells the grace apart.
    assert (review["status"], review["standing"]) == ("due_soon", "in_grace")
    section = _needs_action((await cora_client.get("/reviews")).text)
    assert '<span class="status in_grace">in grace</span>' in section and "due soon" not in section
    assert "overdue after 2026-04-08" in section

    # May: the review was due last month and is past its grace. Opening the calendar shows it
    # first, and the month marks it although it falls in April.
    await _again(world, 28, *everyone)  # 2026-05-03
    page = (await cora_client.get("/reviews")).text
    section = _needs_action(page)
    assert "overdue</span>" in section and persona["codename"] in section
    assert f'href="/reviews/{review["id"]}"' in section
    assert "Still open from before this month" in page
    assert "No conduct reviews in this month" not in page
    [pressing] = (await cora_client.get("/api/reviews/needs-action")).json()
    assert (pressing["id"], pressing["standing"], pressing["status"]) == (review["id"], "overdue", "overdue")
    # The handler's overview says so beside the past date, in the same words.
    overview = (await t.dana.get("/")).text
    assert re.search(r"2026-04-01 <span class=\"status overdue\">.*?overdue</span>", overview)
    assert "Conduct reviews that need action" in overview


async def test_a_new_persona_has_no_conduct_review_until_it_is_approved(world: World) -> None:
    t = await team(world)
    await approved_persona(t)  # the handler already has a review for this investigation
    draft = await request_persona(t.dana, t.investigation_id, "Robin Ashdown")

    gate = (await t.dana.get(f"/api/personas/{draft['id']}/gate")).json()
    [review] = [c for c in gate["conditions"] if c["condition"] == "conduct_review_scheduled"]
    assert review["met"] is False
    page = (await t.dana.get(f"/personas/{draft['id']}")).text
    assert re.search(r"Conduct review scheduled</span> <span class=\"visually-hidden\">not met", page)
    listed = (await t.dana.get("/api/personas")).json()["items"]
    assert [p["next_review_due"] for p in listed if p["id"] == draft["id"]] == [None]


def _errors(page: str) -> dict[str, str]:
    """What each error beside a field says, and what the summary says, by input."""
    beside = dict(re.findall(r'<p class="error" id="e-([^"]+)">(.*?)</p>', page))
    summary = dict(re.findall(r'<li><a href="#f-([^"]+)">(.*?)</a></li>', page))
    assert set(beside) == set(summary), (beside, summary)
    return summary


async def test_the_record_form_shows_every_error_at_once_in_the_labels_words_and_writes_nothing(world: World) -> None:
    _, cora = await commander(world)
    t = await team(world)
    await approved_persona(t)
    review = await only_review(t.dana)
    path = f"/reviews/{review['id']}"

    form = {"held_on": "03/02/2026", "notes": " ", "findings": "Fine.", "outcome": "continue"}
    response = await post_form(cora, f"{path}/record", form, form_on=path)
    assert response.status_code == 400
    # What was typed comes back, so nothing has to be typed again.
    assert ">Fine.</textarea>" in response.text
    assert _errors(response.text) == {
        "record.held_on": "Held on: Enter a date as YYYY-MM-DD.",
        "record.notes": "Notes: This is required.",
        "record.attendees": "Attended: This is required.",
    }

    corrective = {"held_on": "2026-03-02", "notes": "Scope crept.", "outcome": "corrective_action"}
    response = await post_form(cora, f"{path}/record", corrective | {"attendees": str(t.detective.id)}, form_on=path)
    assert response.status_code == 400
    errors = _errors(response.text)
    assert set(errors) == {"record.actions", "record.follow_up_on"}
    assert errors["record.follow_up_on"].startswith("Follow-up review by: ")
    assert not any("_" in message for message in errors.values())
    # What a corrective action needs is said beside its label, not "(optional)".
    assert 'Actions, one per line <span class="optional">(needed for corrective action)</span>' in response.text
    assert await world.events("review.hold") == []


async def test_dormant_accounts_show_warming_due_and_the_day_they_are_old_enough(
    world: World, database_url: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    text = POLICY.read_text().replace("account_minimum_age_days = 0", "account_minimum_age_days = 30")
    policy.write_text(text.replace("warming_interval_days = 0", "warming_interval_days = 7"))
    async with World.open(database_url, tmp_path / "w", world.clock.now(), policy_path=policy) as w:
        r = await prepare(w)
        today = w.clock.now().date()
        await r.t.dana.patch(f"/api/accounts/{r.account_id}", json={"created_on": today.isoformat()})
        opens = (today + timedelta(days=30)).isoformat()
        gate = (await r.t.dana.get(f"/api/personas/{r.pid}/gate")).json()
        [age] = [c for c in gate["conditions"] if c["condition"] == "account_old_enough"]
        assert (age["met"], age["met_on"]) == (False, opens)
        [listed] = (await r.t.dana.get("/api/personas")).json()["items"]
        assert listed["account_age_opens_on"] == opens

        w.clock.advance(timedelta(days=8))  # the week's warming activity is now due
        await w.signin(r.t.detective, r.t.dana)
        codename = r.persona["codename"]
        for page in ((await r.t.dana.get("/")).text, (await r.t.dana.get("/reviews?date=" + opens)).text):
            section = re.search(r'<section class="panel dormant".*?</section>', page, re.S)
            assert section, "no dormant accounts section"
            assert re.search(
                rf"{codename}.*?warming due</span> since {today + timedelta(days=7)}", section.group(0), re.S
            )
            assert re.search(rf"{codename}.*?too new</span> usable from {opens}", section.group(0), re.S)
        # The calendar's month puts the day the accounts come of age on that day.
        assert "accounts old enough to use" in page

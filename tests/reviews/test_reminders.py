"""Reminders before a review and notices when one is overdue, queued in the outbox with the
decision and delivered by email to a real SMTP server, once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiosmtpd.controller import Controller

from registry.settings import SmtpSettings
from tests.harness import Person, World
from tests.personas.helpers import approved_persona, identity, team
from tests.reviews.helpers import commander
from tests.smtp import Inbox, free_port


async def _with_email(world: World, admin: Any, person: Person, address: str) -> None:
    response = await admin.patch(f"/api/users/{person.id}", json={"email": address})
    assert response.status_code == 200, response.text
    assert response.json()["email"] == address


async def test_a_reminder_and_an_overdue_notice_reach_handler_and_commander_once(
    database_url, tmp_path, smtp_server
) -> None:
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="registry@police.example", security="none")
    async with World.open(database_url, tmp_path, _start(), smtp=smtp) as world:
        cora, _ = await commander(world)
        t = await team(world)
        persona = await approved_persona(t)  # review due 2026-04-01
        admin_client = await world.signin(await world.user("ada", "administrator"))
        await _with_email(world, admin_client, t.detective, "dana@police.example")
        await _with_email(world, admin_client, cora, "cora@police.example")

        assert (await world.jobs()).reminders == 0  # a month ahead: nothing yet
        world.clock.advance(timedelta(days=25))  # 2026-03-27: within the 7-day reminder window
        first = await world.jobs()
        again = await world.jobs()

        assert (first.reminders, first.mailed, again.reminders, again.mailed) == (1, 2, 0, 0)
        [to_dana] = inbox.to("dana@police.example")
        [to_cora] = inbox.to("cora@police.example")
        assert to_dana["From"] == "registry@police.example"
        assert persona["codename"] in to_dana["Subject"] and "2026-04-01" in to_dana["Subject"]
        assert to_dana.get_payload() == to_cora.get_payload()

        world.clock.advance(timedelta(days=13))  # 2026-04-09: past due plus grace
        overdue = await world.jobs()

        assert (overdue.overdue, overdue.mailed) == (1, 2)
        notice = inbox.to("dana@police.example")[-1]
        assert notice["Subject"].startswith("Conduct review overdue")
        assert "suspended" in notice.get_payload()
        # Mail leaves the confidential zone: codenames and times, no identity, no case details.
        text = "\n".join(str(m) for _, m in inbox.messages).casefold()
        for value in identity().values():
            if isinstance(value, str):
                assert value.casefold() not in text
        assert len(inbox.messages) == 4


async def test_mail_waits_in_the_outbox_while_the_server_is_down_and_goes_later(database_url, tmp_path) -> None:
    port = free_port()  # nothing listens here yet
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="registry@police.example", security="none")
    async with World.open(database_url, tmp_path, _start(), smtp=smtp) as world:
        t = await team(world)
        await approved_persona(t)
        admin_client = await world.signin(await world.user("ada", "administrator"))
        await _with_email(world, admin_client, t.detective, "dana@police.example")
        world.clock.advance(timedelta(days=25))

        down = await world.jobs()
        assert (down.reminders, down.mailed) == (1, 0)
        row = await world.db.fetchrow("SELECT attempts, last_error, delivered FROM outbox WHERE kind LIKE 'review_%'")
        assert (row["attempts"], row["delivered"]) == (1, None)
        assert row["last_error"] == "ConnectionRefusedError"

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            assert (await world.jobs()).mailed == 0  # not before its retry time
            world.clock.advance(timedelta(minutes=5))
            assert (await world.jobs()).mailed == 1
        finally:
            controller.stop()
        assert len(inbox.to("dana@police.example")) == 1


async def test_without_an_address_a_message_is_marked_and_not_retried(database_url, tmp_path, smtp_server) -> None:
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="registry@police.example", security="none")
    async with World.open(database_url, tmp_path, _start(), smtp=smtp) as world:
        t = await team(world)
        await approved_persona(t)
        world.clock.advance(timedelta(days=25))

        result = await world.jobs()

        assert (result.reminders, result.mailed) == (1, 0)
        assert await world.db.fetchval("SELECT delivered FROM outbox WHERE kind LIKE 'review_%'") == "no_address"
        assert inbox.messages == []


def _start() -> datetime:
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_postponed_review_is_reminded_again_before_its_new_date(database_url, tmp_path, smtp_server) -> None:
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="registry@police.example", security="none")
    async with World.open(database_url, tmp_path, _start(), smtp=smtp) as world:
        cora, cora_client = await commander(world)
        t = await team(world)
        await approved_persona(t)
        admin_client = await world.signin(await world.user("ada", "administrator"))
        await _with_email(world, admin_client, t.detective, "dana@police.example")
        world.clock.advance(timedelta(days=25))  # 2026-03-27
        assert (await world.jobs()).mailed == 1

        await world.signin(cora, cora_client)
        [review] = (await cora_client.get("/api/reviews")).json()
        moved = await cora_client.patch(f"/api/reviews/{review['id']}", json={"scheduled_for": "2026-04-20T10:00:00Z"})
        assert moved.status_code == 200, moved.text
        assert (await world.jobs()).reminders == 0  # 2026-04-20 is more than a week away
        world.clock.advance(timedelta(days=18))  # 2026-04-14

        assert (await world.jobs()).mailed == 1
        subjects = [m["Subject"] for m in inbox.to("dana@police.example")]
        assert [("2026-04-01" in s, "2026-04-20" in s) for s in subjects] == [(True, False), (False, True)]


async def test_mail_for_a_user_disabled_meanwhile_is_dropped(database_url, tmp_path) -> None:
    port = free_port()
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="registry@police.example", security="none")
    async with World.open(database_url, tmp_path, _start(), smtp=smtp) as world:
        t = await team(world)
        await approved_persona(t)
        ada = await world.user("ada", "administrator")
        admin_client = await world.signin(ada)
        await _with_email(world, admin_client, t.detective, "dana@police.example")
        world.clock.advance(timedelta(days=25))
        assert (await world.jobs()).mailed == 0  # the server is down: it waits
        await world.signin(ada, admin_client)
        assert (await admin_client.patch(f"/api/users/{t.detective.id}", json={"active": False})).status_code == 200

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            world.clock.advance(timedelta(minutes=5))
            assert (await world.jobs()).mailed == 0
        finally:
            controller.stop()
        assert inbox.messages == []
        assert await world.db.fetchval("SELECT delivered FROM outbox WHERE kind LIKE 'review_%'") == "dropped"

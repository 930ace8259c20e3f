"""Nobody learns of a request only by looking: a persona submitted for approval reaches the
supervisor's mailbox, an investigation and an account the authorizing official's, a
quarantined device the equipment officer's; codenames only, with the link to decide it."""

from __future__ import annotations

from registry.settings import SmtpSettings
from tests.harness import World
from tests.personas.helpers import identity, open_investigation, team


async def test_a_request_waiting_for_approval_reaches_the_supervisors_mailbox(
    world: World, database_url, tmp_path, smtp_server
) -> None:
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="registry@police.example", security="none")
    async with World.open(database_url, tmp_path / "w", world.clock.now(), smtp=smtp) as w:
        t = await team(w)
        await w.db.execute("UPDATE users SET email = username || '@police.example'")
        created = await t.dana.post(
            "/api/personas", json={"investigation_id": t.investigation_id, "identity": identity("Jamie Calloway")}
        )
        assert (await t.dana.post(f"/api/personas/{created.json()['id']}/submit")).status_code == 200
        await open_investigation(t.dana, "2026-MAIL")

        await w.jobs()

        [to_sam] = inbox.to("sam@police.example")
        codename = created.json()["codename"]
        assert codename in to_sam["Subject"]
        body = to_sam.get_payload(decode=True).decode()
        assert f"/personas/{created.json()['id']}#decide" in body
        assert "Calloway" not in body and "Calloway" not in to_sam["Subject"]
        # The handler is not asked to approve their own.
        assert inbox.to("dana@police.example") == []
        to_alex = inbox.to("alex@police.example")
        assert any("2026-MAIL" in m["Subject"] for m in to_alex)

"""A request borrows one pooled connection at a time (registry.db.pool.RequestConnection): its
session is checked on it, a handler that takes the request's connection runs on it, the writes
that outlive the handler's transaction follow on it, and a handler that waits (a password hash)
runs after it is given back. So a burst of requests larger than the pool is served, not stuck."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from tests.disclosure.helpers import export, worked_case
from tests.harness import World
from tests.personas.helpers import identity, request_persona, team
from tests.web.pages import csrf_token, sign_in_with_forms

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


async def test_a_burst_larger_than_the_pool_is_served_and_the_pool_is_whole_after(
    database_url: str, tmp_path: Path
) -> None:
    async with World.open(database_url, tmp_path, START, pool_max_size=2) as world:
        t = await team(world)
        persona = (await request_persona(t.dana, t.investigation_id))["id"]
        wrong = {
            "current_password": "not my password",
            "new_password": "copper kettle under amber rain",
            "totp_code": "000000",
        }
        calls = [
            # reads on the request's connection, outside a transaction
            *(t.dana.get(f"/api/personas/{persona}") for _ in range(6)),
            *(t.sam.get("/api/personas") for _ in range(4)),
            # writes in the request's transaction on it
            *(t.dana.patch(f"/api/personas/{persona}", json={"identity": identity()}) for _ in range(3)),
            # refusals, audited after the request's transaction (deferred) on the same connection
            *(t.dana.get("/api/users") for _ in range(3)),
            # password checks, which hold no connection while they hash
            *(t.sam.post("/api/me/password", json=wrong) for _ in range(3)),
            # a request that needs no connection after its session is checked
            *(t.alex.get("/api/me") for _ in range(3)),
        ]
        answers = await asyncio.wait_for(asyncio.gather(*calls), timeout=60)

        assert [a.status_code for a in answers] == [200] * 13 + [403] * 6 + [200] * 3, [a.text for a in answers]
        denied = [e for e in await world.events("access.denied") if e["actor_id"] == t.detective.id]
        assert len(denied) == 3
        refused = [e for e in await world.events("auth.password.change") if e["actor_id"] == t.supervisor.id]
        assert [e["outcome"] for e in refused] == ["failure"] * 3
        # Every connection went back: as many requests at once as the pool holds still pass.
        again = await asyncio.wait_for(
            asyncio.gather(t.dana.get(f"/api/personas/{persona}"), t.sam.get(f"/api/personas/{persona}")), timeout=10
        )
        assert [a.status_code for a in again] == [200, 200]


async def test_verifying_the_chain_from_its_page_holds_one_connection(database_url: str, tmp_path: Path) -> None:
    async with World.open(database_url, tmp_path, START, pool_max_size=2) as world:
        auditor = await world.user("aud", "auditor")
        client = await sign_in_with_forms(world, auditor)
        token = await csrf_token(client, "/audit")
        verifies = [client.post("/audit/verify", data={"_csrf_token": token}) for _ in range(4)]

        answers = await asyncio.wait_for(asyncio.gather(*verifies), timeout=30)

        assert [a.status_code for a in answers] == [200] * 4
        assert all("The chain holds" in a.text for a in answers)


async def test_slow_form_uploads_hold_no_connection_while_they_arrive(database_url: str, tmp_path: Path) -> None:
    async with World.open(database_url, tmp_path, START, pool_max_size=2) as world:
        t = await team(world)
        persona = (await request_persona(t.dana, t.investigation_id))["id"]
        browser = await sign_in_with_forms(world, t.supervisor)
        token = await csrf_token(browser, "/account")
        stalled: list[str] = []
        both_stalled, arrived = asyncio.Event(), asyncio.Event()

        async def slowly(field: str) -> AsyncIterator[bytes]:
            yield f"_csrf_token={token}&email=".encode()
            # The app has asked for the rest of the body: the upload is stalled mid-body.
            stalled.append(field)
            if len(stalled) == 2:
                both_stalled.set()
            await arrived.wait()
            yield field.encode()

        uploads = [
            asyncio.ensure_future(
                browser.post(
                    "/account/email",
                    content=slowly(f"sam{n}%40example.org"),
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
            )
            for n in range(2)
        ]
        await asyncio.wait_for(both_stalled.wait(), timeout=10)

        try:
            reads = await asyncio.wait_for(
                asyncio.gather(*(t.dana.get(f"/api/personas/{persona}") for _ in range(4))), timeout=10
            )
        finally:
            arrived.set()
        done = await asyncio.wait_for(asyncio.gather(*uploads), timeout=10)

        assert [r.status_code for r in reads] == [200] * 4
        assert [d.status_code for d in done] == [303, 303], [d.text for d in done]
        email = await world.db.fetchval("SELECT email FROM users WHERE id = $1", t.supervisor.id)
        assert email in {"sam0@example.org", "sam1@example.org"}


async def test_disclosure_packs_at_once_beyond_the_pool_are_all_made(database_url: str, tmp_path: Path) -> None:
    async with World.open(database_url, tmp_path, START, pool_max_size=2) as world:
        case = await worked_case(world)
        investigation = case.r.t.investigation_id
        page = await sign_in_with_forms(world, await world.user("avery", "auditor"))
        token = await csrf_token(page, "/disclosures")
        numbers = await world.db.fetchval("SELECT case_number FROM investigations WHERE id = $1", investigation)
        calls = [
            *(export(case.auditor, investigation_id=investigation) for _ in range(3)),
            *(page.post("/disclosures", data={"_csrf_token": token, "case_number": numbers}) for _ in range(2)),
        ]

        answers = await asyncio.wait_for(asyncio.gather(*calls), timeout=60)

        assert [a.status_code for a in answers] == [200] * 5, [a.text[:200] for a in answers]
        assert all(a.headers["content-type"] == "application/zip" for a in answers)
        assert len(await world.events("disclosure.create")) == 5


async def test_accounts_made_and_passwords_reset_at_once_beyond_the_pool(database_url: str, tmp_path: Path) -> None:
    async with World.open(database_url, tmp_path, START, pool_max_size=2) as world:
        root = await world.user("root", "administrator")
        admin = await sign_in_with_forms(world, root)
        api = await world.signin(root)
        forgetful = [await world.user(f"lou{n}", "detective") for n in range(2)]
        token = await csrf_token(admin, "/users")
        calls = [
            *(
                admin.post(
                    "/users",
                    data={
                        "_csrf_token": token,
                        "username": f"newbie{n}",
                        "display_name": f"New Bie {n}",
                        "roles": ["detective"],
                        "password": "correct horse battery staple",
                    },
                )
                for n in range(3)
            ),
            *(
                admin.post(
                    f"/users/{person.id}/reset-password",
                    data={"_csrf_token": token, "reason": "Forgot it over leave.", "password": "amber kettle rain 42"},
                )
                for person in forgetful
            ),
            *(
                api.post(
                    "/api/users",
                    json={
                        "username": f"apinew{n}",
                        "display_name": f"Api New {n}",
                        "roles": ["detective"],
                        "password": "correct horse battery staple",
                    },
                )
                for n in range(3)
            ),
        ]

        answers = await asyncio.wait_for(asyncio.gather(*calls), timeout=60)

        assert [a.status_code for a in answers] == [303] * 5 + [202] * 3, [a.text[:300] for a in answers]
        made = await world.db.fetchval("SELECT count(*) FROM users WHERE username ~ '^(newbie|apinew)'")
        assert made == 6
        assert len(await world.events("user.reset_password")) == 2

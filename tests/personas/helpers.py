"""Shared setup for the persona, investigation and account tests: a team with an authorized
investigation, documented identities, and personas brought to a given state through the API."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from tests.harness import Person, World

_cases = itertools.count(1)
_STEP = timedelta(seconds=30)


def identity(alias_name: str = "Jamie Calloway", **changes: Any) -> dict[str, Any]:
    """A valid documented identity; `changes` replace fields."""
    value: dict[str, Any] = {
        "alias_name": alias_name,
        "date_of_birth": "1994-05-17",
        "location": "Springfield, Ohio",
        "legend": f"{alias_name} drives a forklift nights and restores old motorbikes at weekends.",
        "photo_provenance": [
            {"source": "generated", "description": "synthetic portrait", "depicts_department_employee": False}
        ],
    }
    return value | changes


def justification(case_number: str | None = None) -> dict[str, str]:
    return {
        "case_number": case_number or f"2026-{next(_cases):04d}",
        "title": "Stolen catalytic converters resold online",
        "purpose": "Identify the sellers behind a resale ring.",
        "necessity": "Open-source searching has not identified them.",
        "proportionality": "Contact limited to the sellers' public marketplace listings.",
        "collateral_intrusion": "Buyers' messages are not read or kept.",
    }


@dataclass
class Team:
    """An authorized investigation opened by `detective`, with its supervisor and official
    signed in. Clients are named after the person they belong to."""

    world: World
    detective: Person
    dana: httpx.AsyncClient
    supervisor: Person
    sam: httpx.AsyncClient
    official: Person
    alex: httpx.AsyncClient
    investigation_id: str


async def open_investigation(client: httpx.AsyncClient, case_number: str | None = None) -> str:
    response = await client.post("/api/investigations", json=justification(case_number))
    assert response.status_code == 201, response.text
    investigation_id: str = response.json()["id"]
    return investigation_id


async def authorize_investigation(world: World, official: Person, client: httpx.AsyncClient, inv: str) -> None:
    response = await client.post(f"/api/investigations/{inv}/authorize", json={"totp_code": world.code(official)})
    assert response.status_code == 200, response.text


async def team(world: World) -> Team:
    dana = await world.user("dana", "detective")
    sam = await world.user("sam", "supervisor")
    alex = await world.user("alex", "authorizing_official")
    dana_client, sam_client, alex_client = (
        await world.signin(dana),
        await world.signin(sam),
        await world.signin(alex),
    )
    inv = await open_investigation(dana_client)
    await authorize_investigation(world, alex, alex_client, inv)
    return Team(world, dana, dana_client, sam, sam_client, alex, alex_client, inv)


async def second_team(world: World, t: Team, username: str = "erin") -> tuple[Person, httpx.AsyncClient, str]:
    """Another detective with an authorized investigation of their own (not Dana's)."""
    erin = await world.user(username, "detective")
    client = await world.signin(erin)
    inv = await open_investigation(client)
    await authorize_investigation(world, t.official, t.alex, inv)
    return erin, client, inv


async def request_persona(
    client: httpx.AsyncClient, investigation_id: str, alias_name: str = "Jamie Calloway", **body: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/personas", json={"investigation_id": investigation_id, "identity": identity(alias_name)} | body
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def submitted_persona(t: Team, alias_name: str = "Jamie Calloway") -> dict[str, Any]:
    created = await request_persona(t.dana, t.investigation_id, alias_name)
    response = await t.dana.post(f"/api/personas/{created['id']}/submit")
    assert response.status_code == 200, response.text
    return created


async def approved_persona(t: Team, alias_name: str = "Jamie Calloway") -> dict[str, Any]:
    created = await submitted_persona(t, alias_name)
    response = await t.sam.post(
        f"/api/personas/{created['id']}/approve", json={"totp_code": t.world.code(t.supervisor)}
    )
    assert response.status_code == 200, response.text
    return created


async def persona_row(world: World, persona_id: str) -> dict[str, Any]:
    """The persona's row as stored, identity ciphertext included."""
    row = await world.db.fetchrow("SELECT * FROM personas WHERE id = $1", uuid.UUID(persona_id))
    assert row is not None
    return dict(row)


async def signin_together(world: World, people: list[Person]) -> list[httpx.AsyncClient]:
    """Sign many people in at once, each with the code their authenticator shows now (one
    clock step on, so no code of theirs has been used before)."""
    world.clock.advance(_STEP)
    now = world.clock.now()

    async def one(person: Person) -> httpx.AsyncClient:
        client = world.client()
        response = await client.post("/api/auth/login", json={"username": person.username, "password": person.password})
        assert response.status_code == 200, response.text
        response = await client.post("/api/auth/mfa", json={"code": person.totp.at(now)})
        assert response.status_code == 200, response.text
        return client

    return list(await asyncio.gather(*(one(p) for p in people)))


def all_text(*responses: httpx.Response) -> str:
    return "\n".join(r.text for r in responses).casefold()


async def database_text(world: World) -> str:
    """Every row of every table of the application, as PostgreSQL prints it (a dump, in effect)."""
    tables = await world.db.fetch(
        "SELECT quote_ident(table_name) AS name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    parts = []
    for table in tables:
        rows = await world.db.fetch(f"SELECT t::text AS row FROM {table['name']} t")
        parts.extend(r["row"] for r in rows)
    return "\n".join(parts)


def hex_of(text: str) -> str:
    """How PostgreSQL prints these bytes inside a bytea value."""
    return text.encode().hex()


def wrong_code(world: World, person: Person) -> str:
    """Six digits the person's authenticator does not show now, nor a step either side."""
    now = world.clock.now()
    valid = {person.totp.at(now + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def event_details(row: asyncpg.Record) -> dict[str, Any]:
    """An audit row's details (the test connection has no jsonb codec)."""
    value: dict[str, Any] = json.loads(row["details"])
    return value

"""What the people running the service see: probes, metrics, the API document, request ids, logs."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from registry.db.migrate import discover
from registry.observability import JsonFormatter
from tests.harness import World


async def test_liveness_needs_nothing(world: World) -> None:
    response = await world.client().get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readiness_when_the_database_is_current(world: World) -> None:
    response = await world.client().get("/readyz")

    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readiness_reports_pending_migrations(world: World) -> None:
    first = discover()[0].name
    await world.db.execute("DELETE FROM schema_migrations WHERE name = $1", first)

    response = await world.client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["reason"] == "migrations pending"
    assert body["pending"] == [first]


async def test_readiness_reports_an_edited_migration(world: World) -> None:
    await world.db.execute("UPDATE schema_migrations SET checksum = 'not-the-file' WHERE version = 1")

    response = await world.client().get("/readyz")

    assert response.status_code == 503
    assert "0001_foundation.sql" in response.json()["reason"]


async def test_metrics_count_requests_by_route_template(world: World) -> None:
    admin = await world.signin(await world.user("ada", "administrator"))
    nobody = uuid.uuid4()
    assert (await admin.patch(f"/api/users/{nobody}", json={"active": False})).status_code == 404
    await world.client().get("/healthz")

    response = await world.client().get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'registry_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'registry_http_requests_total{method="PATCH",route="/api/users/{user_id}",status="404"}' in text
    assert "registry_http_request_seconds_bucket" in text
    assert str(nobody) not in text


async def test_the_openapi_document_is_served_without_a_session(world: World) -> None:
    response = await world.client().get("/schema/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/auth/login", "/api/auth/mfa", "/api/me", "/api/users", "/api/audit", "/readyz"):
        assert path in paths


async def test_every_answer_carries_a_fresh_request_id_and_security_headers(world: World) -> None:
    client = world.client()

    answers = [
        await client.get("/healthz"),
        await client.get("/healthz"),
        await client.get("/api/me"),
        await client.post("/api/auth/login", json={"username": "nobody", "password": "wrong"}),
    ]

    ids = [r.headers["x-request-id"] for r in answers]
    assert all(len(i) == 32 for i in ids)
    assert len(set(ids)) == len(ids)
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_request_logs_hold_allow_listed_fields_only(world: World, caplog: pytest.LogCaptureFixture) -> None:
    dana = await world.user("dana", "detective")
    wrong = "an unmistakable wrong password"

    with caplog.at_level(logging.INFO, logger="registry.http"):
        failed = await world.client().post("/api/auth/login", json={"username": "dana", "password": wrong})
        client = await world.signin(dana)
        await client.get("/api/me?token=in-the-query-string")

    records = [r for r in caplog.records if r.name == "registry.http"]
    assert len(records) >= 4
    lines = [JsonFormatter().format(r) for r in records]
    entries = [json.loads(line) for line in lines]
    allowed = {"ts", "level", "logger", "msg", "request_id", "method", "route", "status", "duration_ms", "user_id"}
    assert all(set(e) <= allowed for e in entries)
    assert entries[0]["request_id"] == failed.headers["x-request-id"]
    assert entries[0]["route"] == "/api/auth/login"
    assert entries[0]["status"] == 401
    assert entries[-1]["user_id"] == str(dana.id)
    text = "\n".join(lines)
    token = client.cookies["registry_session"]
    for secret in (wrong, dana.password, token, "in-the-query-string"):
        assert secret not in text


def test_the_formatter_drops_fields_outside_the_allow_list() -> None:
    record = logging.LogRecord("registry.test", logging.INFO, __file__, 1, "hello", None, None)
    record.fields = {"request_id": "abc", "password": "hunter2hunter2", "alias_name": "John Doe"}  # type: ignore[attr-defined]

    entry = json.loads(JsonFormatter().format(record))

    assert entry["request_id"] == "abc"
    assert "password" not in entry
    assert "alias_name" not in entry


async def test_an_unknown_route_still_carries_the_protective_headers(world: World) -> None:
    response = await world.client().get("/api/no-such-route")
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert len(response.headers["x-request-id"]) == 32

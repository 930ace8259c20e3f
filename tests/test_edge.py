"""The edge of the service, as a hostile client meets it: malformed paths and bodies get a clear
4xx (never a 500), JSON bodies must say they are JSON, and every answer carries the protective
headers (issue 11.7, 11.9, 11.12, 11.14)."""

from __future__ import annotations

import httpx
import pytest

from registry.edge import MAX_BODY, MAX_DEPTH
from tests.harness import World, details

LOGIN = {"username": "dana", "password": "velvet orchard signal ninety"}


async def _raw_get(client: httpx.AsyncClient, raw_path: str) -> httpx.Response:
    """A GET for a path exactly as given (httpx would otherwise resolve the dot segments)."""
    request = client.build_request("GET", "/")
    request.url = request.url.copy_with(raw_path=raw_path.encode())
    return await client.send(request)


async def test_ten_thousand_brackets_are_refused_without_a_session(world: World) -> None:
    response = await world.client().post(
        "/api/auth/login", content=b"[" * 10_000, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert f"more than {MAX_DEPTH} levels" in response.json()["detail"]


async def test_deep_nesting_is_refused_signed_in_too_and_writes_nothing(world: World) -> None:
    ada = await world.signin(await world.user("ada", "administrator"))
    body = (
        b'{"username": "bob", "display_name": "Bob", "roles": ["auditor"], "password": '
        + b"[" * 5000
        + b"]" * 5000
        + b"}"
    )

    response = await ada.post("/api/users", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert await world.db.fetchval("SELECT count(*) FROM users") == 1


async def test_brackets_inside_strings_are_text_not_nesting(world: World) -> None:
    await world.user("dana", "detective")
    password = "[" * 500 + '\\"{' * 100

    response = await world.client().post("/api/auth/login", json={"username": "dana", "password": password})

    assert response.status_code == 401  # checked as a password, not refused as nesting


async def test_a_body_over_the_limit_is_413_before_it_is_read(world: World) -> None:
    client = world.client()
    big = b'{"username": "dana", "password": "' + b"a" * MAX_BODY + b'"}'

    declared = await client.post("/api/auth/login", content=big, headers={"content-type": "application/json"})

    async def chunks() -> object:
        for _ in range(3):
            yield b"[" * (MAX_BODY // 2)

    streamed = await client.post("/api/auth/login", content=chunks(), headers={"content-type": "application/json"})  # type: ignore[arg-type]

    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert declared.headers["content-type"] == "application/problem+json"
    assert len(await world.events("auth.login")) == 0


@pytest.mark.parametrize("raw_path", ["/static/%00..%2F..%2Fetc%2Fpasswd", "/static/%00", "/static/a%00b.css"])
async def test_a_nul_in_a_static_path_is_not_found(world: World, raw_path: str) -> None:
    response = await _raw_get(world.client(), raw_path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_a_json_body_sent_as_anything_else_is_415(world: World, content_type: str | None) -> None:
    await world.user("dana", "detective")
    client = world.client()
    headers = {"content-type": content_type} if content_type else {}
    body = b'{"username": "dana", "password": "velvet orchard signal ninety"}'

    response = await client.post("/api/auth/login", content=body, headers=headers)

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert "application/json" in response.json()["detail"]
    assert "registry_session" not in response.cookies


async def test_a_cross_site_text_plain_post_changes_nothing_for_a_signed_in_user(world: World) -> None:
    """What a forged `<form enctype="text/plain">` would send with the victim's cookie."""
    ada = await world.signin(await world.user("ada", "administrator"))
    body = (
        b'{"username": "mallory", "display_name": "M", "roles": ["auditor"], "password": "copper lantern meadow forty"}'
    )

    forged = await ada.post("/api/users", content=body, headers={"content-type": "text/plain"})

    assert forged.status_code == 415
    assert await world.db.fetchval("SELECT count(*) FROM users WHERE username = 'mallory'") == 0
    assert (
        await ada.post("/api/users", content=body, headers={"content-type": "application/json; charset=utf-8"})
    ).status_code == 201


async def test_json_with_its_type_still_works(world: World) -> None:
    await world.user("dana", "detective")
    response = await world.client().post("/api/auth/login", json=LOGIN)
    assert response.status_code == 200


PROTECTIVE = {
    "permissions-policy": "camera=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "strict-transport-security": "max-age=",
}


async def test_every_answer_carries_the_protective_headers_and_a_cache_policy(world: World) -> None:
    client = world.client()
    answers = {
        "api": await client.get("/api/me"),
        "page": await client.get("/sign-in"),
        "error page": await client.get("/personas"),
        "not found": await client.get("/no-such-page"),
        "static": await client.get("/static/registry.css"),
        "static missing": await client.get("/static/nope.css"),
        "probe": await client.get("/healthz"),
        "document": await client.get("/schema/openapi.json"),
        "refused body": await client.post(
            "/api/auth/login", content=b"[" * 100, headers={"content-type": "application/json"}
        ),
    }

    for name, response in answers.items():
        for header, expected in PROTECTIVE.items():
            assert expected in response.headers.get(header, ""), (name, header)
        csp = response.headers["content-security-policy"]
        assert "form-action 'self'" in csp and "base-uri 'none'" in csp, name
        assert response.headers.get("cache-control"), name
    assert answers["static"].headers["cache-control"] == "no-cache"
    assert answers["static missing"].headers["cache-control"] == "no-store"
    assert answers["api"].headers["cache-control"] == "no-store"
    assert answers["not found"].headers["cache-control"] == "no-store"


async def test_no_hsts_over_plain_http(database_url: str, tmp_path: object) -> None:
    from datetime import UTC, datetime
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    async with World.open(database_url, tmp_path, datetime(2026, 3, 2, 9, tzinfo=UTC), cookie_secure=False) as plain:
        response = await plain.client().get("/healthz")
    assert "strict-transport-security" not in response.headers
    assert response.headers["cross-origin-opener-policy"] == "same-origin"


@pytest.mark.parametrize(
    ("method", "path", "allow"), [("DELETE", "/api/auth/login", "POST"), ("PUT", "/api/users", "GET, POST")]
)
async def test_a_method_not_allowed_says_which_are(world: World, method: str, path: str, allow: str) -> None:
    response = await world.client().request(method, path)

    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert set(allow.split(", ")) <= allowed
    assert response.headers["content-type"] == "application/problem+json"


async def test_refusals_at_the_edge_are_not_audited_as_sign_in_failures(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = world.client()
    for _ in range(6):
        await client.post("/api/auth/login", content=b"[" * 100, headers={"content-type": "application/json"})

    assert await world.db.fetchval("SELECT failed_attempts FROM users WHERE id = $1", dana.id) == 0
    assert [details(e) for e in await world.events("auth.login")] == []


async def test_a_client_that_leaves_mid_body_gets_no_answer_and_changes_nothing(world: World) -> None:
    dana = await world.user("dana", "detective")
    client = await world.signin(dana)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/account/email",
        "raw_path": b"/account/email",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"registry.test"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"transfer-encoding", b"chunked"),
            (b"cookie", cookie.encode()),
        ],
        "client": ("198.51.100.7", 50000),
        "server": ("registry.test", 80),
        "state": {},
    }
    messages = iter(
        [{"type": "http.request", "body": b"email=dana%40example.org", "more_body": True}, {"type": "http.disconnect"}]
    )
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return next(messages)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await world.app(scope, receive, send)  # type: ignore[arg-type]

    assert sent == []
    assert await world.db.fetchval("SELECT email FROM users WHERE id = $1", dana.id) is None

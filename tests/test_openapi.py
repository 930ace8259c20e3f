"""The OpenAPI document tells the truth: it is valid OpenAPI, errors are the problem details the
service sends, each operation lists the statuses it can answer and the content types it sends,
and a client made from the document alone can walk the main journey."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.harness import Person, World
from tests.openapi_client import DocumentClient
from tests.personas.helpers import identity, justification

PROBLEM = "application/problem+json"


@pytest.fixture
async def people(world: World) -> dict[str, Person]:
    roles = ("detective", "supervisor", "authorizing_official", "auditor")
    return {role: await world.user(role.replace("_", "-"), role) for role in roles}


async def _document(world: World) -> dict[str, Any]:
    response = await world.client().get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, item in document["paths"].items() for m, op in item.items()]


async def test_errors_are_documented_as_the_problem_details_the_service_sends(world: World) -> None:
    document = await _document(world)
    validate(document)  # valid OpenAPI 3.1, or this raises saying where not
    problem = document["components"]["schemas"]["Problem"]
    assert {"status", "title", "detail", "field", "unmet"} <= problem["properties"].keys()
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        for status, response in responses.items():
            if status.startswith("4"):
                assert response["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}, (
                    method,
                    path,
                    status,
                )
        if "requestBody" in operation:
            assert {"400", "404", "413", "415", "422"} <= responses.keys(), (method, path)
        if not path.startswith(("/healthz", "/readyz", "/calendar", "/api/auth/")):
            assert {"401", "403"} <= responses.keys(), (method, path)
    # Litestar's own error shape (status_code, extra) is nowhere: the service never sends it.
    assert '"status_code"' not in str(document).replace("'", '"')
    login = document["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"401", "429"} <= login.keys() and "Retry-After" in login["429"]["headers"]


async def test_the_feed_and_the_central_record_are_documented_as_sent(world: World, people: dict[str, Person]) -> None:
    document = await _document(world)
    feed = document["paths"]["/calendar/{feed_name}"]["get"]["responses"]["200"]["content"]
    record = document["paths"]["/api/central-record"]["get"]["responses"]["200"]["content"]
    assert list(feed) == ["text/calendar"]
    assert set(record) == {"application/json", "text/csv"}

    sam = DocumentClient(document, await world.signin(people["supervisor"]))
    url = (await sam.call("ApiMeCalendarTokenCalendarToken")).json()["url"]
    anyone = DocumentClient(document, world.client())
    response = await anyone.call("CalendarFeedNameCalendarFeed", path={"feed_name": url.rsplit("/", 1)[-1]})
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.text.startswith("BEGIN:VCALENDAR")

    auditor = DocumentClient(document, await world.signin(people["auditor"]))
    response = await auditor.call("ApiCentralRecordCentralRecord", headers={"accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    response = await auditor.call("ApiCentralRecordCentralRecord")
    assert response.headers["content-type"].startswith("application/json")


async def test_a_client_made_from_the_document_walks_the_main_journey(world: World, people: dict[str, Person]) -> None:
    document = await _document(world)
    dana, alex = people["detective"], people["authorizing_official"]

    async def signed_in(person: Person) -> DocumentClient:
        api = DocumentClient(document, world.client())
        answer = await api.call("ApiAuthLoginLogin", json={"username": person.username, "password": person.password})
        assert answer.json() == {"mfa": "verify"}
        await api.call("ApiAuthMfaMfa", json={"code": world.code(person)})
        return api

    nobody = DocumentClient(document, world.client())
    refused = await nobody.call("ApiPersonasListPersonas")
    assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM

    detective, official = await signed_in(dana), await signed_in(alex)
    opened = await detective.call("ApiInvestigationsCreate", json=justification())
    assert opened.status_code == 201
    investigation_id = opened.json()["id"]
    authorized = await official.call(
        "ApiInvestigationsInvestigationIdAuthorizeAuthorize",
        path={"investigation_id": investigation_id},
        json={"totp_code": world.code(alex)},
    )
    assert authorized.status_code == 200

    requested = await detective.call(
        "ApiPersonasCreatePersona", json={"investigation_id": investigation_id, "identity": identity()}
    )
    assert requested.status_code == 201
    persona_id = requested.json()["id"]
    read = await detective.call("ApiPersonasPersonaIdGetPersona", path={"persona_id": persona_id})
    assert read.status_code == 200 and read.json()["identity"]["alias_name"] == "Jamie Calloway"

    # A step its conditions refuse: a documented 409 naming every unmet condition.
    early = await detective.call("ApiPersonasPersonaIdActivateActivate", path={"persona_id": persona_id})
    assert early.status_code == 409 and early.json()["unmet"]

"""A client made from the OpenAPI document the service serves: operations are called by their
operation id, and every answer is checked against what the document says of that operation
(its statuses, content types, headers and body schemas)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.harness import BASE_URL

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


async def send(client: httpx.AsyncClient, case: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """Send a Schemathesis case through an httpx client (its cookie jar is the caller's session)."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["content"] = json.dumps(kwargs["json"]).encode()
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["content"] = data if isinstance(data, bytes) else str(data).encode()
    return await client.request(
        kwargs["method"], kwargs["url"], headers=kwargs.get("headers"), params=kwargs.get("params"), **body
    )


def broken(case: Any, response: httpx.Response) -> list[str]:
    """What in the answer the document does not allow (empty when it conforms)."""
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        return [str(e).strip().splitlines()[0] for e in group.exceptions]
    return []


class DocumentClient:
    def __init__(self, document: dict[str, Any], client: httpx.AsyncClient) -> None:
        self.schema = schemathesis.openapi.from_dict(document)
        self.client = client

    async def call(
        self,
        operation_id: str,
        *,
        path: dict[str, str] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        operation = self.schema.find_operation_by_id(operation_id)
        body = {} if json is None else {"body": json, "media_type": "application/json"}
        case = operation.Case(path_parameters=path or {}, **body)
        response = await send(self.client, case, headers)
        problems = broken(case, response)
        assert not problems, f"{operation_id} answered {response.status_code} against the document: {problems}"
        return response

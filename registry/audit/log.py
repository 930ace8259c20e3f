"""Reading the audit trail: the auditor's filtered, keyset-paged view and its CSV export.

A cursor is opaque to clients: `123` reads the events older than event 123 (a page's
`next_cursor`), `a123` those newer (its `prev_cursor`). The export carries what the log holds
(codenames, usernames, actions), never an identity: no event records one."""

from __future__ import annotations

import io
import re
from datetime import tzinfo
from typing import Any

import asyncpg
import msgspec

from registry import exports
from registry.audit import repo
from registry.audit.actions import Action
from registry.audit.schemas import AuditEvent, AuditFilter, AuditPage
from registry.audit.service import record
from registry.errors import BadRequest
from registry.runtime import RequestContext

_CURSOR = re.compile(r"(a?)([0-9]{1,18})")
# How many events one export holds at most; a wider view is refused, to narrow by date.
EXPORT_LIMIT = 100_000
_CHUNK = 2000
CSV_COLUMNS = (
    "id",
    "occurred_at",
    "actor",
    "actor_name",
    "action",
    "outcome",
    "target_type",
    "target_id",
    "target_name",
    "details",
    "request_id",
    "seq",
    "hash",
)


def _check(f: AuditFilter) -> None:
    if f.start and f.end and f.end < f.start:
        raise BadRequest("to must not be before from.", field="to")


def _events(rows: list[asyncpg.Record]) -> list[AuditEvent]:
    return [msgspec.convert(dict(r), AuditEvent) for r in rows]


async def page(conn: asyncpg.Connection, cursor: str | None, limit: int, f: AuditFilter) -> AuditPage:
    """One page of the filtered view, newest first, with cursors to the older and newer pages."""
    _check(f)
    match = _CURSOR.fullmatch(cursor) if cursor is not None else None
    if cursor is not None and match is None:
        raise BadRequest("cursor must be the next_cursor or prev_cursor of a previous page", field="cursor")
    newer = bool(match and match[1])
    at = int(match[2]) if match else None
    rows = await repo.page(conn, f, before_id=None if newer else at, after_id=at if newer else None, limit=limit + 1)
    more = len(rows) > limit
    items = _events(rows[:limit])
    if newer:
        items.reverse()
    older = (not newer and more) or (
        newer and bool(items) and await repo.any_beyond(conn, f, items[-1].id, newer=False)
    )
    newest = (newer and more) or (
        not newer and at is not None and bool(items) and await repo.any_beyond(conn, f, items[0].id, newer=True)
    )
    return AuditPage(
        items=items,
        next_cursor=str(items[-1].id) if older else None,
        prev_cursor=f"a{items[0].id}" if newest else None,
    )


def readable(details: dict[str, Any]) -> str:
    """An event's details as a person reads them: `key: value; key: value`, lists item by item."""
    return "; ".join(f"{str(k).replace('_', ' ')}: {_value(v)}" for k, v in details.items())


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return f"({readable(value)})"
    return str(value)


async def export(conn: asyncpg.Connection, ctx: RequestContext, f: AuditFilter, zone: tzinfo) -> str:
    """The whole filtered view as CSV, newest first, times in the department's zone; the export
    is itself audited, with its filters and size."""
    _check(f)
    out = io.StringIO()
    writer = exports.Writer(out)
    writer.writerow(CSV_COLUMNS)
    count, before = 0, None
    while True:
        rows = await repo.page(conn, f, before_id=before, after_id=None, limit=_CHUNK)
        count += len(rows)
        if count > EXPORT_LIMIT:
            raise BadRequest(
                f"The filtered view holds more than {EXPORT_LIMIT} events: narrow it (a shorter date range).",
                field="from",
            )
        for e in _events(rows):
            writer.writerow(
                [
                    e.id,
                    e.occurred_at.astimezone(zone).isoformat(),
                    e.actor or "",
                    e.actor_name or "",
                    e.action,
                    e.outcome,
                    e.target_type or "",
                    e.target_id or "",
                    e.target_name or "",
                    readable(e.details),
                    e.request_id or "",
                    "" if e.seq is None else e.seq,
                    e.hash or "",
                ]
            )
        if len(rows) < _CHUNK:
            break
        before = rows[-1]["id"]
    await record(conn, ctx, Action.AUDIT_EXPORT, details={"filters": f.given(), "events": count})
    return out.getvalue()

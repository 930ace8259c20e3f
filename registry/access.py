"""Need-to-know, written once as SQL and used by every query that touches a persona or an
investigation. Filtering happens in the database: a row the caller may not see is never
fetched, so a list cannot leak it and a lookup answers 404.

A persona is visible to its handler, to the investigation's team (members, the detective who
opened it among them) and to the unit chain. Requesting a persona grants nothing by itself:
after a handover the former handler keeps only what their place on the team gives them.
`persona_visible` says it as one condition, for lookups of known rows; `visible_personas`
says the same rule as index walks, for lists: an OR of EXISTS sub-queries cannot be
served by an index, so a list filtered by it walks every persona of the unit."""

from __future__ import annotations

from collections.abc import Sequence

# Newest first; every persona index ends in these columns, so each walk below is an index scan.
_NEWEST_FIRST = "ORDER BY p.created_at DESC, p.id DESC"


def _handles(persona: str, me: str) -> str:
    return f"{persona}.handler_id = {me}"


def _on_team(investigation_id: str, me: str) -> str:
    return f"""EXISTS (SELECT 1 FROM investigation_members nm
                    WHERE nm.investigation_id = {investigation_id} AND nm.user_id = {me})"""


def _sees_unit(me: str, unit_roles: str) -> str:
    return f"EXISTS (SELECT 1 FROM users nu WHERE nu.id = {me} AND nu.roles && {unit_roles}::text[])"


def persona_visible(persona: str, me: str, unit_roles: str) -> str:
    """SQL condition: the persona aliased `persona` is visible to user `me` (a parameter such
    as "$2"); `unit_roles` is the text[] parameter of roles that see the whole unit."""
    return f"""(
        {_handles(persona, me)}
        OR {_on_team(f"{persona}.investigation_id", me)}
        OR {_sees_unit(me, unit_roles)}
    )"""


def visible_personas(me: str, unit_roles: str, *, where: Sequence[str], limit: str) -> str:
    """SQL for a relation (id, created_at) of the newest `limit` personas visible to `me` that
    also meet every condition of `where` (on the alias `p`); the caller joins it to the columns
    it wants and orders them newest first again (a join keeps no order).

    The same rule as `persona_visible`, split into parts that are each one keyset walk of an
    index, stopped after `limit` rows: the unit chain walks the whole unit; anyone else walks
    the personas they handle, and each of their investigations' personas (one walk per
    investigation). The newest `limit` of the union are the newest `limit` visible; UNION drops
    a persona that is both handled and on the team."""
    filters = "".join(f" AND {w}" for w in where)
    unit = f"(SELECT {_sees_unit(me, unit_roles)})"
    return f"""(
        SELECT v.id, v.created_at FROM (
            (SELECT p.id, p.created_at FROM personas p WHERE {unit}{filters} {_NEWEST_FIRST} LIMIT {limit})
            UNION
            (SELECT p.id, p.created_at FROM personas p
              WHERE NOT {unit} AND {_handles("p", me)}{filters} {_NEWEST_FIRST} LIMIT {limit})
            UNION
            (SELECT t.id, t.created_at FROM investigation_members nm
               CROSS JOIN LATERAL (SELECT p.id, p.created_at FROM personas p
                                    WHERE p.investigation_id = nm.investigation_id{filters}
                                    {_NEWEST_FIRST} LIMIT {limit}) t
              WHERE NOT {unit} AND nm.user_id = {me})
        ) v
        ORDER BY v.created_at DESC, v.id DESC LIMIT {limit}
    )"""


def investigation_visible(investigation: str, me: str, unit_roles: str) -> str:
    return f"""(
        {investigation}.opened_by = {me}
        OR {_on_team(f"{investigation}.id", me)}
        OR {_sees_unit(me, unit_roles)}
    )"""


def review_visible(review: str, me: str, unit_roles: str) -> str:
    """A conduct review is seen by its handler and the unit chain (who hold and schedule it)."""
    return f"""(
        {review}.handler_id = {me}
        OR {_sees_unit(me, unit_roles)}
    )"""

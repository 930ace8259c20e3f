"""Need-to-know, written once as SQL and used by every query that touches a persona, an
investigation or a conduct review. Filtering happens in the database: a row the caller may
not see is never fetched, so a list cannot leak it and a lookup answers 404.

A persona is visible to its handler, to the investigation's team (members, the detective who
opened it among them) and to the unit chain: holders of the unit-wide roles (supervisor,
commander: RolePermissions.unit_wide_roles) see the investigations of their units and of every
unit below them, with their personas and conduct reviews. A user belongs to the units they are
a member of; a user with no membership belongs to the root unit, the whole department (so a
department that has not set units up works as one unit). Requesting a persona grants nothing
by itself: after a handover the former handler keeps only what their place on the team gives
them. Roles that weigh every investigation or account (the authorizing official:
RolePermissions.investigation_wide_roles, account_wide_roles) see those department-wide.

`persona_visible` says the rule as one condition, for lookups of known rows;
`visible_personas`, `visible_reviews` and `visible_open_reviews` say the same rule as index
walks, for lists: an OR of EXISTS sub-queries cannot be served by an index, so a list filtered
by it walks every row."""

from __future__ import annotations

from collections.abc import Sequence

# Newest first; every persona index ends in these columns, so each walk below is an index scan.
_NEWEST_FIRST = "ORDER BY p.created_at DESC, p.id DESC"


def member_units(user: str) -> str:
    """SQL for the ids of the units `user` (a column or parameter) belongs to: their
    memberships, or the root unit when they have none."""
    return f"""(SELECT um.unit_id FROM unit_members um WHERE um.user_id = {user}
                 UNION ALL
                SELECT ur.id FROM units ur
                 WHERE ur.parent_id IS NULL AND NOT EXISTS (SELECT 1 FROM unit_members um WHERE um.user_id = {user}))"""


def _and_below(start: str) -> str:
    """SQL for the ids of the units `start` (a SELECT of unit ids) names and every unit below
    them (units are few, the tree shallow)."""
    return f"""(WITH RECURSIVE below(id) AS (
                    {start}
                     UNION
                    SELECT uc.id FROM units uc JOIN below ON uc.parent_id = below.id)
                SELECT id FROM below)"""


def units_below(user: str) -> str:
    """SQL for the ids of the units `user` belongs to and every unit below them: what their
    place in the unit chain covers."""
    return _and_below(f"SELECT x.unit_id FROM {member_units(user)} x(unit_id)")


def branch(unit: str) -> str:
    """SQL for the ids of unit `unit` (a uuid parameter) and every unit below it."""
    return _and_below(f"SELECT {unit}::uuid")


def _holds(me: str, roles: str) -> str:
    return f"EXISTS (SELECT 1 FROM users nu WHERE nu.id = {me} AND nu.roles && {roles}::text[])"


def _handles(persona: str, me: str) -> str:
    return f"{persona}.handler_id = {me}"


def _on_team(investigation_id: str, me: str) -> str:
    return f"""EXISTS (SELECT 1 FROM investigation_members nm
                    WHERE nm.investigation_id = {investigation_id} AND nm.user_id = {me})"""


def in_chain(unit: str, me: str, unit_roles: str) -> str:
    """SQL condition: `me` is in the unit chain above unit `unit` (holds a role of the text[]
    parameter `unit_roles`, and `unit` is one of their units or below one)."""
    return f"({_holds(me, unit_roles)} AND {unit} IN {units_below(me)})"


def above(user: str, unit: str) -> str:
    """SQL condition: `user` (a users column) belongs to unit `unit` (a uuid parameter) or to a
    unit above it: who in the chain is told about that unit's personas. A NULL `unit` scopes
    nothing (a duty the whole department shares)."""
    return f"({unit}::uuid IS NULL OR {unit} IN {units_below(user)})"


def _wide(me: str, wide_roles: str | None) -> str:
    return f" OR {_holds(me, wide_roles)}" if wide_roles else ""


def persona_visible(persona: str, me: str, unit_roles: str, wide_roles: str | None = None) -> str:
    """SQL condition: the persona aliased `persona` is visible to user `me` (a parameter such
    as "$2"); `unit_roles` is the text[] parameter of the unit chain's roles; `wide_roles`, if
    given, of roles that see it department-wide (an account's authorizer)."""
    return f"""(
        {_handles(persona, me)}
        OR {_on_team(f"{persona}.investigation_id", me)}
        OR {in_chain(f"{persona}.unit_id", me, unit_roles)}{_wide(me, wide_roles)}
    )"""


def visible_personas(me: str, unit_roles: str, *, where: Sequence[str], limit: str) -> str:
    """SQL for a relation (id, created_at) of the newest `limit` personas visible to `me` that
    also meet every condition of `where` (on the alias `p`); the caller joins it to the columns
    it wants and orders them newest first again (a join keeps no order).

    The same rule as `persona_visible`, split into parts that are each one keyset walk of an
    index, stopped after `limit` rows: the unit chain walks each of its units (one walk per
    unit, of personas_unit_page or personas_unit_status_page); anyone walks the personas they
    handle, and each of their investigations' personas (one walk per investigation). The
    newest `limit` of the walks are the newest `limit` visible.

    A persona reached twice (its handler's walk and its team's) is dropped by DISTINCT ON over
    the sort the ORDER BY needs anyway, not by UNION: a generic plan (registry.db.pool) cannot
    know how short each walk is, and sizes a UNION's hash table by its guess of every walk, a
    guess that grows with the table (2 MB at 10k personas, set up and cleared on every list)."""
    filters = "".join(f" AND {w}" for w in where)
    return f"""(
        SELECT DISTINCT ON (v.created_at, v.id) v.id, v.created_at FROM (
            (SELECT t.id, t.created_at FROM units su
               CROSS JOIN LATERAL (SELECT p.id, p.created_at FROM personas p
                                    WHERE p.unit_id = su.id{filters} {_NEWEST_FIRST} LIMIT {limit}) t
              WHERE (SELECT {_holds(me, unit_roles)}) AND su.id IN {units_below(me)})
            UNION ALL
            (SELECT p.id, p.created_at FROM personas p
              WHERE {_handles("p", me)}{filters} {_NEWEST_FIRST} LIMIT {limit})
            UNION ALL
            (SELECT t.id, t.created_at FROM investigation_members nm
               CROSS JOIN LATERAL (SELECT p.id, p.created_at FROM personas p
                                    WHERE p.investigation_id = nm.investigation_id{filters}
                                    {_NEWEST_FIRST} LIMIT {limit}) t
              WHERE nm.user_id = {me})
        ) v
        ORDER BY v.created_at DESC, v.id DESC LIMIT {limit}
    )"""


def investigation_visible(investigation: str, me: str, unit_roles: str, wide_roles: str | None = None) -> str:
    """The opener, the team, the unit chain of its unit; `wide_roles` see every investigation."""
    return f"""(
        {investigation}.opened_by = {me}
        OR {_on_team(f"{investigation}.id", me)}
        OR {in_chain(f"{investigation}.unit_id", me, unit_roles)}{_wide(me, wide_roles)}
    )"""


def review_visible(review: str, me: str, unit_roles: str) -> str:
    """A conduct review is seen by its handler and the unit chain of its investigation's unit
    (who hold and schedule it). A review covers one handler's personas in one investigation, so
    its unit is theirs: the chain that sees the personas sees their review."""
    return f"""(
        {review}.handler_id = {me}
        OR {in_chain(f"{review}.unit_id", me, unit_roles)}
    )"""


def visible_reviews(me: str, unit_roles: str, *, day: str, start: str, end: str) -> str:
    """SQL for the ids of the conduct reviews visible to `me` whose `day` (an expression over
    the alias `cr`, indexed with handler_id and unit_id) falls in [start, end]: the rule of
    `review_visible` as two index ranges, the handler's own and each unit's of the chain."""
    return f"""(
        SELECT cr.id FROM conduct_reviews cr WHERE cr.handler_id = {me} AND {day} BETWEEN {start} AND {end}
        UNION
        SELECT cr.id FROM units su JOIN conduct_reviews cr ON cr.unit_id = su.id AND {day} BETWEEN {start} AND {end}
         WHERE (SELECT {_holds(me, unit_roles)}) AND su.id IN {units_below(me)}
    )"""


def visible_open_reviews(me: str, unit_roles: str, *, due_by: str | None = None, limit: str | None = None) -> str:
    """SQL for a relation (id, due_on) of the open conduct reviews visible to `me`, due on or
    before `due_by` if given: the rule of `review_visible` as two index ranges by due day, the
    handler's own (conduct_reviews_handler_open) and each unit's of the chain (conduct_reviews_unit_open).
    With `limit`, each range stops after that many, the earliest due: the oldest open review is
    the first of `limit` 1. UNION drops a review reached twice."""
    bound = f" AND cr.due_on <= {due_by}" if due_by is not None else ""
    first = f" ORDER BY cr.due_on LIMIT {limit}" if limit is not None else ""
    return f"""(
        (SELECT cr.id, cr.due_on FROM conduct_reviews cr
          WHERE cr.handler_id = {me} AND cr.status = 'open'{bound}{first})
        UNION
        (SELECT t.id, t.due_on FROM units su
           CROSS JOIN LATERAL (SELECT cr.id, cr.due_on FROM conduct_reviews cr
                                WHERE cr.unit_id = su.id AND cr.status = 'open'{bound}{first}) t
          WHERE (SELECT {_holds(me, unit_roles)}) AND su.id IN {units_below(me)})
    )"""

"""Need-to-know, written once as SQL and used by every query that touches a persona or an
investigation. Filtering happens in the database: a row the caller may not see is never
fetched, so a list cannot leak it and a lookup answers 404."""

from __future__ import annotations


def persona_visible(persona: str, me: str, unit_roles: str) -> str:
    """SQL condition: the persona aliased `persona` is visible to user `me` (a parameter such
    as "$2"); `unit_roles` is the text[] parameter of roles that see the whole unit.

    Its handler, the investigation's team (members, the detective who opened it among them)
    and the unit chain. Requesting a persona grants nothing by itself: after a handover the
    former handler keeps only what their place on the team gives them."""
    return f"""(
        {persona}.handler_id = {me}
        OR EXISTS (SELECT 1 FROM investigation_members nm
                    WHERE nm.investigation_id = {persona}.investigation_id AND nm.user_id = {me})
        OR EXISTS (SELECT 1 FROM users nu WHERE nu.id = {me} AND nu.roles && {unit_roles}::text[])
    )"""


def investigation_visible(investigation: str, me: str, unit_roles: str) -> str:
    return f"""(
        {investigation}.opened_by = {me}
        OR EXISTS (SELECT 1 FROM investigation_members nm
                    WHERE nm.investigation_id = {investigation}.id AND nm.user_id = {me})
        OR EXISTS (SELECT 1 FROM users nu WHERE nu.id = {me} AND nu.roles && {unit_roles}::text[])
    )"""


def review_visible(review: str, me: str, unit_roles: str) -> str:
    """A conduct review is seen by its handler and the unit chain (who hold and schedule it)."""
    return f"""(
        {review}.handler_id = {me}
        OR EXISTS (SELECT 1 FROM users nu WHERE nu.id = {me} AND nu.roles && {unit_roles}::text[])
    )"""

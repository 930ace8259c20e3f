"""Least privilege in the database: what the service's own role may do.

The owner role runs the migrations and owns every table; the app role owns nothing, so it can
never ALTER a table, disable a trigger or drop anything. `registry migrate` ends by granting it,
afresh from the catalog every time, so tables added by any later migration are covered too:

- every table: SELECT, INSERT, UPDATE, DELETE; never TRUNCATE, REFERENCES or TRIGGER;
- an append-only table (one that carries a trigger running `refuse_change()` or
  `audit_refuse_change()`, as the audit log, the activity log, inspections and ToS reviews do):
  SELECT and INSERT only, so refusing its history is the database's privilege system and not
  only a trigger its owner could disable;
- the migration ledger: SELECT (readiness compares it with the code);
- sequences: USAGE (bigserial defaults); functions: EXECUTE. `audit_seal()` is the only way the
  chain moves: it runs as its owner (SECURITY DEFINER, migration 0006) and nobody else may call it.

Re-granting is chosen over ALTER DEFAULT PRIVILEGES because a default cannot tell an
append-only table from another when the table is created.
"""

from __future__ import annotations

import asyncpg

from registry.errors import ConfigurationError

# The activity log's guard lets a key rotation re-seal summaries: the rotation runs as the owner.
_APPEND_ONLY_GUARDS = ("refuse_change", "audit_refuse_change", "activity_log_refuse_change")
_LEDGER = "schema_migrations"

_TABLES = """
SELECT c.relname,
       EXISTS (SELECT 1
                 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                WHERE t.tgrelid = c.oid AND p.proname = ANY($2::text[])) AS append_only
  FROM pg_class c
 WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND c.relkind IN ('r', 'p', 'v')
 ORDER BY c.relname
"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def grant_app_role(conn: asyncpg.Connection, role: str) -> None:
    """Give `role` exactly the service's privileges on the schema the migrations created."""
    me = await conn.fetchval("SELECT current_user")
    found = await conn.fetchrow(
        "SELECT rolsuper, rolbypassrls, pg_has_role($1, $2, 'MEMBER') AS member FROM pg_roles WHERE rolname = $1",
        role,
        me,
    )
    if found is None:
        raise ConfigurationError(
            f"REGISTRY_DATABASE_APP_ROLE is {role!r}, and no such role exists: create it (LOGIN, nothing else) first"
        )
    if role == me or found["member"]:
        raise ConfigurationError(
            f"the app role {role!r} is, or is a member of, the role that runs migrations ({me!r}): "
            "it would own the tables. Run the service as a separate role"
        )
    if found["rolsuper"] or found["rolbypassrls"]:
        raise ConfigurationError(f"the app role {role!r} is a superuser or bypasses row security: it must be neither")
    schema: str = await conn.fetchval(
        "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
        _LEDGER,
    )
    tables = await conn.fetch(_TABLES, schema, list(_APPEND_ONLY_GUARDS))
    r, s = _ident(role), _ident(schema)
    async with conn.transaction():
        await conn.execute(f"GRANT USAGE ON SCHEMA {s} TO {r}")
        await conn.execute(f"REVOKE CREATE ON SCHEMA {s} FROM {r}")
        await conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}")
        for table in tables:
            if table["relname"] == _LEDGER:
                privileges = "SELECT"
            elif table["append_only"]:
                privileges = "SELECT, INSERT"
            else:
                privileges = "SELECT, INSERT, UPDATE, DELETE"
            await conn.execute(f"GRANT {privileges} ON {s}.{_ident(table['relname'])} TO {r}")
        await conn.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {r}")
        await conn.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {s} TO {r}")

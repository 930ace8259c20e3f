-- Least privilege: the service may run as a role that owns nothing (registry/db/grants.py gives
-- it SELECT and INSERT only on the audit log). Sealing the chain is then the one change to
-- audit_event it can make, through audit_seal() running with its owner's rights. The search
-- path is pinned, temporary schema last, so no caller can put a look-alike table in its way.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_seal(integer) SECURITY DEFINER SET search_path = %I, pg_temp',
                   current_schema());
END
$$;
REVOKE EXECUTE ON FUNCTION audit_seal(integer) FROM PUBLIC;

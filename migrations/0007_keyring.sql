-- What the database knows about the secret key its confidential fields are sealed with.

-- One row, written at first start (registry.keys). `digest_key` is the key for digests of
-- high-entropy secrets (session tokens, recovery codes, calendar tokens), sealed under the
-- secret key: opening it at start-up is the key check, and because a rotation only re-seals
-- it, digests stay valid across rotations (their secrets are not stored, so they could not be
-- recomputed). `index_key_id` names the secret blind indexes (alias, handle) are built with.
CREATE TABLE keyring (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    digest_key    bytea NOT NULL,
    index_key_id  bytea NOT NULL,
    created_at    timestamptz NOT NULL,
    rotated_at    timestamptz
);
CREATE TRIGGER keyring_no_delete BEFORE DELETE ON keyring
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER keyring_no_truncate BEFORE TRUNCATE ON keyring
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The activity log stays append-only, except that a key rotation may re-seal a summary under
-- the new key: only `summary` changes, and only in a transaction that says it is re-keying.
CREATE FUNCTION activity_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('registry.rekeying', true) = 'on'
       AND to_jsonb(NEW) - 'summary' = to_jsonb(OLD) - 'summary'
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'activity_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER activity_log_append_only ON activity_log;
CREATE TRIGGER activity_log_append_only BEFORE UPDATE OR DELETE ON activity_log
    FOR EACH ROW EXECUTE FUNCTION activity_log_refuse_change();

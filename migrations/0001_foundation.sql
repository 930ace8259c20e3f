-- Users, sessions, MFA and the tamper-evident audit log.

CREATE TABLE users (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username         text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    display_name     text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    roles            text[] NOT NULL DEFAULT '{}' CHECK (roles <@ ARRAY[
                         'detective', 'supervisor', 'authorizing_official', 'commander',
                         'equipment_officer', 'legal', 'auditor', 'administrator']::text[]),
    password_hash    text NOT NULL,
    active           boolean NOT NULL DEFAULT true,
    -- AES-256-GCM ciphertext of the TOTP secret; NULL until enrollment is confirmed.
    totp_secret      bytea,
    -- Secret offered at enrollment, not yet confirmed by a code.
    totp_pending     bytea,
    -- The last TOTP time step accepted: a code is good once (RFC 6238 5.2).
    totp_last_step   bigint,
    failed_attempts  integer NOT NULL DEFAULT 0,
    locked_at        timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (username);

CREATE TABLE recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    token_hash    bytea PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 'password': password checked, MFA still owed; 'full': MFA verified.
    stage         text NOT NULL CHECK (stage IN ('password', 'full')),
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    revoked_at    timestamptz,
    ip            text
);
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;

-- Audit: append-only, hash-chained.
--
-- A request writes its event in its own transaction (so the event exists if and only if the
-- change does). Chaining happens just after commit: audit_seal() takes committed, unsealed
-- events in order and gives each its place in the chain (seq) and its hash. Sealing after
-- commit keeps the chain's order the order in which events became visible, and lets many
-- requests write events at once instead of queueing on the chain's head.
CREATE TABLE audit_event (
    id           bigserial PRIMARY KEY,
    occurred_at  timestamptz NOT NULL,
    actor_id     uuid,
    actor        text,
    action       text NOT NULL,
    target_type  text,
    target_id    text,
    outcome      text NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
    ip           text,
    request_id   text,
    details      jsonb NOT NULL DEFAULT '{}',
    seq          bigint UNIQUE,
    prev_hash    bytea,
    hash         bytea
);
CREATE INDEX audit_event_unsealed ON audit_event (id) WHERE seq IS NULL;

CREATE TABLE audit_chain_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq        bigint NOT NULL,
    hash       bytea NOT NULL
);
INSERT INTO audit_chain_head (seq, hash) VALUES (0, sha256(''::bytea));

-- The exact text hashed for an event; the verifier recomputes it from the stored columns.
CREATE FUNCTION audit_canonical(e audit_event, chain_seq bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_array(
        chain_seq,
        to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        e.actor_id, e.actor, e.action, e.target_type, e.target_id, e.outcome,
        e.ip, e.request_id, e.details
    )::text
$$;

CREATE FUNCTION audit_seal(batch integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    head   audit_chain_head%ROWTYPE;
    e      audit_event%ROWTYPE;
    sealed integer := 0;
BEGIN
    -- The head's row lock serializes sealers across every instance of the service.
    SELECT * INTO head FROM audit_chain_head FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_chain_head is missing: the audit log has been tampered with';
    END IF;
    FOR e IN SELECT * FROM audit_event WHERE seq IS NULL ORDER BY id LIMIT batch LOOP
        head.seq := head.seq + 1;
        UPDATE audit_event
           SET seq = head.seq,
               prev_hash = head.hash,
               hash = sha256(head.hash || convert_to(audit_canonical(e, head.seq), 'UTF8'))
         WHERE id = e.id
        RETURNING hash INTO head.hash;
        sealed := sealed + 1;
    END LOOP;
    IF sealed > 0 THEN
        UPDATE audit_chain_head SET seq = head.seq, hash = head.hash;
    END IF;
    RETURN sealed;
END
$$;

-- Append-only: the only change ever allowed is sealing an unsealed event, once.
CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND (NEW.id, NEW.occurred_at, NEW.actor_id, NEW.actor, NEW.action, NEW.target_type,
            NEW.target_id, NEW.outcome, NEW.ip, NEW.request_id, NEW.details)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.occurred_at, OLD.actor_id, OLD.actor, OLD.action, OLD.target_type,
            OLD.target_id, OLD.outcome, OLD.ip, OLD.request_id, OLD.details)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
-- The chain's head is only ever moved forward by audit_seal().
CREATE FUNCTION refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Account lifecycle and two-person rules (issue 11): temporary passwords, enrollment that a
-- second person vouches for, role grants that read identities, and sign-in attempts counted
-- per client address.

-- A password an administrator set (a new account, a reset) works only to sign in and replace it.
ALTER TABLE users ADD COLUMN password_change_required boolean NOT NULL DEFAULT false;
-- Whether the enrolled authenticator can be trusted with roles that read identities: enrolled
-- with a code a second person handed over, or on an account made at the console. Accounts that
-- exist already were made at the console or by an administrator before this rule; they keep it.
ALTER TABLE users ADD COLUMN mfa_vouched boolean NOT NULL DEFAULT true;

-- The gate in front of an authenticator enrollment: while a row exists the password alone
-- cannot enroll. Unconfirmed (confirmed_at NULL): waiting for a second person. Confirmed: the
-- enrollment needs the one-time code they were given (its keyed digest here) before it expires.
CREATE TABLE enrollment_gates (
    user_id       uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    reason        text NOT NULL CHECK (reason IN ('new_account', 'mfa_reset', 'role_grant')),
    requested_by  uuid REFERENCES users (id),
    requested_at  timestamptz NOT NULL,
    confirmed_by  uuid REFERENCES users (id),
    confirmed_at  timestamptz,
    code_hash     bytea,
    expires_at    timestamptz,
    CHECK ((confirmed_at IS NULL) = (code_hash IS NULL) AND (code_hash IS NULL) = (expires_at IS NULL))
);

-- Roles that read identities, proposed by an administrator and held only once a second person
-- (the policy's confirming role) confirms with a fresh code.
CREATE TABLE role_grants (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Role names are checked where they land, by the users table's CHECK.
    roles         text[] NOT NULL CHECK (cardinality(roles) > 0),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'superseded')),
    proposed_by   uuid REFERENCES users (id),
    proposed_at   timestamptz NOT NULL,
    decided_by    uuid REFERENCES users (id),
    decided_at    timestamptz,
    CHECK (decided_by IS NULL OR decided_by <> user_id),
    CHECK (decided_by IS NULL OR proposed_by IS NULL OR decided_by <> proposed_by)
);
CREATE INDEX role_grants_pending ON role_grants (user_id) WHERE status = 'pending';

-- Failed password sign-ins per client address in the current window (policy [security]).
CREATE TABLE signin_address_attempts (
    address            text PRIMARY KEY,
    window_started_at  timestamptz NOT NULL,
    failures           integer NOT NULL CHECK (failures >= 0)
);

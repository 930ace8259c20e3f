-- Investigations, personas, their platform accounts, and the history the central record reads.

CREATE TABLE investigations (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_number           text NOT NULL UNIQUE,
    title                 text NOT NULL,
    purpose               text NOT NULL,
    necessity             text NOT NULL,
    proportionality       text NOT NULL,
    collateral_intrusion  text NOT NULL,
    status                text NOT NULL DEFAULT 'pending_authorization'
                          CHECK (status IN ('pending_authorization', 'authorized')),
    opened_by             uuid NOT NULL REFERENCES users (id),
    authorized_by         uuid REFERENCES users (id),
    authorized_at         timestamptz,
    authorized_until      timestamptz,
    authorization_note    text,
    created_at            timestamptz NOT NULL,
    -- 003 IV.B.1.a / IV.B.3.a: authorized by someone other than the person who asks.
    CONSTRAINT investigations_not_self_authorized CHECK (authorized_by IS NULL OR authorized_by <> opened_by),
    CONSTRAINT investigations_authorization_complete CHECK (
        (status = 'authorized') = (authorized_by IS NOT NULL AND authorized_until IS NOT NULL))
);

CREATE TABLE investigation_members (
    investigation_id  uuid NOT NULL REFERENCES investigations (id),
    user_id           uuid NOT NULL REFERENCES users (id),
    added_by          uuid NOT NULL REFERENCES users (id),
    added_at          timestamptz NOT NULL,
    PRIMARY KEY (investigation_id, user_id)
);
CREATE INDEX investigation_members_user ON investigation_members (user_id);

-- The platform catalog (terms-of-service reviews arrive with the equipment and gate work).
CREATE TABLE platforms (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    url         text NOT NULL,
    tos_url     text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX platforms_name ON platforms (lower(name));

CREATE TABLE personas (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    codename              text NOT NULL UNIQUE,
    investigation_id      uuid NOT NULL REFERENCES investigations (id),
    handler_id            uuid NOT NULL REFERENCES users (id),
    requested_by          uuid NOT NULL REFERENCES users (id),
    status                text NOT NULL DEFAULT 'draft' CHECK (status IN (
                              'draft', 'submitted', 'rejected', 'approved', 'active', 'suspended',
                              'retired', 'compromised')),
    -- AES-256-GCM of the documented identity (alias, date of birth, location, legend, photos).
    identity              bytea NOT NULL,
    -- Keyed blind index of the alias: exact-match deconfliction without the alias in clear.
    alias_index           bytea NOT NULL,
    review_interval_days  integer CHECK (review_interval_days > 0),
    approved_by           uuid REFERENCES users (id),
    approved_at           timestamptz,
    approval_expires_at   timestamptz,
    rejection_reason      text,
    -- The state a suspension interrupted, to return to on resume.
    suspended_from        text CHECK (suspended_from IN ('approved', 'active')),
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    CONSTRAINT personas_not_self_approved CHECK (
        approved_by IS NULL OR (approved_by <> requested_by AND approved_by <> handler_id))
);
-- Two live personas never carry the same alias (the race-proof half of deconfliction).
CREATE UNIQUE INDEX personas_live_alias ON personas (alias_index) WHERE status NOT IN ('retired', 'compromised');
-- The list's keyset, and the need-to-know paths into it.
CREATE INDEX personas_page ON personas (created_at DESC, id DESC);
CREATE INDEX personas_handler ON personas (handler_id, created_at DESC, id DESC);
CREATE INDEX personas_investigation ON personas (investigation_id, created_at DESC, id DESC);

CREATE TABLE platform_accounts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    persona_id      uuid NOT NULL REFERENCES personas (id),
    platform_id     uuid NOT NULL REFERENCES platforms (id),
    -- AES-256-GCM of {handle, profile_url, email, phone}.
    details         bytea NOT NULL,
    handle_index    bytea NOT NULL,
    -- Where the credentials are kept (a vault path), never the credentials.
    credential_ref  text,
    status          text NOT NULL DEFAULT 'requested'
                    CHECK (status IN ('requested', 'authorized', 'disabled', 'closed')),
    requested_by    uuid NOT NULL REFERENCES users (id),
    authorized_by   uuid REFERENCES users (id),
    authorized_at   timestamptz,
    status_note     text,
    created_at      timestamptz NOT NULL,
    CONSTRAINT accounts_not_self_authorized CHECK (authorized_by IS NULL OR authorized_by <> requested_by)
);
CREATE UNIQUE INDEX platform_accounts_live_handle ON platform_accounts (platform_id, handle_index)
    WHERE status IN ('requested', 'authorized');
CREATE INDEX platform_accounts_persona ON platform_accounts (persona_id);

-- What happened to each persona and when: the central record and the handover history.
CREATE TABLE persona_history (
    id          bigserial PRIMARY KEY,
    persona_id  uuid NOT NULL REFERENCES personas (id),
    at          timestamptz NOT NULL,
    action      text NOT NULL,
    actor_id    uuid REFERENCES users (id),
    -- Free text (reasons) and references (new handler); never identity fields.
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX persona_history_persona ON persona_history (persona_id, at);

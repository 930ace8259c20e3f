-- Department equipment and its isolation inspections (003 IV.B.2), terms-of-service reviews and
-- acknowledgements (003 IV.B.3.c), conduct review schedules the activation gate needs (IV.B.4),
-- and the activity log (IV.B.4).

CREATE TABLE equipment (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    asset_tag    text NOT NULL UNIQUE,
    kind         text NOT NULL CHECK (kind IN ('laptop', 'desktop', 'phone', 'tablet', 'other')),
    serial       text NOT NULL,
    make_model   text,
    -- 003 IV.B.2.a: department equipment only; anything else never enters the inventory.
    ownership    text NOT NULL CHECK (ownership = 'department'),
    status       text NOT NULL DEFAULT 'available'
                 CHECK (status IN ('available', 'assigned', 'quarantined', 'retired')),
    created_by   uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL
);

CREATE TABLE isolation_inspections (
    id                              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    equipment_id                    uuid NOT NULL REFERENCES equipment (id),
    inspected_at                    timestamptz NOT NULL,
    inspected_by                    uuid NOT NULL REFERENCES users (id),
    -- 003 IV.B.2.c
    on_department_network           boolean NOT NULL,
    -- 003 IV.B.2.b
    department_identifiers_present  boolean NOT NULL,
    attributable_connection         boolean NOT NULL,
    notes                           text,
    passed                          boolean GENERATED ALWAYS AS (
        NOT on_department_network AND NOT department_identifiers_present AND NOT attributable_connection) STORED,
    valid_until                     timestamptz NOT NULL
);
CREATE INDEX isolation_inspections_latest ON isolation_inspections (equipment_id, inspected_at DESC);

CREATE TABLE equipment_assignments (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    equipment_id   uuid NOT NULL REFERENCES equipment (id),
    persona_id     uuid NOT NULL REFERENCES personas (id),
    assigned_at    timestamptz NOT NULL,
    assigned_by    uuid NOT NULL REFERENCES users (id),
    released_at    timestamptz,
    released_by    uuid REFERENCES users (id),
    release_reason text
);
-- A device serves one persona at a time: two concurrent assignments cannot both commit.
CREATE UNIQUE INDEX equipment_one_live_assignment ON equipment_assignments (equipment_id) WHERE released_at IS NULL;
CREATE INDEX equipment_assignments_persona ON equipment_assignments (persona_id) WHERE released_at IS NULL;

CREATE TABLE tos_reviews (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform_id               uuid NOT NULL REFERENCES platforms (id),
    reviewed_on               date NOT NULL,
    tos_version               text NOT NULL,
    prohibits_false_identity  boolean NOT NULL,
    prohibits_automation      boolean NOT NULL,
    risk                      text NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
    notes                     text NOT NULL,
    reviewed_by               uuid NOT NULL REFERENCES users (id),
    created_at                timestamptz NOT NULL
);
CREATE INDEX tos_reviews_current ON tos_reviews (platform_id, reviewed_on DESC, created_at DESC);

CREATE TABLE tos_acknowledgements (
    persona_id       uuid NOT NULL REFERENCES personas (id),
    tos_review_id    uuid NOT NULL REFERENCES tos_reviews (id),
    handler_id       uuid NOT NULL REFERENCES users (id),
    acknowledged_at  timestamptz NOT NULL,
    PRIMARY KEY (persona_id, tos_review_id, handler_id)
);

-- One conduct review covers a handler's live personas in one investigation (003 IV.B.4).
CREATE TABLE conduct_reviews (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    investigation_id  uuid NOT NULL REFERENCES investigations (id),
    handler_id        uuid NOT NULL REFERENCES users (id),
    due_on            date NOT NULL,
    scheduled_for     timestamptz,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'held', 'cancelled')),
    created_at        timestamptz NOT NULL
);
-- At most one open review per handler and investigation.
CREATE UNIQUE INDEX conduct_reviews_one_open ON conduct_reviews (investigation_id, handler_id) WHERE status = 'open';

CREATE TABLE activity_log (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    persona_id     uuid NOT NULL REFERENCES personas (id),
    occurred_at    timestamptz NOT NULL,
    platform_id    uuid NOT NULL REFERENCES platforms (id),
    equipment_id   uuid NOT NULL REFERENCES equipment (id),
    -- AES-256-GCM: what the handler did may quote the persona's identity.
    summary        bytea NOT NULL,
    recorded_by    uuid NOT NULL REFERENCES users (id),
    recorded_at    timestamptz NOT NULL
);
CREATE INDEX activity_log_persona ON activity_log (persona_id, occurred_at DESC);

CREATE TRIGGER activity_log_append_only BEFORE UPDATE OR DELETE ON activity_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER isolation_inspections_append_only BEFORE UPDATE OR DELETE ON isolation_inspections
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER tos_reviews_append_only BEFORE UPDATE OR DELETE ON tos_reviews
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

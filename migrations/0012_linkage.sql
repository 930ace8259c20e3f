-- What links personas, so that when one is burned its siblings can be found before the
-- platform finds them: keyed digests only (a photo's file and its perceptual hash, recovery
-- contacts, a device's network egress), never the image or the value itself.

CREATE TABLE persona_photos (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    persona_id    uuid NOT NULL REFERENCES personas (id),
    -- Keyed digests of the file's SHA-256 and of its perceptual hash.
    file_index    bytea NOT NULL,
    look_index    bytea NOT NULL,
    added_by      uuid NOT NULL REFERENCES users (id),
    added_at      timestamptz NOT NULL
);
CREATE INDEX persona_photos_file ON persona_photos (file_index);
CREATE INDEX persona_photos_look ON persona_photos (look_index);
CREATE INDEX persona_photos_persona ON persona_photos (persona_id);

-- Recovery contacts, as keyed blind indexes beside the encrypted details.
ALTER TABLE platform_accounts ADD COLUMN email_index bytea, ADD COLUMN phone_index bytea;
CREATE INDEX platform_accounts_email ON platform_accounts (email_index) WHERE email_index IS NOT NULL;
CREATE INDEX platform_accounts_phone ON platform_accounts (phone_index) WHERE phone_index IS NOT NULL;

-- The network egress a device uses (a VPN exit, a hotspot), recorded at its inspection.
ALTER TABLE isolation_inspections ADD COLUMN egress_index bytea;

-- A supervisor's assessment of a persona linked to a burned one (keep, suspend, retire).
CREATE TABLE linkage_assessments (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    burned_id     uuid NOT NULL REFERENCES personas (id),
    linked_id     uuid NOT NULL REFERENCES personas (id),
    decision      text NOT NULL CHECK (decision IN ('keep', 'suspend', 'retire')),
    reason        text NOT NULL CHECK (length(reason) BETWEEN 3 AND 4000),
    links         jsonb NOT NULL,
    decided_by    uuid NOT NULL REFERENCES users (id),
    decided_at    timestamptz NOT NULL,
    CHECK (burned_id <> linked_id)
);
CREATE INDEX linkage_assessments_burned ON linkage_assessments (burned_id, linked_id);

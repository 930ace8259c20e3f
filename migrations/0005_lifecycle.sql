-- The policy holds while a persona is in use (003 IV.B.2, IV.B.3.b.2): versions that bind an
-- approval to what the supervisor saw, and the lapse and reminder messages of the sweep.

-- Every change of the documented identity moves the version; an approval names the version
-- it approved, and keeps the identity as approved so the next approver sees what changed.
ALTER TABLE personas
    ADD COLUMN version           integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN approved_version  integer CHECK (approved_version >= 1),
    -- AES-256-GCM, like `identity`: the identity as it was last approved.
    ADD COLUMN approved_identity bytea;

-- A suspended persona whose identity is edited stays suspended; on resume it goes back to
-- `submitted`, since the change still needs approval.
ALTER TABLE personas DROP CONSTRAINT personas_suspended_from_check;
ALTER TABLE personas ADD CONSTRAINT personas_suspended_from_check
    CHECK (suspended_from IN ('approved', 'active', 'submitted'));

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN (
    'review_reminder', 'review_overdue', 'approval_lapsing', 'authorization_lapsing', 'inspection_lapsing',
    'persona_lapsed'));

-- The lapse sweep walks active personas only.
CREATE INDEX personas_active ON personas (id) WHERE status = 'active';

-- Nobody learns of a request only by looking: what waits for a supervisor, the authorizing
-- official or the equipment officer reaches them through the outbox.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN (
    'review_reminder', 'review_overdue', 'approval_lapsing', 'authorization_lapsing', 'inspection_lapsing',
    'persona_lapsed', 'policy_review', 'request_waiting'));

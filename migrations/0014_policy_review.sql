-- 002 II: the policy is reviewed every year; the registry reminds administrators and legal.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN (
    'review_reminder', 'review_overdue', 'approval_lapsing', 'authorization_lapsing', 'inspection_lapsing',
    'persona_lapsed', 'policy_review'));

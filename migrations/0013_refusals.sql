-- Refusals are decisions too (issue: units and the department's records): the authorizing
-- official may refuse an investigation's use of false identities, and decline a site or
-- profile, each with a reason and a fresh code. A refused request is closed.

ALTER TABLE investigations DROP CONSTRAINT investigations_status_check;
ALTER TABLE investigations ADD CONSTRAINT investigations_status_check
    CHECK (status IN ('pending_authorization', 'authorized', 'refused'));
ALTER TABLE investigations DROP CONSTRAINT investigations_authorization_complete;
ALTER TABLE investigations ADD CONSTRAINT investigations_authorization_complete
    CHECK (status <> 'authorized' OR (authorized_by IS NOT NULL AND authorized_until IS NOT NULL));
ALTER TABLE investigations
    ADD COLUMN refused_by      uuid REFERENCES users (id),
    ADD COLUMN refused_at      timestamptz,
    ADD COLUMN refusal_reason  text CHECK (length(refusal_reason) BETWEEN 3 AND 4000),
    ADD CONSTRAINT investigations_not_self_refused CHECK (refused_by IS NULL OR refused_by <> opened_by),
    ADD CONSTRAINT investigations_refusal_complete CHECK (
        (status = 'refused') = (refused_by IS NOT NULL AND refusal_reason IS NOT NULL));

ALTER TABLE platform_accounts DROP CONSTRAINT platform_accounts_status_check;
ALTER TABLE platform_accounts ADD CONSTRAINT platform_accounts_status_check
    CHECK (status IN ('requested', 'authorized', 'disabled', 'closed', 'declined'));
ALTER TABLE platform_accounts
    ADD COLUMN declined_by  uuid REFERENCES users (id),
    ADD COLUMN declined_at  timestamptz,
    ADD CONSTRAINT accounts_not_self_declined CHECK (declined_by IS NULL OR declined_by <> requested_by);

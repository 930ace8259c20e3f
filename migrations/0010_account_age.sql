-- When each platform account was created on the site: a profile made last week is the first
-- thing a platform or a target notices, so the policy sets a minimum age before use.
ALTER TABLE platform_accounts ADD COLUMN created_on_site date;

-- Light activity that keeps a dormant account looking used ("warming") before operational use.
ALTER TABLE activity_log ADD COLUMN warming boolean NOT NULL DEFAULT false;

-- Conduct reviews held and recorded, the calendar feed, reminders (003 IV.B.4).

-- Where reminders go; optional (a user without one is reminded only on their calendar).
ALTER TABLE users ADD COLUMN email text CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254);
-- HMAC digest of the secret in the user's calendar feed URL; a new one replaces the old.
ALTER TABLE users ADD COLUMN calendar_token bytea;
CREATE UNIQUE INDEX users_calendar_token ON users (calendar_token) WHERE calendar_token IS NOT NULL;

ALTER TABLE conduct_reviews
    -- Bumped on every change a calendar subscriber should see (RFC 5545 SEQUENCE).
    ADD COLUMN revision      integer NOT NULL DEFAULT 0,
    ADD COLUMN updated_at    timestamptz,
    -- Set once, by the sweep that found the review past due plus grace.
    ADD COLUMN overdue_at    timestamptz,
    -- Set once, by the sweep that queued the reminder.
    ADD COLUMN reminded_at   timestamptz,
    ADD COLUMN held_on       date,
    ADD COLUMN attendees     uuid[],
    -- AES-256-GCM, the review id as associated data: what was said may touch identities.
    ADD COLUMN notes         bytea,
    ADD COLUMN findings      bytea,
    ADD COLUMN actions       bytea,
    ADD COLUMN follow_up_on  date,
    ADD COLUMN outcome       text CHECK (outcome IN ('continue', 'corrective_action', 'suspend', 'terminate')),
    ADD COLUMN recorded_by   uuid REFERENCES users (id),
    ADD COLUMN recorded_at   timestamptz,
    ADD CONSTRAINT conduct_reviews_held_recorded CHECK (
        (status = 'held') = (held_on IS NOT NULL AND outcome IS NOT NULL AND notes IS NOT NULL
                             AND recorded_by IS NOT NULL AND recorded_at IS NOT NULL)),
    ADD CONSTRAINT conduct_reviews_follow_up CHECK (
        (outcome = 'corrective_action') = (follow_up_on IS NOT NULL AND actions IS NOT NULL));

-- The sweeps look for open reviews by due date.
CREATE INDEX conduct_reviews_open_due ON conduct_reviews (due_on) WHERE status = 'open';
CREATE INDEX conduct_reviews_handler ON conduct_reviews (handler_id, due_on);

-- The personas a held review covered, as they were on the day (codenames are stable).
CREATE TABLE conduct_review_personas (
    review_id   uuid NOT NULL REFERENCES conduct_reviews (id),
    persona_id  uuid NOT NULL REFERENCES personas (id),
    PRIMARY KEY (review_id, persona_id)
);

-- Messages waiting to leave, written in the transaction that decided to send them. Delivery
-- claims rows with FOR UPDATE SKIP LOCKED, so each goes once whatever the number of instances.
CREATE TABLE outbox (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Makes queueing idempotent: one reminder per review and recipient, and so on.
    dedupe_key       text NOT NULL UNIQUE,
    kind             text NOT NULL CHECK (kind IN ('review_reminder', 'review_overdue')),
    recipient_id     uuid NOT NULL REFERENCES users (id),
    review_id        uuid REFERENCES conduct_reviews (id),
    -- Codenames, case numbers and times only: the message leaves the confidential zone.
    subject          text NOT NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    -- 'sent'; 'no_address' when the recipient has no email address; 'dropped' when, by the
    -- time it could go, the recipient was disabled or the review was no longer open.
    delivered        text CHECK (delivered IN ('sent', 'no_address', 'dropped')),
    delivered_at     timestamptz
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered IS NULL;

-- Units (issue 12.1): the department is a tree of units; each investigation belongs to one,
-- and the supervisor and commander chain sees the investigations of their units and the
-- units below (registry/access.py). A user with no membership belongs to the root unit, the
-- whole department: so every existing account keeps seeing what it saw, and nothing becomes
-- visible or invisible by this migration. Every existing investigation goes to the root.

CREATE TABLE units (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    parent_id   uuid REFERENCES units (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT units_not_own_parent CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX units_name ON units (lower(name));
-- Exactly one root: the department itself.
CREATE UNIQUE INDEX units_one_root ON units ((true)) WHERE parent_id IS NULL;
CREATE INDEX units_parent ON units (parent_id);

INSERT INTO units (name, parent_id) VALUES ('Department', NULL);

CREATE TABLE unit_members (
    unit_id   uuid NOT NULL REFERENCES units (id),
    user_id   uuid NOT NULL REFERENCES users (id),
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_id, user_id)
);
CREATE INDEX unit_members_user ON unit_members (user_id);

-- An investigation written without a unit (a console or a seed) belongs to the root, like a
-- user without a membership; the API always names one (registry/investigations/service.py).
ALTER TABLE investigations ADD COLUMN unit_id uuid REFERENCES units (id);
UPDATE investigations SET unit_id = (SELECT id FROM units WHERE parent_id IS NULL);
ALTER TABLE investigations ALTER COLUMN unit_id SET NOT NULL;
CREATE INDEX investigations_unit ON investigations (unit_id, created_at DESC, id DESC);

CREATE FUNCTION investigation_default_unit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.unit_id IS NULL THEN
        NEW.unit_id := (SELECT id FROM units WHERE parent_id IS NULL);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER investigations_default_unit BEFORE INSERT ON investigations
    FOR EACH ROW EXECUTE FUNCTION investigation_default_unit();

-- Personas and conduct reviews carry their investigation's unit, copied when they are written
-- (in the same statement, by trigger), so the unit chain's list and calendar are index walks.
-- An investigation never changes unit, nor a persona or review its investigation.
ALTER TABLE personas ADD COLUMN unit_id uuid REFERENCES units (id);
UPDATE personas p SET unit_id = i.unit_id FROM investigations i WHERE i.id = p.investigation_id;
ALTER TABLE personas ALTER COLUMN unit_id SET NOT NULL;
ALTER TABLE conduct_reviews ADD COLUMN unit_id uuid REFERENCES units (id);
UPDATE conduct_reviews r SET unit_id = i.unit_id FROM investigations i WHERE i.id = r.investigation_id;
ALTER TABLE conduct_reviews ALTER COLUMN unit_id SET NOT NULL;

CREATE FUNCTION copy_investigation_unit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.unit_id := (SELECT unit_id FROM investigations WHERE id = NEW.investigation_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER personas_unit BEFORE INSERT ON personas
    FOR EACH ROW EXECUTE FUNCTION copy_investigation_unit();
CREATE TRIGGER conduct_reviews_unit BEFORE INSERT ON conduct_reviews
    FOR EACH ROW EXECUTE FUNCTION copy_investigation_unit();

-- The unit chain's walks of registry.access.visible_personas (newest first, and by status),
-- one per unit. They replace the department-wide ones: left beside them, the planner may walk
-- the whole table newest first and filter by unit, reading every persona for a small unit.
CREATE INDEX personas_unit_page ON personas (unit_id, created_at DESC, id DESC);
CREATE INDEX personas_unit_status_page ON personas (unit_id, status, created_at DESC, id DESC);
DROP INDEX personas_page;
DROP INDEX personas_status_page;

-- The review calendar by the day a review sits on (registry/reviews/repo.py _DAY): the
-- handler's own and each unit's, each a range of one index.
CREATE INDEX conduct_reviews_unit_day
    ON conduct_reviews (unit_id, (coalesce(held_on, (scheduled_for AT TIME ZONE 'UTC')::date, due_on)));
CREATE INDEX conduct_reviews_handler_day
    ON conduct_reviews (handler_id, (coalesce(held_on, (scheduled_for AT TIME ZONE 'UTC')::date, due_on)));
